// Package ruletest holds what the tests of the rule packages (rules/sr1, sr2, sr3)
// share. Only tests import it.
package ruletest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// Claims returns the default configuration claiming every control (all) or none.
func Claims(all bool) auditor.Config {
	cfg := auditor.DefaultConfig()
	if !all {
		cfg.Controls = nil
	}
	return cfg
}

// ScopeCase is one case of a control's scope rule (rules/internal/family.Scope): what
// the snapshot holds (snapshottest.New) and what the rule must say, "" for nothing.
type ScopeCase struct {
	Cfg           auditor.Config
	Objs          []any
	Finding       string // the message, when a finding is expected
	Inconclusive  string
	NotApplicable string
}

// RunScope runs the cases against the scope rule rule makes.
func RunScope(t *testing.T, rule func(auditor.Config) auditor.Rule, cases map[string]ScopeCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := rule(tc.Cfg)
			res := r.Evaluate(snapshottest.New(tc.Objs...))
			if tc.Finding == "" {
				assert.Empty(t, res.Findings)
			} else if assert.Len(t, res.Findings, 1) {
				f := res.Findings[0]
				assert.Equal(t, tc.Finding, f.Message)
				assert.Equal(t, auditor.SeverityHigh, f.Severity)
				assert.Equal(t, r.Meta().Control, f.Control)
				assert.Nil(t, f.Object, "a cluster-wide finding")
			}
			if tc.Inconclusive == "" {
				assert.Empty(t, res.Inconclusive)
			} else if assert.Len(t, res.Inconclusive, 1) {
				assert.Contains(t, res.Inconclusive[0], tc.Inconclusive)
			}
			if tc.NotApplicable == "" {
				assert.Empty(t, res.NotApplicable)
			} else {
				assert.Contains(t, res.NotApplicable, tc.NotApplicable)
			}
		})
	}
}
