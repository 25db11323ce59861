package kyverno

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llm-platform/enforcement-auditor/rules/kyverno/operator"
)

// Kyverno validate patterns (pkg/engine/validate, pkg/engine/anchor at v1.15.2), on the
// anchors a pod gate uses: a plain key must exist and match; =(key) matches only when
// present; X(key) must be absent; (key) is a condition: when it does not match, the
// enclosing object is skipped; <(key) is a global condition: when it does not match, the
// whole pattern is skipped; ^(key) in a list needs one element to match. A list pattern
// of one element applies to every element. Leaves match with Kyverno's own
// pattern.Validate (package operator). +(key) (an add anchor, mutate only) is unjudged.

type patternResult int

const (
	patternPass patternResult = iota
	patternFail
	patternSkip // a condition anchor did not match
)

type patternWalk struct {
	globalSkip bool
	failPath   string
	unjudged   string
}

func anchorOf(key string) (kind, name string) {
	for _, a := range []string{"=(", "X(", "^(", "<(", "+(", "("} {
		if strings.HasPrefix(key, a) && strings.HasSuffix(key, ")") {
			return a[:len(a)-1], key[len(a) : len(key)-1]
		}
	}
	return "", key
}

func (w *patternWalk) value(res, pat any, path string) patternResult {
	switch p := pat.(type) {
	case map[string]any:
		m, ok := res.(map[string]any)
		if !ok {
			w.fail(path, "is not an object")
			return patternFail
		}
		return w.object(m, p, path)
	case []any:
		l, ok := res.([]any)
		if !ok {
			w.fail(path, "is not a list")
			return patternFail
		}
		if len(p) == 1 {
			for i, e := range l {
				r := w.value(e, p[0], fmt.Sprintf("%s[%d]", path, i))
				if r == patternFail || w.globalSkip || w.unjudged != "" {
					return r
				}
			}
			return patternPass
		}
		if len(p) != len(l) {
			w.fail(path, fmt.Sprintf("has %d elements, the pattern %d", len(l), len(p)))
			return patternFail
		}
		for i := range p {
			if r := w.value(l[i], p[i], fmt.Sprintf("%s[%d]", path, i)); r != patternPass {
				return r
			}
		}
		return patternPass
	}
	if !operator.ValidateValue(res, pat) {
		w.fail(path, fmt.Sprintf("is %s, which does not match %s", compactJSON(res), compactJSON(pat)))
		return patternFail
	}
	return patternPass
}

func (w *patternWalk) fail(path, why string) {
	if w.failPath == "" {
		w.failPath = path + " " + why
	}
}

func (w *patternWalk) object(res, pat map[string]any, path string) patternResult {
	keys := make([]string, 0, len(pat))
	for k := range pat {
		keys = append(keys, k)
	}
	// Condition and global anchors are evaluated before the other keys, as Kyverno does.
	sort.SliceStable(keys, func(i, j int) bool {
		ki, _ := anchorOf(keys[i])
		kj, _ := anchorOf(keys[j])
		ci, cj := ki == "(" || ki == "<", kj == "(" || kj == "<"
		if ci != cj {
			return ci
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		kind, name := anchorOf(k)
		p := pat[k]
		v, present := res[name]
		sub := path + "." + name
		switch kind {
		case "+":
			w.unjudged = fmt.Sprintf("%s uses an add anchor +(), which validate patterns do not use", path)
			return patternFail
		case "X":
			if present {
				w.fail(sub, "is present, which the negation anchor X() forbids")
				return patternFail
			}
		case "=":
			if present {
				if r := w.value(v, p, sub); r != patternPass {
					return r
				}
			}
		case "(", "<":
			if !present {
				if kind == "<" {
					w.globalSkip = true
				}
				return patternSkip
			}
			inner := &patternWalk{}
			if r := inner.value(v, p, sub); r != patternPass || inner.unjudged != "" {
				if inner.unjudged != "" {
					w.unjudged = inner.unjudged
					return patternFail
				}
				if kind == "<" {
					w.globalSkip = true
				}
				return patternSkip
			}
		case "^":
			l, ok := v.([]any)
			pl, pok := p.([]any)
			if !present || !ok || !pok || len(pl) == 0 {
				w.fail(sub, "has no element matching the existence anchor ^()")
				return patternFail
			}
			found := false
			for i, e := range l {
				inner := &patternWalk{}
				if inner.value(e, pl[0], fmt.Sprintf("%s[%d]", sub, i)) == patternPass && inner.unjudged == "" {
					found = true
					break
				}
			}
			if !found {
				w.fail(sub, "has no element matching the existence anchor ^()")
				return patternFail
			}
		default:
			if !present {
				if s, ok := p.(string); ok && (s == "*" || strings.HasPrefix(s, "!") || strings.Contains(s, "|") && operator.ValidateValue(nil, p)) {
					continue // Kyverno validates a missing leaf as nil: "*" and negations hold
				}
				if p == nil {
					continue
				}
				w.fail(sub, "is missing")
				return patternFail
			}
			if r := w.value(v, p, sub); r != patternPass {
				return r
			}
		}
		if w.globalSkip || w.unjudged != "" {
			return patternSkip
		}
	}
	return patternPass
}

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
	var fails []string
	for i, p := range patterns {
		if s, ok := p.(string); ok && strings.Contains(s, "{{") || containsVariable(p) {
			return RuleResult{RuleUnjudged, fmt.Sprintf("%s[%d] holds variables, which patterns are not evaluated with", field, i)}
		}
		w := &patternWalk{}
		res := w.value(doc, p, "request.object")
		switch {
		case w.unjudged != "":
			return RuleResult{RuleUnjudged, w.unjudged}
		case res == patternFail:
			fails = append(fails, w.failPath)
		default:
			how := "matches"
			if res == patternSkip || w.globalSkip {
				how = "is skipped by a condition anchor"
			}
			return RuleResult{RulePass, fmt.Sprintf("rule %s's %s %s", r.Name, field, how)}
		}
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
