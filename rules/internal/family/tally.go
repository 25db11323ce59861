package family

import (
	"slices"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Tally counts per namespace and bucket (a probe outcome, a GPU coverage) for a fact
// labelled with both: namespace by namespace, in name order, its buckets in the order
// given.
type Tally struct {
	counts map[string]map[string]int64
}

// NewTally returns an empty tally.
func NewTally() *Tally { return &Tally{counts: map[string]map[string]int64{}} }

// Seed makes a namespace publish the buckets even while they count zero, so that a
// dashboard sees the namespace before its first count.
func (t *Tally) Seed(ns string, buckets ...string) {
	if t.counts[ns] == nil {
		t.counts[ns] = map[string]int64{}
	}
	for _, b := range buckets {
		t.counts[ns][b] += 0
	}
}

// Add counts n in a namespace's bucket.
func (t *Tally) Add(ns, bucket string, n int64) {
	t.Seed(ns)
	t.counts[ns][bucket] += n
}

// Namespaces lists the namespaces counted or seeded, in name order.
func (t *Tally) Namespaces() []string {
	out := make([]string, 0, len(t.counts))
	for ns := range t.counts {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

// Facts returns one fact per namespace and bucket seeded or counted, labelled namespace
// and bucketLabel; nil when nothing was.
func (t *Tally) Facts(metric, help, bucketLabel string, buckets []string) []auditor.Fact {
	var out []auditor.Fact
	for _, ns := range t.Namespaces() {
		for _, b := range buckets {
			v, ok := t.counts[ns][b]
			if !ok {
				continue
			}
			out = append(out, auditor.Fact{
				Metric: metric,
				Help:   help,
				Labels: []auditor.Label{{Name: "namespace", Value: ns}, {Name: bucketLabel, Value: b}},
				Value:  float64(v),
			})
		}
	}
	return out
}
