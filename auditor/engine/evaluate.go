// Package engine evaluates rules over snapshots and drives the daemon's evaluation loop:
// debounced on source events, bounded in delay, results applied to the findings store.
package engine

import (
	"fmt"
	"runtime/debug"
	"sort"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// ControlState is the state-set value of a control.
type ControlState string

const (
	Enforced ControlState = "enforced"
	Violated ControlState = "violated"
	Unknown  ControlState = "unknown"
)

// ControlStates lists the states in display order.
var ControlStates = []ControlState{Enforced, Violated, Unknown}

// Evaluation is the outcome of running every rule once over a snapshot.
type Evaluation struct {
	At       time.Time
	Duration time.Duration
	Findings []auditor.Finding
	// Inconclusive maps a rule ID to why it could not fully judge.
	Inconclusive map[string][]string
	Controls     map[auditor.Control]ControlState
	// Facts are the rules' measurements, in rule order.
	Facts []auditor.Fact
	// Snapshot is the input the evaluation judged (read-only). After an incremental
	// evaluation it is the previous snapshot with the re-read namespaces replaced
	// (auditor.Snapshot.WithNamespaces): the state the merged findings describe.
	Snapshot *auditor.Snapshot
	// Namespaces is set when the evaluation was incremental: only the ScopeNamespace
	// rules were re-run, on these namespaces, and merged into the previous evaluation.
	// Nil for a full evaluation.
	Namespaces []string
}

// Evaluate runs every rule over the snapshot and applies the waivers found on the
// objects; a waiver expiring more than maxWaiver ahead waives nothing (zero: no bound). A rule whose inputs are forbidden, failing
// or not yet synced is reported inconclusive; a rule that panics on a surprising object
// is reported inconclusive with the panic, and the others still run.
//
// The facts of a ScopeNamespace rule are ordered by their namespace label (stable), so
// that an incremental evaluation, which replaces one namespace's facts, yields the same
// order as a full one.
func Evaluate(rules []auditor.Rule, s *auditor.Snapshot, maxWaiver time.Duration) *Evaluation {
	ev, _ := evaluate(rules, s, maxWaiver)
	return ev
}

// evaluate is Evaluate, also returning each rule's facts (indexed like rules).
func evaluate(rules []auditor.Rule, s *auditor.Snapshot, maxWaiver time.Duration) (*Evaluation, [][]auditor.Fact) {
	ev := &Evaluation{Snapshot: s, At: s.Now, Inconclusive: map[string][]string{}, Controls: map[auditor.Control]ControlState{}}
	facts := make([][]auditor.Fact, len(rules))
	for i, r := range rules {
		m := r.Meta()
		inconclusive, res := judge(r, m, s)
		if m.Scope == auditor.ScopeNamespace {
			sortFactsByNamespace(res.Facts)
		}
		facts[i] = res.Facts
		ev.Findings = append(ev.Findings, res.Findings...)
		ev.Facts = append(ev.Facts, res.Facts...)
		if len(inconclusive) > 0 {
			ev.Inconclusive[m.ID] = append(ev.Inconclusive[m.ID], inconclusive...)
		}
	}
	applyWaivers(ev.Findings, s, maxWaiver)
	sort.SliceStable(ev.Findings, func(i, j int) bool { return store.Less(&ev.Findings[i], &ev.Findings[j]) })
	ev.Controls = ControlStatus(rules, ev.Findings, ev.Inconclusive)
	return ev, facts
}

// judge runs one rule: why it cannot fully judge (inputs it cannot see, what it says
// itself) and its result.
func judge(r auditor.Rule, m auditor.RuleMeta, s *auditor.Snapshot) ([]string, auditor.Result) {
	var inconclusive []string
	for _, in := range m.Inputs {
		a := s.AvailabilityOf(in)
		switch a.State {
		case auditor.Forbidden, auditor.Failing, auditor.Pending:
			msg := fmt.Sprintf("%s is %s", in, a.State)
			if a.Message != "" {
				msg += ": " + a.Message
			}
			inconclusive = append(inconclusive, msg)
		}
	}
	res := safeEvaluate(r, s)
	return append(inconclusive, res.Inconclusive...), res
}

func safeEvaluate(r auditor.Rule, s *auditor.Snapshot) (res auditor.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = auditor.Result{Inconclusive: []string{fmt.Sprintf("rule failed on unexpected input: %v\n%s", p, firstFrames(debug.Stack()))}}
		}
	}()
	return r.Evaluate(s)
}

func firstFrames(stack []byte) string {
	const max = 2048
	if len(stack) > max {
		return string(stack[:max])
	}
	return string(stack)
}

// ControlStatus derives each control's state: violated when a finding at or above
// medium severity counts against it, else unknown when a rule could not judge, else
// enforced. Waived findings do not count as violations.
func ControlStatus(rules []auditor.Rule, findings []auditor.Finding, inconclusive map[string][]string) map[auditor.Control]ControlState {
	out := map[auditor.Control]ControlState{}
	for _, c := range auditor.Controls {
		out[c] = Enforced
	}
	for _, r := range rules {
		m := r.Meta()
		if len(inconclusive[m.ID]) > 0 && out[m.Control] == Enforced {
			out[m.Control] = Unknown
		}
	}
	for _, f := range findings {
		if f.Severity >= auditor.SeverityMedium && !f.Waived() {
			out[f.Control] = Violated
		}
	}
	return out
}
