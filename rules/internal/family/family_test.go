package family

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestNew(t *testing.T) {
	meta := auditor.RuleMeta{ID: "x", Control: auditor.SR1}
	r := New(meta, func(s *auditor.Snapshot) auditor.Result {
		return auditor.Result{Inconclusive: []string{s.Now.String()}}
	})
	assert.Equal(t, meta, r.Meta())
	assert.Equal(t, []string{"0001-01-01 00:00:00 +0000 UTC"}, r.Evaluate(snapshottest.New()).Inconclusive)
}

// TestRulesShareOneViewPerEvaluation: the rules of a family read one view, built once
// per evaluation of the engine, and again for the next evaluation (even of the same
// snapshot) and for a rule evaluated on its own.
func TestRulesShareOneViewPerEvaluation(t *testing.T) {
	builds := 0
	view := auditor.NewView(func(s *auditor.Snapshot) int {
		builds++
		return len(s.Namespaces)
	})
	check := func(id string) Check[int] {
		return Check[int]{Meta: auditor.RuleMeta{ID: id, Control: auditor.SR1}, Eval: func(n int, _ *auditor.Snapshot) auditor.Result {
			return auditor.Result{Inconclusive: []string{id}}
		}}
	}
	rs := Rules(view, check("a"), check("b"), check("c"))
	require.Len(t, rs, 3)
	s := snapshottest.New()
	ev := engine.Evaluate(rs, s, 0)
	assert.Equal(t, 1, builds, "one view for the three rules")
	assert.Equal(t, map[string][]string{"a": {"a"}, "b": {"b"}, "c": {"c"}}, ev.Inconclusive)
	engine.Evaluate(rs, s, 0)
	assert.Equal(t, 2, builds, "a new evaluation builds it again")
	rs[0].Evaluate(s)
	assert.Equal(t, 3, builds, "a rule evaluated on its own builds its view")
}

// TestScopeReadsTheView: the scope rule judges what the family's view holds.
func TestScopeReadsTheView(t *testing.T) {
	meta := auditor.RuleMeta{ID: "x-absent", Control: auditor.SR2, Severity: auditor.SeverityHigh}
	seen := func(*auditor.Snapshot) bool { return true }
	for _, inScope := range []bool{true, false} {
		view := auditor.NewView(func(*auditor.Snapshot) bool { return inScope })
		r := Rules(view, Scope(auditor.DefaultConfig(), meta, "no x", seen, refsIf))[0]
		res := r.Evaluate(snapshottest.New())
		if inScope {
			assert.Empty(t, res.Findings)
			assert.Equal(t, []auditor.ObjectRef{*NamespaceRef("team-a")}, res.Judged, "what is in scope is what the control's rules judged")
		} else if assert.Len(t, res.Findings, 1) {
			assert.Equal(t, "SR2 is claimed (config controls) but the cluster has no x: nothing it covers exists, so nothing is enforced", res.Findings[0].Message)
		}
	}
}

func TestHelpers(t *testing.T) {
	assert.Equal(t, "a, b", JoinBounded([]string{"a", "b"}, 2))
	assert.Equal(t, "a, b and 1 more", JoinBounded([]string{"a", "b", "c"}, 2))
}

// TestScopeOfAScopedScan: a live scan of some namespaces cannot tell that nothing in
// scope exists elsewhere: the control is unknown, naming the namespaces read.
func TestScopeOfAScopedScan(t *testing.T) {
	meta := auditor.RuleMeta{ID: "x-absent", Control: auditor.SR1, Severity: auditor.SeverityHigh}
	view := auditor.NewView(func(*auditor.Snapshot) bool { return false })
	r := Rules(view, Scope(auditor.DefaultConfig(), meta, "no x", func(*auditor.Snapshot) bool { return true }, refsIf))[0]
	s := snapshottest.New()
	s.Scope = []string{"team-a"}
	res := r.Evaluate(s)
	assert.Empty(t, res.Findings)
	assert.Equal(t, []string{"SR1 is claimed (config controls) but the namespaces read (team-a) hold no x: a scan cannot know the cluster's other objects"}, res.Inconclusive)
}

// refsIf is a scope's content: one namespace when something is in scope.
func refsIf(in bool) []auditor.ObjectRef {
	if in {
		return []auditor.ObjectRef{*NamespaceRef("team-a")}
	}
	return nil
}
