package auditor

import "sync"

// A View is a model derived from a snapshot that several rules read: a control's scope
// (its namespaces, the objects it judges, configurations parsed once). A rule family
// builds its view once per evaluation instead of once per rule: the engine hands the
// rules a snapshot prepared by ForEvaluation, whose memo keeps each View's value for
// that one evaluation. On a snapshot without a memo (a rule evaluated on its own) Of
// builds the view on every call.
//
// The memo is keyed by the *View, so a View must be created once per configured rule
// family (its build closes over the configuration) and its build must be a pure
// function of the snapshot. A build that panics panics again for every rule reading it,
// each reported inconclusive by the engine.
type View[T any] struct {
	build func(*Snapshot) T
}

// NewView returns a View built by build.
func NewView[T any](build func(*Snapshot) T) *View[T] { return &View[T]{build: build} }

// Of returns the view of s, built on first use in s's evaluation.
func (v *View[T]) Of(s *Snapshot) T {
	if s.memo == nil {
		return v.build(s)
	}
	out, _ := s.memo.get(v, func() any { return v.build(s) }).(T)
	return out
}

// memo holds the views of one evaluation, keyed by *View; safe for concurrent use.
type memo struct {
	mu   sync.Mutex
	vals map[any]func() any
}

func (m *memo) get(key any, build func() any) any {
	m.mu.Lock()
	f, ok := m.vals[key]
	if !ok {
		f = sync.OnceValue(build)
		m.vals[key] = f
	}
	m.mu.Unlock()
	return f()
}

// ForEvaluation returns a shallow copy of s (objects and lookups shared) with an empty
// view memo: the rules evaluated over it share each View's value. The engine calls it
// once per full or partial evaluation, so a view is derived from exactly the snapshot
// the rules judge (a partial snapshot has views of its own), and evaluating one
// snapshot twice derives them twice, as evaluating two snapshots would.
func (s *Snapshot) ForEvaluation() *Snapshot {
	s.indexed() // a lazily indexed snapshot: build the lookups the copy shares
	c := *s
	c.lazy = nil
	c.memo = &memo{vals: map[any]func() any{}}
	return &c
}
