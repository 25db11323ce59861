package store

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func podIn(ns, name string, sev auditor.Severity, msg string) auditor.Finding {
	f := gpuFinding(name, sev, msg)
	f.Object = &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
	return f
}

func inNamespace(ns string) func(*auditor.Finding) bool {
	return func(f *auditor.Finding) bool { return f.Object != nil && f.Object.Namespace == ns }
}

func TestApplyPartial(t *testing.T) {
	a1 := podIn("a", "p1", auditor.SeverityHigh, "m")
	a2 := podIn("a", "p2", auditor.SeverityHigh, "m")
	b1 := podIn("b", "p1", auditor.SeverityHigh, "m")
	a1Changed := podIn("a", "p1", auditor.SeverityHigh, "other")
	cluster := auditor.Finding{Rule: "cni-not-enforcing", Control: auditor.SR1, Severity: auditor.SeverityCritical, Message: "no CNI"}

	cases := map[string]struct {
		scope    string
		findings []auditor.Finding
		want     []Transition
		wantOpen []Record
	}{
		"a finding of the scope that is gone is resolved; others stay with their LastSeen": {
			scope: "a", findings: []auditor.Finding{a2},
			want:     []Transition{{Type: Resolved, At: t1, Record: rec(a1, t0, t0)}},
			wantOpen: []Record{rec(cluster, t0, t0), rec(a2, t0, t1), rec(b1, t0, t0)},
		},
		"a new finding of the scope opens": {
			scope: "b", findings: []auditor.Finding{b1, podIn("b", "p2", auditor.SeverityHigh, "m")},
			want:     []Transition{{Type: Opened, At: t1, Record: rec(podIn("b", "p2", auditor.SeverityHigh, "m"), t1, t1)}},
			wantOpen: []Record{rec(cluster, t0, t0), rec(a1, t0, t0), rec(a2, t0, t0), rec(b1, t0, t1), rec(podIn("b", "p2", auditor.SeverityHigh, "m"), t1, t1)},
		},
		"a changed message in the scope is changed": {
			scope: "a", findings: []auditor.Finding{a1Changed, a2},
			want:     []Transition{{Type: Changed, At: t1, Record: rec(a1Changed, t0, t1), Previous: prev(a1)}},
			wantOpen: []Record{rec(cluster, t0, t0), rec(a1Changed, t0, t1), rec(a2, t0, t1), rec(b1, t0, t0)},
		},
		"an empty scope resolves only its own findings": {
			scope: "c", findings: nil, want: nil,
			wantOpen: []Record{rec(cluster, t0, t0), rec(a1, t0, t0), rec(a2, t0, t0), rec(b1, t0, t0)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := New()
			s.Apply(t0, []auditor.Finding{b1, a2, cluster, a1})
			got := s.ApplyPartial(t1, tc.findings, inNamespace(tc.scope))
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantOpen, s.Open())
			assert.Equal(t, 2, s.Evaluations())
		})
	}
}

func TestApplyPartialKeepsTheSliceReadersHold(t *testing.T) {
	s := New()
	s.Apply(t0, []auditor.Finding{podIn("a", "p1", auditor.SeverityHigh, "m"), podIn("b", "p1", auditor.SeverityHigh, "m")})
	held := s.Open()
	before := append([]Record(nil), held...)
	s.ApplyPartial(t1, nil, inNamespace("a"))
	assert.Equal(t, before, held, "a reader's slice is not modified")
	assert.Len(t, s.Open(), 1)
}

// TestApplyPartialEqualsApply: after random partial applies, one per namespace, the open
// findings are those a full Apply of the same findings gives (times aside), in the same
// order.
func TestApplyPartialEqualsApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	nss := []string{"a", "b", "c", "d"}
	state := map[string][]auditor.Finding{}
	gen := func(ns string) []auditor.Finding {
		var out []auditor.Finding
		for i := 0; i < rng.IntN(6); i++ {
			sev := auditor.Severities[rng.IntN(len(auditor.Severities))]
			f := podIn(ns, fmt.Sprintf("p%d", rng.IntN(8)), sev, fmt.Sprintf("m%d", rng.IntN(3)))
			f.Rule = []string{"r1", "r2"}[rng.IntN(2)]
			out = append(out, f)
		}
		return out
	}
	partial := New()
	for _, ns := range nss {
		state[ns] = gen(ns)
	}
	var all []auditor.Finding
	for _, ns := range nss {
		all = append(all, state[ns]...)
	}
	partial.Apply(t0, all)
	for step := 0; step < 300; step++ {
		ns := nss[rng.IntN(len(nss))]
		state[ns] = gen(ns)
		partial.ApplyPartial(t0.Add(time.Duration(step)*time.Second), state[ns], inNamespace(ns))

		all = all[:0]
		for _, ns := range nss {
			all = append(all, state[ns]...)
		}
		full := New()
		full.Apply(t0, all)
		require.Equal(t, findingsOf(full.Open()), findingsOf(partial.Open()), "step %d", step)
		require.True(t, sort.SliceIsSorted(partial.Open(), func(i, j int) bool {
			return auditor.Less(&partial.Open()[i].Finding, &partial.Open()[j].Finding)
		}))
	}
}

func findingsOf(rs []Record) []auditor.Finding {
	out := make([]auditor.Finding, len(rs))
	for i, r := range rs {
		out[i] = r.Finding
	}
	return out
}
