// Package sr3 holds the rules of SR3, fail-closed budgets: the LiteLLM prod proxies'
// settings, their database (CloudNativePG HA) and cache (Redis). Every rule is a check
// over the family's view (view.go): the proxies found, each config parsed once.
package sr3

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// check is one SR3 rule over the family's view.
type check = family.Check[*view]

// Rules returns the SR3 rules for a configuration; they share one view per evaluation.
func Rules(cfg auditor.Config) []auditor.Rule { return rules(cfg, litellm.Parse) }

func rules(cfg auditor.Config, parse parseFunc) []auditor.Rule {
	return family.Rules(newView(cfg, parse),
		budgetFailOpenInProd(cfg), budgetFailOpenUnverifiable(cfg), // the fail-open setting
		budgetDBNotHAInProd(cfg), budgetCacheNotRedisInProd(cfg), // the database and the cache behind it
		budgetProfileDowngrade(cfg), configUnparseable(cfg),
		budgetConfigTamper(cfg), // who may switch it off (tamper.go)
		prodAbsent(cfg))
}
