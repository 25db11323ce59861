// Package engine evaluates rules over snapshots and drives the daemon's evaluation loop:
// debounced on source events, bounded in delay, results applied to the findings store.
package engine

import (
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Evaluate runs every rule over the snapshot and applies the waivers found on the
// objects; a waiver expiring more than maxWaiver ahead waives nothing (zero: no bound). A rule whose inputs are forbidden, failing
// or not yet synced is reported inconclusive; a rule that panics on a surprising object
// is reported inconclusive with the panic, and the others still run.
//
// The facts of a ScopeNamespace rule are ordered by their namespace label (stable), so
// that an incremental evaluation, which replaces one namespace's facts, yields the same
// order as a full one.
func Evaluate(rules []auditor.Rule, s *auditor.Snapshot, maxWaiver time.Duration) *auditor.Evaluation {
	ev, _ := evaluate(rules, s, maxWaiver)
	return ev
}

// evaluate is Evaluate, also returning each rule's facts (indexed like rules).
func evaluate(rules []auditor.Rule, s *auditor.Snapshot, maxWaiver time.Duration) (*auditor.Evaluation, [][]auditor.Fact) {
	ev := &auditor.Evaluation{Snapshot: s, At: s.Now, Inconclusive: map[string][]string{}, Controls: map[auditor.Control]auditor.ControlState{}}
	facts := make([][]auditor.Fact, len(rules))
	es := s.ForEvaluation() // the rule families' views, built once for this evaluation
	for i, r := range rules {
		m := r.Meta()
		inconclusive, res := judge(r, m, es)
		if s.Partial || len(s.Scope) > 0 {
			res.Findings, inconclusive = withoutAbsences(s, m, res.Findings, inconclusive)
		}
		if m.Scope == auditor.ScopeNamespace {
			sortFactsByNamespace(res.Facts)
		}
		facts[i] = res.Facts
		ev.Findings = append(ev.Findings, res.Findings...)
		ev.Facts = append(ev.Facts, res.Facts...)
		if len(inconclusive) > 0 {
			ev.Inconclusive[m.ID] = append(ev.Inconclusive[m.ID], inconclusive...)
		}
		if len(res.Judged) > 0 {
			if ev.Judged == nil {
				ev.Judged = map[auditor.Control][]auditor.ObjectRef{}
			}
			ev.Judged[m.Control] = auditor.MergeRefs(ev.Judged[m.Control], res.Judged)
		}
		if res.NotApplicable != "" {
			if ev.NotApplicable == nil {
				ev.NotApplicable = map[auditor.Control]string{}
			}
			ev.NotApplicable[m.Control] = res.NotApplicable
		}
	}
	applyWaivers(ev.Findings, s, maxWaiver)
	applyLocations(ev.Findings, s)
	sort.SliceStable(ev.Findings, func(i, j int) bool { return auditor.Less(&ev.Findings[i], &ev.Findings[j]) })
	ev.Controls = auditor.ControlStatus(rules, ev.Findings, ev.Inconclusive, ev.NotApplicable)
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
	if s.Offline() {
		for _, in := range m.Needs {
			if !s.Saw(in) {
				inconclusive = append(inconclusive, NotSeen(in))
			}
		}
	}
	res := safeEvaluate(r, s)
	return append(inconclusive, res.Inconclusive...), res
}

// withoutAbsences turns the findings that rest on an absence (RuleMeta.Absence,
// Finding.Absent) into reasons the rule could not judge when what was not read may hold
// the object: a partial scan reads some of the files, so any absence among them; a scan
// scoped to namespaces (Snapshot.Scope) read every cluster-scoped object and the
// namespaced objects of those namespaces, so an absence elsewhere.
func withoutAbsences(s *auditor.Snapshot, m auditor.RuleMeta, findings []auditor.Finding, inconclusive []string) ([]auditor.Finding, []string) {
	kept := findings[:0:0]
	for _, f := range findings {
		absent := f.Absent
		if len(absent) == 0 {
			absent = m.Absence
		}
		what := "its finding"
		if f.Object != nil {
			what = "its finding on " + f.Object.String()
		}
		switch {
		case len(absent) == 0:
			kept = append(kept, f)
		case s.Partial:
			inconclusive = append(inconclusive, fmt.Sprintf("partial scan: %s rests on no %s being among the inputs, and the files not scanned may hold one; scan them all to judge it",
				what, kindsOf(absent)))
		case readWhole(s, f, absent):
			kept = append(kept, f)
		default:
			inconclusive = append(inconclusive, fmt.Sprintf("scan scoped to namespaces %s: %s rests on no %s being among the objects read, and the namespaces not read may hold one; scan the cluster to judge it",
				strings.Join(s.Scope, ", "), what, kindsOf(absent)))
		}
	}
	return kept, inconclusive
}

// readWhole reports whether a scoped snapshot read all the objects a finding's absence
// is about: those of its own namespace when that namespace was read, cluster-scoped ones
// always.
func readWhole(s *auditor.Snapshot, f auditor.Finding, absent []string) bool {
	ns := ""
	if o := f.Object; o != nil {
		ns = o.Namespace
		if o.Kind == "Namespace" && o.Namespace == "" {
			ns = o.Name
		}
	}
	if ns != "" {
		return slices.Contains(s.Scope, ns)
	}
	for _, r := range absent {
		if info, ok := auditor.LookupResource(r); !ok || info.Namespaced {
			return false
		}
	}
	return true
}

// kindsOf names resources by their kinds: "NetworkPolicy", "ClusterPolicy or ValidatingPolicy".
func kindsOf(resources []string) string {
	kinds := make([]string, 0, len(resources))
	for _, r := range resources {
		k := r
		if info, ok := auditor.LookupResource(r); ok {
			k = info.Kind
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return strings.Join(kinds, " or ")
}

// NotSeen says that a scan's inputs held no object of a resource the rule needs, naming
// the input (the prefix "no <Kind> among the inputs" is part of the JSON contract's
// inconclusive reasons).
func NotSeen(resource string) string {
	kind := resource
	if r, ok := auditor.LookupResource(resource); ok {
		kind = r.Kind
	}
	return fmt.Sprintf("no %s among the inputs (%s): add them to the scan or scan the live cluster", kind, resource)
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
