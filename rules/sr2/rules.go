// Package sr2 holds the rules of SR2, the GPU quota gate: GPU pods in Kueue-managed
// namespaces carry a queue name and are admitted by Kueue, an admission gate denies the
// others, no exception opens it, the active probe confirms it. Every rule is a check
// over the family's view (view.go).
package sr2

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// check is one SR2 rule over the family's view.
type check = family.Check[*view]

// Rules returns the SR2 rules for a configuration; they share one view per evaluation.
func Rules(cfg auditor.Config) []auditor.Rule {
	return family.Rules(newView(cfg),
		podMissingQueueName(cfg), podNotAdmitted(cfg), // the GPU pods
		gatePolicyMissing(cfg), gatePolicyNotEnforcing(cfg), gatePolicyException(cfg), // the admission gate
		gateBypassed(cfg), probeUnguarded(cfg), // the active admission probe
		gpuResourceUnlisted(cfg), // the configured GPU resources against what Nodes offer
		gpuGateTamper(cfg),       // who may switch it off (tamper.go)
		managedNamespaceAbsent(cfg))
}
