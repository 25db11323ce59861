// Package sr1 holds the rules of SR1, the budget path: the protected namespaces (model
// servers, inference gateway) isolated for ingress, admitting only the trusted
// namespaces, on a CNI that enforces NetworkPolicy, as the active probe confirms. Every
// rule is a check over the family's view (view.go).
package sr1

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// check is one SR1 rule over the family's view.
type check = family.Check[*view]

// Rules returns the SR1 rules for a configuration; they share one view per evaluation.
func Rules(cfg auditor.Config) []auditor.Rule {
	return family.Rules(newView(cfg),
		// the NetworkPolicies of the protected namespaces
		defaultDenyMissing(cfg), ingressOutsideAllowlist(cfg), selectorUnpinned(cfg),
		cniNotEnforcing(cfg), cniUnknown(cfg), // whether the CNI enforces them
		servingReachableFromUntrusted(cfg), // the active network probe
		// host networking, which NetworkPolicy does not isolate (host_network.go)
		servingHostNetwork(cfg), tenantHostNetworkPod(cfg), tenantNamespaceAdmitsHostNetwork(cfg),
		budgetPathTamper(cfg), // who may switch it off (tamper.go)
		protectedNamespaceAbsent(cfg))
}
