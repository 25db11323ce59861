// Package rules lists the auditor's rules: one package per control, each a family of
// rules reading one view of the snapshot built once per evaluation (rules/sr1 the budget
// path, rules/sr2 the GPU quota gate, rules/sr3 fail-closed budgets), and rules/waivers
// for the waivers themselves. All returns every rule for a configuration; IDs are stable
// (they are the `rule` field of the JSON contract and a metric label). The domain views
// the rules read live in leaf packages: kyverno, kueue, cni, netpol, litellm.
package rules

import (
	"sort"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/sr1"
	"github.com/llm-platform/enforcement-auditor/rules/sr2"
	"github.com/llm-platform/enforcement-auditor/rules/sr3"
	"github.com/llm-platform/enforcement-auditor/rules/waivers"
)

// families are the controls' rule families.
var families = []func(auditor.Config) []auditor.Rule{sr1.Rules, sr2.Rules, sr3.Rules}

// All returns every rule, configured, sorted by control and ID.
func All(cfg auditor.Config) []auditor.Rule {
	var out []auditor.Rule
	var known []auditor.RuleMeta
	for _, family := range families {
		for _, r := range family(cfg) {
			out = append(out, r)
			known = append(known, r.Meta())
		}
	}
	out = append(out, waivers.Rules(cfg, known)...)
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
