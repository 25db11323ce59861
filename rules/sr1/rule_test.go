package sr1

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// ruleFor returns the constructor of one rule of the family, reading its own view.
func ruleFor(mk func(auditor.Config) check) func(auditor.Config) auditor.Rule {
	return func(cfg auditor.Config) auditor.Rule { return family.Rules(newView(cfg), mk(cfg))[0] }
}
