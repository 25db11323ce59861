package sr3

import (
	"slices"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
	"github.com/llm-platform/enforcement-auditor/rules/rbac"
)

// budgetConfigTamper (budget-config-tamper): an identity RBAC lets switch SR3 off with
// one request against a prod proxy: change its LiteLLM config ConfigMap (fail-open, the
// database, the budgets), its Deployment (args, env, the profile label), or the
// CloudNativePG Cluster beside it; or exec into its pods; or gain any of these by
// escalation.
func budgetConfigTamper(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-config-tamper", Control: auditor.SR3, Severity: auditor.SeverityCritical,
		Title: "An identity that is not a declared admin may switch fail-closed budgets off (RBAC)",
		Remediation: "Remove the grant from the binding the finding names (or narrow the role's rule); " +
			"if the identity administers the platform by design, declare it in rbac.admins (it is then reported at info).",
		Pass:   "no identity outside the declared admins may change the LiteLLM prod config, the proxy or its database",
		Inputs: slices.Concat(rbac.Inputs, proxyInputs, []string{auditor.ResourceCNPGClusters}),
		Needs:  rbac.Needs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		return rbac.Tamper(meta, cfg, s, v.budgetDoors(s))
	}}
}

// budgetDoors are SR3's doors for the prod proxies of this snapshot.
func (v *view) budgetDoors(s *auditor.Snapshot) []rbac.Door {
	change := []string{"update", "patch", "delete"}
	var config, deploy, db, exec []rbac.Action
	seen := map[rbac.Action]bool{}
	add := func(list *[]rbac.Action, a rbac.Action) {
		if !seen[a] {
			seen[a] = true
			*list = append(*list, a)
		}
	}
	for _, lp := range v.prod {
		for _, verb := range change {
			if lp.CM != nil {
				add(&config, rbac.Action{Verb: verb, Resource: "configmaps", Namespace: lp.CM.Namespace, Name: lp.CM.Name})
			}
			if lp.Deploy != nil {
				add(&deploy, rbac.Action{Verb: verb, Group: "apps", Resource: "deployments", Namespace: lp.Deploy.Namespace, Name: lp.Deploy.Name})
			}
			for _, u := range s.CustomObjects(cnpgGroup, "Cluster") {
				if u.GetNamespace() == lp.Namespace {
					add(&db, rbac.Action{Verb: verb, Group: cnpgGroup, Resource: "clusters", Namespace: u.GetNamespace(), Name: u.GetName()})
				}
			}
		}
		// kubectl exec is a create of pods/exec (a websocket GET is authorized as create
		// too, from Kubernetes 1.31); the pod's name changes with every rollout.
		add(&exec, rbac.Action{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: lp.Namespace})
	}
	return []rbac.Door{
		{ID: "litellm-config", What: "change or delete a prod LiteLLM proxy's config ConfigMap", Actions: config},
		{ID: "litellm-deployment", What: "change or delete a prod LiteLLM proxy's Deployment (args, env, profile)", Actions: deploy},
		{ID: "litellm-database", What: "change or delete the CloudNativePG Cluster beside a prod LiteLLM proxy", Actions: db},
		{ID: "litellm-exec", What: "exec into a prod LiteLLM proxy's pods", Actions: exec},
	}
}

// TamperDoors are SR3's doors in a snapshot, for the RBAC confirmation to ask about.
func TamperDoors(cfg auditor.Config) func(*auditor.Snapshot) []rbac.Door {
	views := newView(cfg, litellm.Parse)
	return func(s *auditor.Snapshot) []rbac.Door { return views.Of(s).budgetDoors(s) }
}
