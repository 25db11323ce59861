// Package validate is Kyverno's validate-pattern engine at v1.15.2: pkg/engine/validate
// (MatchPattern and its map, array and anchor walk), pkg/engine/anchor (anchor parsing
// and handlers, anchor errors) and pkg/engine/wildcards (wildcard keys in
// metadata.labels and metadata.annotations), ported with their semantics unchanged:
// logging is dropped, leaves match with the ported pkg/engine/pattern (package
// operator), multierr.Combine is combine. tools/kyverno holds the differential test
// against the real packages.
//
// Copyright The Kyverno Authors, Apache License 2.0 (https://github.com/kyverno/kyverno).
package validate

import (
	"fmt"
	"strings"
)

// nopLogger stands for logr.Logger: the ported code logs, the port does not.
type nopLogger struct{}

func (nopLogger) V(int) nopLogger     { return nopLogger{} }
func (nopLogger) Info(string, ...any) {}

// containsWildcard is Kyverno's ext/wildcard ContainsWildcard.
func containsWildcard(v string) bool {
	return strings.Contains(v, "*") || strings.Contains(v, "?")
}

// combine is go.uber.org/multierr Combine on non-nil errors: nil for none, the error
// itself for one, else one error whose message joins theirs with "; ".
func combine(errs ...error) error {
	var kept []error
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
		}
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	msgs := make([]string, len(kept))
	for i, e := range kept {
		msgs[i] = e.Error()
	}
	return combined{msg: strings.Join(msgs, "; "), errs: kept}
}

type combined struct {
	msg  string
	errs []error
}

func (c combined) Error() string   { return c.msg }
func (c combined) Unwrap() []error { return c.errs }

// Match validates a resource against a validate pattern as Kyverno does: nil when it
// matches, else a *PatternError whose Skip says a condition or global anchor did not
// hold (the rule does not apply) rather than a violation.
// A panic in the walk (a shape the engine does not expect) is returned as an error
// without a path, which callers treat as an engine error.
func Match(resource, pattern any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the pattern engine panics on this resource and pattern (%v)", r)
		}
	}()
	return MatchPattern(nopLogger{}, resource, pattern)
}
