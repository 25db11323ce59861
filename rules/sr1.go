package rules

import "github.com/llm-platform/enforcement-auditor/auditor"

// sr1Rules: the budget path (NetworkPolicy isolation, allow-lists, CNI enforcement).
func sr1Rules(cfg auditor.Config) []auditor.Rule { return nil }
