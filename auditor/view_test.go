package auditor

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestViewMemoisedPerEvaluation(t *testing.T) {
	var builds atomic.Int32
	v := NewView(func(s *Snapshot) []string {
		builds.Add(1)
		return s.SortedNamespaceNames()
	})
	other := NewView(func(s *Snapshot) int { builds.Add(1); return len(s.Pods) })
	s := &Snapshot{Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, {ObjectMeta: metav1.ObjectMeta{Name: "a"}}}}
	s.Index()

	assert.Equal(t, []string{"a", "b"}, v.Of(s))
	assert.Equal(t, []string{"a", "b"}, v.Of(s))
	assert.EqualValues(t, 2, builds.Load(), "no memo: built on every call")

	builds.Store(0)
	es := s.ForEvaluation()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			assert.Equal(t, []string{"a", "b"}, v.Of(es))
			assert.Equal(t, 0, other.Of(es))
		})
	}
	wg.Wait()
	assert.EqualValues(t, 2, builds.Load(), "one build per view in one evaluation, under concurrent readers")
	assert.Same(t, s.Namespace("a"), es.Namespace("a"), "objects and lookups are shared")

	v.Of(s.ForEvaluation())
	assert.EqualValues(t, 3, builds.Load(), "another evaluation of the same snapshot builds again")
}

// A view that panics panics again for every reader of that evaluation (the engine
// reports each rule inconclusive) rather than handing out a zero value.
func TestViewPanicRepeats(t *testing.T) {
	calls := 0
	v := NewView(func(*Snapshot) *int { calls++; panic("surprising object") })
	es := (&Snapshot{}).ForEvaluation()
	assert.PanicsWithValue(t, "surprising object", func() { v.Of(es) })
	assert.PanicsWithValue(t, "surprising object", func() { v.Of(es) })
	assert.Equal(t, 1, calls)
}

// ForEvaluation of a lazily indexed snapshot (WithNamespaces) leaves both the copy and
// the original able to answer lookups.
func TestForEvaluationOfLazySnapshot(t *testing.T) {
	s := &Snapshot{Now: time.Unix(1, 0), Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}}, Pods: []*corev1.Pod{podNamed("a", "p")}}
	s.Index()
	part := s.Restrict([]string{"a"})
	merged := s.WithNamespaces(part, []string{"a"})
	es := merged.ForEvaluation()
	require.Len(t, es.PodsIn("a"), 1)
	require.Len(t, merged.PodsIn("a"), 1)
	assert.NotNil(t, merged.Namespace("a"))
}
