package rules

import "github.com/llm-platform/enforcement-auditor/auditor"

// waiverRules: findings about waivers themselves (no reason, expiry too far ahead).
func waiverRules(cfg auditor.Config) []auditor.Rule { return nil }
