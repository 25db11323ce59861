// Package rules holds the auditor's rules: pure functions from a Snapshot to findings,
// one file per rule family, named after the rule IDs (default_deny.go, queue_name.go,
// budget_failopen.go, ...); this file lists them. All returns every rule for a
// configuration; IDs are stable (they are the `rule` field of the JSON contract and a
// metric label). The domain views the rules read live in leaf packages: kyverno, kueue,
// cni, netpol, litellm.
package rules

import (
	"sort"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// All returns every rule, configured, sorted by control and ID.
func All(cfg auditor.Config) []auditor.Rule {
	var out []auditor.Rule
	out = append(out, sr1Rules(cfg)...)
	out = append(out, sr2Rules(cfg)...)
	out = append(out, sr3Rules(cfg)...)
	out = append(out, waiverRules(cfg)...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Meta(), out[j].Meta()
		if a.Control != b.Control {
			return a.Control < b.Control
		}
		return a.ID < b.ID
	})
	return out
}

// Catalogue returns the metadata of every rule (for metrics that must export a series
// per known rule, and for documentation).
func Catalogue() []auditor.RuleMeta {
	var out []auditor.RuleMeta
	for _, r := range All(auditor.DefaultConfig()) {
		out = append(out, r.Meta())
	}
	return out
}

// ruleFunc adapts a function to the Rule interface.
type ruleFunc struct {
	meta auditor.RuleMeta
	eval func(s *auditor.Snapshot) auditor.Result
}

func (r ruleFunc) Meta() auditor.RuleMeta                      { return r.meta }
func (r ruleFunc) Evaluate(s *auditor.Snapshot) auditor.Result { return r.eval(s) }

// newRule builds a rule from its metadata and evaluation function.
func newRule(meta auditor.RuleMeta, eval func(s *auditor.Snapshot) auditor.Result) auditor.Rule {
	return ruleFunc{meta: meta, eval: eval}
}

// sr1Rules: the budget path (NetworkPolicy isolation, allow-lists, CNI enforcement, probes).
func sr1Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{
		DefaultDenyMissing(cfg),
		IngressOutsideAllowlist(cfg),
		SelectorUnpinned(cfg),
		CNINotEnforcing(cfg),
		CNIUnknown(cfg),
		ServingReachableFromUntrusted(cfg),
		ProtectedNamespaceAbsent(cfg),
	}
}

// sr2Rules: GPU quota (queue names, Kueue admission, the admission gate, the active probe).
func sr2Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{
		GPUPodMissingQueueName(cfg),
		GPUPodNotAdmitted(cfg),
		GPUGatePolicyMissing(cfg),
		GPUGatePolicyNotEnforcing(cfg),
		GPUGatePolicyException(cfg),
		GPUGateBypassed(cfg),
		KueueManagedNamespaceAbsent(cfg),
	}
}

// sr3Rules: fail-closed budgets (LiteLLM prod settings, CloudNativePG HA, Redis).
func sr3Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{
		BudgetFailOpenInProd(cfg),
		BudgetFailOpenUnverifiable(cfg),
		BudgetDBNotHAInProd(cfg),
		BudgetCacheNotRedisInProd(cfg),
		LiteLLMConfigUnparseable(cfg),
		LiteLLMProdAbsent(cfg),
	}
}
