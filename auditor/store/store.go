// Package store turns successive evaluations into finding transitions (opened, resolved,
// changed, waived, waiver_expired) with first-seen and last-seen times. Exporters read
// the store, never the rules.
package store

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TransitionType names what happened to a finding between two evaluations.
//
// A finding's life is always bracketed by exactly one Opened and one Resolved; Waived,
// WaiverExpired and Changed happen in between. Each Apply emits at most one transition
// per finding.
type TransitionType string

const (
	// Opened: a finding appeared. When it is born already covered by a waiver the
	// transition is still Opened, with Record.Waiver set: consumers that page should
	// skip opened findings whose Record.Waived() is true.
	Opened TransitionType = "opened"
	// Resolved: an open finding (waived or not) is gone.
	Resolved TransitionType = "resolved"
	// Changed: same rule and object, same waiver state, but severity or message differ.
	Changed TransitionType = "changed"
	// Waived: an open finding became covered by a waiver, or the terms (reason or
	// expiry) of the waiver covering it changed. Previous holds the finding before.
	Waived TransitionType = "waived"
	// WaiverExpired: a waived finding is still open but no longer waived: the waiver
	// expired, was removed, or became invalid. Previous holds the waived finding.
	WaiverExpired TransitionType = "waiver_expired"
)

// TransitionTypes lists every type in the order transitions are sorted.
var TransitionTypes = []TransitionType{Changed, Opened, Resolved, Waived, WaiverExpired}

// Record is an open finding with its history.
type Record struct {
	auditor.Finding
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// Transition is one change in the set of open findings.
type Transition struct {
	Type   TransitionType
	At     time.Time
	Record Record
	// Previous is the finding before a Changed, Waived or WaiverExpired transition.
	Previous *auditor.Finding
}

// State is what the store published after one evaluation: the evaluation (control
// states, facts, inconclusive rules, the snapshot judged), the open findings with their
// history, and the transitions that led there. It is immutable: every exporter reads one
// State whole, so a scrape never shows new findings with old control states.
type State struct {
	// Evaluation is nil when the findings were applied without one (Apply, Restore).
	Evaluation *auditor.Evaluation
	// Open are the open findings, sorted (auditor.Less).
	Open []Record
	// Transitions are what this evaluation changed, ordered by type then finding.
	Transitions []Transition
	// Seq counts publications, from 1.
	Seq uint64
}

// Store holds the open findings. It is safe for concurrent use: the engine writes,
// exporters read.
type Store struct {
	mu      sync.RWMutex
	records map[string]*Record
	sorted  []Record // cached sorted copy, rebuilt on change
	evals   int

	state atomic.Pointer[State]
	subMu sync.Mutex
	subs  []*Subscription
}

// New returns an empty store.
func New() *Store {
	s := &Store{records: map[string]*Record{}}
	s.state.Store(&State{})
	return s
}

// State returns the latest published state (never nil: an empty state before the first).
func (s *Store) State() *State { return s.state.Load() }

// Publish applies a full evaluation (see Apply) and publishes it as the new State.
func (s *Store) Publish(ev *auditor.Evaluation) []Transition {
	return s.publish(ev, s.apply(ev.At, ev.Findings, nil))
}

// PublishPartial applies an incremental evaluation (see ApplyPartial: findings are the
// re-judged ones, ev the merged evaluation) and publishes it as the new State.
func (s *Store) PublishPartial(ev *auditor.Evaluation, findings []auditor.Finding, inScope func(*auditor.Finding) bool) []Transition {
	if inScope == nil {
		inScope = func(*auditor.Finding) bool { return false }
	}
	return s.publish(ev, s.apply(ev.At, findings, inScope))
}

func (s *Store) publish(ev *auditor.Evaluation, tr []Transition) []Transition {
	s.mu.RLock()
	open := s.sorted
	s.mu.RUnlock()
	st := &State{Evaluation: ev, Open: open, Transitions: tr, Seq: s.state.Load().Seq + 1}
	s.state.Store(st)
	s.subMu.Lock()
	for _, sub := range s.subs {
		sub.offer(st)
	}
	s.subMu.Unlock()
	return tr
}

// Subscribe returns a mailbox of published states for a consumer running on its own
// goroutine (an event sink, the evidence writer). It holds the latest state only:
// publishing never blocks, and a consumer slower than the evaluations skips to the
// newest state (each state is complete), counted in Coalesced.
func (s *Store) Subscribe(name string) *Subscription {
	sub := &Subscription{Name: name, c: make(chan *State, 1)}
	s.subMu.Lock()
	s.subs = append(s.subs, sub)
	s.subMu.Unlock()
	return sub
}

// Subscription is one consumer's mailbox (see Store.Subscribe).
type Subscription struct {
	Name      string
	c         chan *State
	coalesced atomic.Uint64
}

// C delivers published states.
func (u *Subscription) C() <-chan *State { return u.c }

// Coalesced counts states replaced in the mailbox before the consumer took them.
func (u *Subscription) Coalesced() uint64 { return u.coalesced.Load() }

func (u *Subscription) offer(st *State) {
	for {
		select {
		case u.c <- st:
			return
		default:
		}
		select {
		case <-u.c:
			u.coalesced.Add(1)
		default:
		}
	}
}

// Apply replaces the open findings with the result of a full evaluation and returns the
// transitions, ordered by type then finding (auditor.Less).
//
// When the waiver state and the severity or message change in the same evaluation,
// the waiver transition wins (Waived or WaiverExpired); Previous still shows the old
// severity and message.
func (s *Store) Apply(now time.Time, findings []auditor.Finding) []Transition {
	return s.publish(nil, s.apply(now, findings, nil))
}

// ApplyPartial is Apply for an evaluation that judged part of the cluster (an
// incremental evaluation of a few namespaces): the findings replace the open findings
// for which inScope is true, and only those can be resolved; the others stay as they
// are, LastSeen included. Every finding given should be in scope. It costs O(open
// findings) without sorting them again.
func (s *Store) ApplyPartial(now time.Time, findings []auditor.Finding, inScope func(*auditor.Finding) bool) []Transition {
	if inScope == nil {
		inScope = func(*auditor.Finding) bool { return false }
	}
	return s.publish(nil, s.apply(now, findings, inScope))
}

// apply implements Apply (inScope nil: everything is in scope) and ApplyPartial.
func (s *Store) apply(now time.Time, findings []auditor.Finding, inScope func(*auditor.Finding) bool) []Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evals++
	seen := make(map[string]bool, len(findings))
	current := make([]*Record, 0, len(findings))
	var out []Transition
	for i := range findings {
		f := findings[i]
		k := f.Key()
		if seen[k] {
			continue // a rule reported the same thing twice: keep the first
		}
		seen[k] = true
		r, ok := s.records[k]
		if !ok {
			r = &Record{Finding: f, FirstSeen: now, LastSeen: now}
			s.records[k] = r
			current = append(current, r)
			out = append(out, Transition{Type: Opened, At: now, Record: *r})
			continue
		}
		current = append(current, r)
		typ, changed := transitionOf(&r.Finding, &f)
		prev := r.Finding
		r.Finding = f
		r.LastSeen = now
		if changed {
			out = append(out, Transition{Type: typ, At: now, Record: *r, Previous: &prev})
		}
	}
	for k, r := range s.records {
		if !seen[k] && (inScope == nil || inScope(&r.Finding)) {
			out = append(out, Transition{Type: Resolved, At: now, Record: *r})
			delete(s.records, k)
		}
	}
	if inScope == nil {
		s.rebuild()
	} else {
		s.rebuildPartial(current, inScope)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return auditor.Less(&out[i].Record.Finding, &out[j].Record.Finding)
	})
	return out
}

// transitionOf compares an open finding with its new version.
func transitionOf(prev, cur *auditor.Finding) (TransitionType, bool) {
	switch {
	case !prev.Waived() && cur.Waived():
		return Waived, true
	case prev.Waived() && !cur.Waived():
		return WaiverExpired, true
	case prev.Waived() && cur.Waived() && !sameWaiver(prev.Waiver, cur.Waiver):
		return Waived, true
	case prev.Severity != cur.Severity || prev.Message != cur.Message:
		return Changed, true
	}
	return "", false
}

func sameWaiver(a, b *auditor.Waiver) bool {
	if a.Reason != b.Reason {
		return false
	}
	if a.Until == nil || b.Until == nil {
		return a.Until == nil && b.Until == nil
	}
	return a.Until.Equal(*b.Until)
}

func (s *Store) rebuild() {
	s.sorted = make([]Record, 0, len(s.records))
	for _, r := range s.records {
		s.sorted = append(s.sorted, *r)
	}
	sort.Slice(s.sorted, func(i, j int) bool { return auditor.Less(&s.sorted[i].Finding, &s.sorted[j].Finding) })
}

// rebuildPartial replaces the sorted copy after a partial apply: the previous copy's
// records outside the scope (untouched), merged with the ones just applied. The
// previous slice is never modified: readers may hold it.
func (s *Store) rebuildPartial(current []*Record, inScope func(*auditor.Finding) bool) {
	fresh := make([]Record, len(current))
	var strays map[string]bool // applied findings outside the scope (a caller's mistake)
	for i, r := range current {
		fresh[i] = *r
		if !inScope(&r.Finding) {
			if strays == nil {
				strays = map[string]bool{}
			}
			strays[r.Key()] = true
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return auditor.Less(&fresh[i].Finding, &fresh[j].Finding) })
	out := make([]Record, 0, len(s.records))
	j := 0
	for i := range s.sorted {
		old := &s.sorted[i]
		if inScope(&old.Finding) || strays != nil && strays[old.Key()] {
			continue // re-judged (in fresh) or resolved
		}
		for j < len(fresh) && auditor.Less(&fresh[j].Finding, &old.Finding) {
			out = append(out, fresh[j])
			j++
		}
		out = append(out, *old)
	}
	s.sorted = append(out, fresh[j:]...)
}

// Open returns the open findings, sorted. The slice is shared: callers must not modify it.
func (s *Store) Open() []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sorted
}

// Evaluations returns how many evaluations were applied.
func (s *Store) Evaluations() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evals
}

// Restore replaces the open findings with records saved earlier (a checkpoint), so that
// the next Apply reports only what changed since they were saved.
func (s *Store) Restore(records []Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = make(map[string]*Record, len(records))
	for i := range records {
		r := records[i]
		s.records[r.Key()] = &r
	}
	s.rebuild()
	s.state.Store(&State{Open: s.sorted, Seq: s.state.Load().Seq + 1})
}

// Sink receives finding transitions (OpenTelemetry events). The app calls it from its
// own goroutine with the transitions a leader announces; it must still not block for
// long: queue and return.
type Sink interface {
	OnTransitions(ev *auditor.Evaluation, transitions []Transition)
}
