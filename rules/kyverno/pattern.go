package kyverno

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/rules/kyverno/validate"
)

// Kyverno validate patterns are matched with Kyverno's own validate engine, ported in
// package validate (pkg/engine/validate, pkg/engine/anchor, pkg/engine/wildcards at
// v1.15.2), and the results read as pkg/engine/handlers/validation validatePatterns
// does: a pattern error with Skip set skips the rule, one without a path is an engine
// error (unjudged here: Kyverno blocks it only under failurePolicy Fail), any other
// fails; anyPattern passes on the first match, is skipped when every pattern is
// skipped and none fails, and fails otherwise.

// evaluatePatterns evaluates validate.pattern or validate.anyPattern on the object.
func (r Rule) evaluatePatterns(v map[string]any, obj map[string]any) RuleResult {
	doc, _ := toJSON(obj).(map[string]any)
	var patterns []any
	field := "validate.pattern"
	if p, ok := v["pattern"]; ok && p != nil {
		patterns = []any{toJSON(p)}
	} else if l, ok := toJSON(v["anyPattern"]).([]any); ok {
		patterns, field = l, "validate.anyPattern"
	}
	if len(patterns) == 0 {
		return RuleResult{RuleUnjudged, field + " is empty"}
	}
	var fails, skips []string
	for i, p := range patterns {
		if s, ok := p.(string); ok && strings.Contains(s, "{{") || containsVariable(p) {
			return RuleResult{RuleUnjudged, fmt.Sprintf("%s[%d] holds variables, which patterns are not evaluated with", field, i)}
		}
		where := field
		if field == "validate.anyPattern" {
			where = fmt.Sprintf("%s[%d]", field, i)
		}
		err := validate.Match(doc, p)
		if err == nil {
			return RuleResult{RulePass, fmt.Sprintf("rule %s's %s matches", r.Name, where)}
		}
		pe, ok := err.(*validate.PatternError)
		switch {
		case !ok || !pe.Skip && pe.Path == "":
			return RuleResult{RuleUnjudged, fmt.Sprintf("Kyverno's engine reports an error on %s (blocking only under failurePolicy Fail): %v", where, err)}
		case pe.Skip:
			skips = append(skips, fmt.Sprintf("%s is skipped: %v", where, err))
		default:
			fails = append(fails, fmt.Sprintf("%s fails at %s: %v", where, pe.Path, err))
		}
	}
	if len(fails) == 0 {
		return RuleResult{RuleSkip, fmt.Sprintf("rule %s does not apply: %s", r.Name, strings.Join(skips, "; "))}
	}
	return RuleResult{RuleFail, fmt.Sprintf("rule %s denies it: %s", r.Name, strings.Join(fails, "; "))}
}

func containsVariable(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.Contains(t, "{{")
	case []any:
		for _, e := range t {
			if containsVariable(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if strings.Contains(k, "{{") || containsVariable(e) {
				return true
			}
		}
	}
	return false
}
