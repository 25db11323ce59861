package family

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestTally: namespaces in name order, buckets in the order given; a seeded bucket
// publishes zero, an unseeded one only once counted; a bucket not asked for is left out.
func TestTally(t *testing.T) {
	fact := func(ns, b string, v float64) auditor.Fact {
		return auditor.Fact{Metric: "m", Help: "h", Labels: []auditor.Label{{Name: "namespace", Value: ns}, {Name: "b", Value: b}}, Value: v}
	}
	cases := map[string]struct {
		fill func(*Tally)
		want []auditor.Fact
	}{
		"empty": {fill: func(*Tally) {}, want: nil},
		"seeded zero": {fill: func(t *Tally) { t.Seed("b", "x", "y") },
			want: []auditor.Fact{fact("b", "x", 0), fact("b", "y", 0)}},
		"counted and seeded": {fill: func(t *Tally) {
			t.Seed("b", "x")
			t.Add("b", "x", 2)
			t.Add("a", "y", 3)
			t.Add("a", "y", 4)
			t.Add("a", "other", 1)
		}, want: []auditor.Fact{fact("a", "y", 7), fact("b", "x", 2)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tl := NewTally()
			tc.fill(tl)
			assert.Equal(t, tc.want, tl.Facts("m", "h", "b", []string{"x", "y"}))
		})
	}
}
