package rules

import "github.com/llm-platform/enforcement-auditor/auditor"

// sr3Rules: fail-closed budgets (LiteLLM prod settings, CloudNativePG HA, Redis).
func sr3Rules(cfg auditor.Config) []auditor.Rule { return nil }
