// Package store turns successive evaluations into finding transitions (opened, resolved,
// changed) with first-seen and last-seen times. Exporters read the store, never the rules.
package store

import (
	"sort"
	"sync"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TransitionType names what happened to a finding between two evaluations.
type TransitionType string

const (
	Opened   TransitionType = "opened"
	Resolved TransitionType = "resolved"
	// Changed: same rule and object, but severity or message differ.
	Changed TransitionType = "changed"
)

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
	// Previous is the finding before a Changed transition.
	Previous *auditor.Finding
}

// Store holds the open findings. It is safe for concurrent use: the engine writes,
// exporters read.
type Store struct {
	mu      sync.RWMutex
	records map[string]*Record
	sorted  []Record // cached sorted copy, rebuilt on change
	evals   int
}

// New returns an empty store.
func New() *Store { return &Store{records: map[string]*Record{}} }

// Apply replaces the open findings with the result of a full evaluation and returns the
// transitions, ordered deterministically.
func (s *Store) Apply(now time.Time, findings []auditor.Finding) []Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evals++
	seen := make(map[string]bool, len(findings))
	var out []Transition
	for i := range findings {
		f := findings[i]
		k := f.Key()
		if seen[k] {
			continue // a rule reported the same thing twice: keep the first
		}
		seen[k] = true
		if r, ok := s.records[k]; ok {
			if r.Severity != f.Severity || r.Message != f.Message {
				prev := r.Finding
				r.Finding = f
				r.LastSeen = now
				out = append(out, Transition{Type: Changed, At: now, Record: *r, Previous: &prev})
			} else {
				r.Finding = f
				r.LastSeen = now
			}
			continue
		}
		r := &Record{Finding: f, FirstSeen: now, LastSeen: now}
		s.records[k] = r
		out = append(out, Transition{Type: Opened, At: now, Record: *r})
	}
	for k, r := range s.records {
		if !seen[k] {
			out = append(out, Transition{Type: Resolved, At: now, Record: *r})
			delete(s.records, k)
		}
	}
	s.rebuild()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return auditor.Less(&out[i].Record.Finding, &out[j].Record.Finding)
	})
	return out
}

func (s *Store) rebuild() {
	s.sorted = make([]Record, 0, len(s.records))
	for _, r := range s.records {
		s.sorted = append(s.sorted, *r)
	}
	sort.Slice(s.sorted, func(i, j int) bool { return auditor.Less(&s.sorted[i].Finding, &s.sorted[j].Finding) })
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
