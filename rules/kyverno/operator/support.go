// Package operator is Kyverno's condition operators (pkg/engine/variables/operator) and
// leaf pattern matching (pkg/engine/pattern, pkg/engine/operator) at Kyverno v1.15.2,
// ported with their semantics unchanged: logging is dropped, the evaluation context
// (which the operators never read) is an empty interface, and wildcards match as
// Kyverno's ext/wildcard (IGLOU-EU/go-wildcard: '*' any run, '?' one character).
// Kyverno's main module carries ~390 requirements, too many for the auditor's go.mod;
// tools/kyverno holds a differential test against the real packages.
//
// Copyright The Kyverno Authors, Apache License 2.0 (https://github.com/kyverno/kyverno).
package operator

import "fmt"

// ConditionOperator is a Kyverno condition's operator (kyverno.io/v1 ConditionOperator).
type ConditionOperator string

// conditionOperators is kyverno api/kyverno/v1 common_types.go ConditionOperators.
var conditionOperators = map[string]ConditionOperator{
	"Equal":                       "Equal",
	"Equals":                      "Equals",
	"NotEqual":                    "NotEqual",
	"NotEquals":                   "NotEquals",
	"In":                          "In",
	"AnyIn":                       "AnyIn",
	"AllIn":                       "AllIn",
	"NotIn":                       "NotIn",
	"AnyNotIn":                    "AnyNotIn",
	"AllNotIn":                    "AllNotIn",
	"GreaterThanOrEquals":         "GreaterThanOrEquals",
	"GreaterThan":                 "GreaterThan",
	"LessThanOrEquals":            "LessThanOrEquals",
	"LessThan":                    "LessThan",
	"DurationGreaterThanOrEquals": "DurationGreaterThanOrEquals",
	"DurationGreaterThan":         "DurationGreaterThan",
	"DurationLessThanOrEquals":    "DurationLessThanOrEquals",
	"DurationLessThan":            "DurationLessThan",
}

// nopLogger stands for logr.Logger: the ported code logs, the port does not.
type nopLogger struct{}

func (nopLogger) V(int) nopLogger             { return nopLogger{} }
func (nopLogger) Info(string, ...any)         {}
func (nopLogger) Error(error, string, ...any) {}
func (nopLogger) WithValues(...any) nopLogger { return nopLogger{} }
func (nopLogger) WithName(string) nopLogger   { return nopLogger{} }

// wildcardMatch is github.com/IGLOU-EU/go-wildcard v1.0.3 Match ('*' any run of
// characters, '?' exactly one), without its exponential backtracking.
func wildcardMatch(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	p, s := []rune(pattern), []rune(name)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// WildcardMatch is Kyverno's ext/wildcard Match.
func WildcardMatch(pattern, name string) bool { return wildcardMatch(pattern, name) }

// Evaluate applies a condition operator (case-insensitive, as Kyverno reads it) to a
// condition's substituted key and value; ok is false for an operator Kyverno does not know.
// Kyverno's handlers panic on some operand types (In with a list key holding a number
// and a null value): err says so, and the condition is not judged.
func Evaluate(op string, key, value any) (result, ok bool, err error) {
	h := CreateOperatorHandler(nopLogger{}, nil, ConditionOperator(op))
	if h == nil {
		return false, false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			result, ok, err = false, true, fmt.Errorf("the %s operator panics on these operands in Kyverno (%v)", op, r)
		}
	}()
	return h.Evaluate(key, value), true, nil
}

// ValidateValue matches a resource's leaf value against a pattern leaf (Kyverno's
// pattern.Validate): wildcards, | and & alternatives, >, <, >=, <=, !, ranges, quantities
// and durations.
func ValidateValue(value, pattern any) bool {
	return Validate(nopLogger{}, value, pattern)
}
