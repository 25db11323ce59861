package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestAllSortedAndUnique(t *testing.T) {
	all := All(auditor.DefaultConfig())
	require.Len(t, all, 21)
	seen := map[string]bool{}
	for i, r := range all {
		m := r.Meta()
		assert.False(t, seen[m.ID], "duplicate rule ID %s", m.ID)
		seen[m.ID] = true
		assert.NotEmpty(t, m.Title, m.ID)
		assert.NotEmpty(t, m.Remediation, m.ID)
		if i > 0 {
			p := all[i-1].Meta()
			assert.True(t, p.Control < m.Control || (p.Control == m.Control && p.ID < m.ID), "%s sorts before %s", p.ID, m.ID)
		}
	}
	assert.Equal(t, "cni-not-enforcing", all[0].Meta().ID)
	assert.Equal(t, "litellm-prod-absent", all[len(all)-1].Meta().ID)
}

func TestCatalogueIsAllsMetadata(t *testing.T) {
	// Pod predicates are functions (not comparable): compare whether each has one.
	strip := func(m auditor.RuleMeta) (auditor.RuleMeta, bool) { has := m.Pods != nil; m.Pods = nil; return m, has }
	var metas []auditor.RuleMeta
	var preds []bool
	for _, r := range All(auditor.DefaultConfig()) {
		m, has := strip(r.Meta())
		metas, preds = append(metas, m), append(preds, has)
	}
	var cat []auditor.RuleMeta
	var catPreds []bool
	for _, m := range Catalogue() {
		m, has := strip(m)
		cat, catPreds = append(cat, m), append(catPreds, has)
	}
	assert.Equal(t, metas, cat)
	assert.Equal(t, preds, catPreds)
}

var scopeRuleIDs = map[string]bool{"protected-namespace-absent": true, "kueue-managed-namespace-absent": true, "litellm-prod-absent": true}

func TestEveryRuleEvaluatesAnEmptySnapshot(t *testing.T) {
	s := snapshottest.New()
	for _, r := range All(auditor.DefaultConfig()) {
		t.Run(r.Meta().ID, func(t *testing.T) {
			var res auditor.Result
			require.NotPanics(t, func() { res = r.Evaluate(s) })
			for _, f := range res.Findings {
				if scopeRuleIDs[f.Rule] {
					continue // a claimed control with nothing in scope: the finding is the point
				}
				// Only notes such as "protected namespace serving does not exist".
				assert.Equal(t, auditor.SeverityInfo, f.Severity, f.Message)
			}
		})
	}
}

func TestNewRule(t *testing.T) {
	meta := auditor.RuleMeta{ID: "x", Control: auditor.SR1}
	r := newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		return auditor.Result{Inconclusive: []string{s.Now.String()}}
	})
	assert.Equal(t, meta, r.Meta())
	assert.Equal(t, []string{"0001-01-01 00:00:00 +0000 UTC"}, r.Evaluate(snapshottest.New()).Inconclusive)
}

// Needs are inputs the rule's silence rests on: each must be one it reads (Inputs), so
// the live source's availability of it is reported too.
func TestRuleNeedsAreInputs(t *testing.T) {
	for _, m := range Catalogue() {
		for _, n := range m.Needs {
			assert.Contains(t, m.Inputs, n, "%s needs %s but does not declare it in Inputs", m.ID, n)
		}
	}
}
