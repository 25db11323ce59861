package sr2

import (
	"slices"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
	"github.com/llm-platform/enforcement-auditor/rules/rbac"
)

// gpuGateTamper (gpu-gate-tamper): an identity RBAC lets switch SR2 off with one request:
// unlabel a Kueue-managed namespace, create a PolicyException where Kyverno reads them,
// change or delete the gate policy (ClusterPolicy, ValidatingPolicy,
// ValidatingAdmissionPolicy and its bindings), Kyverno's webhook configurations or its
// admission controller Deployment (its flags), or start pods, GPU pods included, in a
// namespace the gate does not cover; or gain any of these by escalation.
func gpuGateTamper(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-gate-tamper", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "An identity that is not a declared admin may switch the GPU quota gate off (RBAC)",
		Remediation: "Remove the grant from the binding the finding names (or narrow the role's rule); " +
			"if the identity administers the platform by design, declare it in rbac.admins (it is then reported at info).",
		Pass:   "no identity outside the declared admins may change the GPU gate, its exceptions, its webhook or the namespaces it covers",
		Inputs: slices.Concat(rbac.Inputs, []string{auditor.ResourceDeployments, auditor.ResourceValidatingWebhookConfigurations, auditor.ResourceValidatingAdmissionBindings}),
		Needs:  rbac.Needs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		return rbac.Tamper(meta, cfg, s, v.gateDoors(cfg, s))
	}}
}

// gateDoors are SR2's doors in this snapshot.
func (v *view) gateDoors(cfg auditor.Config, s *auditor.Snapshot) []rbac.Door {
	change := []string{"update", "patch", "delete"}
	names := s.SortedNamespaceNames()
	managed := map[string]bool{}
	var unlabel, exceptions, gate, webhooks, controller, ungated []rbac.Action
	for _, ns := range v.managed {
		managed[ns.Name] = true
		unlabel = append(unlabel, rbac.NamespaceAction("patch", ns.Name), rbac.NamespaceAction("update", ns.Name))
	}
	// kyverno.io exceptions are read from --exceptionNamespace; policies.kyverno.io ones
	// too from Kyverno v1.17.2, from any namespace before (FactCELExceptionNamespace; the
	// rule gpu-gate-policy-exception reads them so too).
	honoured := v.kyverno().Exceptions()
	var classic []string
	switch {
	case honoured.Known && !honoured.Enabled:
		// none: turning them on is the admission controller's door
	case honoured.Known && honoured.Namespace != "*":
		classic = []string{honoured.Namespace}
	default:
		classic = names
	}
	for _, ns := range classic {
		exceptions = append(exceptions, rbac.Action{Verb: "create", Group: kyverno.Group, Resource: "policyexceptions", Namespace: ns})
	}
	cel := v.kyverno().CELExceptions()
	var celFrom []string
	switch {
	case cel.Known && !cel.Enabled:
		// none: turning them on is the admission controller's door
	case cel.Known && cel.Namespace != "*":
		celFrom = []string{cel.Namespace}
	default:
		celFrom = names
	}
	for _, ns := range celFrom {
		exceptions = append(exceptions, rbac.Action{Verb: "create", Group: kyverno.PoliciesGroup, Resource: "policyexceptions", Namespace: ns})
	}
	for _, name := range cfg.SR2.GatePolicyNames {
		for _, verb := range change {
			gate = append(gate,
				rbac.Action{Verb: verb, Group: kyverno.Group, Resource: "clusterpolicies", Name: name},
				rbac.Action{Verb: verb, Group: kyverno.PoliciesGroup, Resource: "validatingpolicies", Name: name},
				rbac.Action{Verb: verb, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Name: name})
		}
	}
	for _, b := range s.ValidatingAdmissionBindings {
		if slices.Contains(cfg.SR2.GatePolicyNames, b.Spec.PolicyName) {
			for _, verb := range change {
				gate = append(gate, rbac.Action{Verb: verb, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Name: b.Name})
			}
		}
	}
	hooks := []string{"kyverno-resource-validating-webhook-cfg"}
	for _, w := range s.ValidatingWebhookConfigurations {
		if strings.HasPrefix(w.Name, "kyverno-") && !slices.Contains(hooks, w.Name) {
			hooks = append(hooks, w.Name)
		}
	}
	slices.Sort(hooks)
	for _, name := range hooks {
		for _, verb := range change {
			webhooks = append(webhooks, rbac.Action{Verb: verb, Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Name: name})
		}
	}
	ac := v.kyverno()
	acNS, acName := cfg.SR2.KyvernoNamespace, "kyverno-admission-controller"
	if ac != nil {
		acNS, acName = ac.Namespace, ac.Name
	}
	for _, verb := range change {
		controller = append(controller, rbac.Action{Verb: verb, Group: "apps", Resource: "deployments", Namespace: acNS, Name: acName})
	}
	for _, name := range names {
		if !managed[name] && !slices.Contains(cfg.SR2.ExcludedNamespaces, name) {
			ungated = append(ungated, rbac.PodMakers(name)...)
		}
	}
	return []rbac.Door{
		{ID: "managed-label", What: "unlabel a Kueue-managed namespace, which takes it out of the gate", Actions: unlabel},
		{ID: "policy-exceptions", What: "create a Kyverno PolicyException where Kyverno reads them, exempting GPU pods from the gate", Actions: exceptions},
		{ID: "gate-policy", What: "change or delete the gate policy or its binding", Actions: gate},
		{ID: "kyverno-webhooks", What: "change or delete Kyverno's webhook configurations, through which the gate is called", Actions: webhooks},
		{ID: "kyverno-controller", What: "change Kyverno's admission controller Deployment (its flags turn exceptions on or the gate off)", Actions: controller},
		{ID: "ungated-pods", What: "start pods, GPU pods included, in a namespace the gate does not cover", Actions: ungated, TenantOwn: true},
	}
}

// TamperDoors are SR2's doors in a snapshot, for the RBAC confirmation to ask about.
func TamperDoors(cfg auditor.Config) func(*auditor.Snapshot) []rbac.Door {
	views := newView(cfg)
	return func(s *auditor.Snapshot) []rbac.Door { return views.Of(s).gateDoors(cfg, s) }
}
