package sr1

import (
	"slices"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/rbac"
)

// budgetPathTamper (budget-path-tamper): an identity RBAC lets switch SR1 off with one
// request: write the NetworkPolicies of a protected namespace or the cluster-scoped
// policies above them, start pods in a trusted namespace (the allow-list then admits
// them), relabel a namespace (an allow-list peer that selects by another label than
// kubernetes.io/metadata.name, a protected namespace's own labels), or start pods in a
// namespace whose Pod Security admits hostNetwork; or gain any of these by escalation.
func budgetPathTamper(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-path-tamper", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "An identity that is not a declared admin may switch the budget path off (RBAC)",
		Remediation: "Remove the grant from the binding the finding names (or narrow the role's rule); " +
			"if the identity administers the platform by design, declare it in rbac.admins (it is then reported at info).",
		Pass:   "no identity outside the declared admins may change the budget path's NetworkPolicies, start pods in a trusted namespace or relabel namespaces",
		Inputs: rbac.Inputs,
		Needs:  rbac.Needs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		return rbac.Tamper(meta, cfg, s, budgetPathDoors(cfg, s))
	}}
}

// budgetPathDoors are SR1's doors in this snapshot.
func budgetPathDoors(cfg auditor.Config, s *auditor.Snapshot) []rbac.Door {
	write := []string{"create", "update", "patch", "delete"}
	var netpols, admin, pods, relabel, hostNet []rbac.Action
	for _, ns := range cfg.Protected() {
		for _, verb := range write {
			netpols = append(netpols, rbac.Action{Verb: verb, Group: "networking.k8s.io", Resource: "networkpolicies", Namespace: ns})
		}
	}
	for _, res := range []string{"adminnetworkpolicies", "baselineadminnetworkpolicies", "clusternetworkpolicies"} {
		for _, verb := range write {
			admin = append(admin, rbac.Action{Verb: verb, Group: "policy.networking.k8s.io", Resource: res})
		}
	}
	// Pods of a protected namespace reach its model servers too (Config.TrustedFor).
	sources := slices.Concat(cfg.SR1.ProtectedNamespaces, cfg.SR1.TrustedNamespaces)
	slices.Sort(sources)
	for _, ns := range slices.Compact(sources) {
		pods = append(pods, rbac.PodMakers(ns)...)
	}
	for _, name := range s.SortedNamespaceNames() {
		relabel = append(relabel, rbac.NamespaceAction("patch", name), rbac.NamespaceAction("update", name))
		ns := s.Namespace(name)
		if !cfg.Untrusted(name) || auditor.Terminating(ns) {
			continue
		}
		level, ok := ns.Labels[podSecurityEnforceLabel]
		if !ok {
			level = cfg.SR1.PodSecurityDefault
		}
		if level == "" || level == auditor.PodSecurityPrivileged {
			hostNet = append(hostNet, rbac.PodMakers(name)...)
		}
	}
	return []rbac.Door{
		{ID: "networkpolicies", What: "write the NetworkPolicies of a protected namespace", Actions: netpols},
		{ID: "admin-network-policies", What: "write the cluster-scoped network policies that override NetworkPolicies", Actions: admin},
		{ID: "trusted-pods", What: "start pods in a trusted or protected namespace, which the allow-list admits to the model servers", Actions: pods},
		{ID: "namespace-labels", What: "relabel a namespace (allow-list peers and protected namespaces are matched by labels)", Actions: relabel},
		{ID: "host-network-pods", What: "start pods in a namespace whose Pod Security admits hostNetwork, outside NetworkPolicy", Actions: hostNet, TenantOwn: true},
	}
}

// TamperDoors are SR1's doors in a snapshot, for the RBAC confirmation to ask about.
func TamperDoors(cfg auditor.Config) func(*auditor.Snapshot) []rbac.Door {
	return func(s *auditor.Snapshot) []rbac.Door { return budgetPathDoors(cfg, s) }
}
