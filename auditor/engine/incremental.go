package engine

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Incremental evaluation. At 100k pods a full evaluation costs about a second of CPU; one
// pod event must not. A source that records what changed (IncrementalSource) lets the
// runner re-run only the ScopeNamespace rules, on a partial snapshot of the namespaces
// whose namespace-local objects (LocalResources) changed, and merge the result into the
// previous evaluation: findings and facts about those namespaces are replaced, the rest
// is kept. Anything else (a cluster-scoped object, a NetworkPolicy, a ConfigMap, an
// availability change, a trigger the source did not record, the periodic resync) is a
// full evaluation. A namespaced rule that is or becomes inconclusive forces a full
// evaluation too: its reasons are plain strings that cannot be attributed to a namespace.

// IncrementalSource is a Source that records what changed between evaluations and can
// read part of the cluster.
type IncrementalSource interface {
	Source
	// Changes returns what changed since the previous call, and forgets it.
	Changes() auditor.ChangeSet
	// PartialSnapshot returns the given namespaces' own objects (namespaced objects and
	// Namespace objects) and every other cluster-scoped object, with the availability of
	// every resource: the shape of auditor.Snapshot.Restrict.
	PartialSnapshot(now time.Time, namespaces []string) (*auditor.Snapshot, error)
}

// LocalResources are the resources only ScopeNamespace rules may read (see
// auditor.ScopeCluster and auditor.ResourceInfo.Local): pods, the kinds that can own
// pods, Kueue Workloads. A change of any other resource is a full evaluation.
var LocalResources = func() map[string]bool {
	out := map[string]bool{}
	for _, r := range auditor.Kinds {
		if r.Local {
			out[r.ID] = true
		}
	}
	return out
}()

// plan turns a change set into the namespaces to re-evaluate, or the reason to
// evaluate everything.
func plan(cs auditor.ChangeSet, maxNamespaces int) ([]string, string) {
	if cs.Full {
		if cs.Reason == "" {
			return nil, "the source reported a cluster-level change"
		}
		return nil, cs.Reason
	}
	if len(cs.Objects) == 0 {
		return nil, "triggered without a recorded object change"
	}
	set := map[string]bool{}
	for res, nss := range cs.Objects {
		if !LocalResources[res] {
			return nil, res + " changed"
		}
		for ns := range nss {
			if ns == "" {
				return nil, "a cluster-scoped " + res + " changed"
			}
			set[ns] = true
		}
	}
	if len(set) > maxNamespaces {
		return nil, fmt.Sprintf("%d namespaces changed (more than %d)", len(set), maxNamespaces)
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out, ""
}

// FindingNamespace returns the namespace a finding is about: its object's namespace,
// or the name of a Namespace object. False for findings on cluster-scoped objects and
// findings without an object.
func FindingNamespace(f *auditor.Finding) (string, bool) {
	if f.Object == nil {
		return "", false
	}
	if f.Object.Namespace != "" {
		return f.Object.Namespace, true
	}
	if f.Object.Kind == "Namespace" && (f.Object.APIVersion == "v1" || f.Object.APIVersion == "") {
		return f.Object.Name, f.Object.Name != ""
	}
	return "", false
}

// FactNamespace returns a fact's namespace label.
func FactNamespace(f *auditor.Fact) (string, bool) {
	for _, l := range f.Labels {
		if l.Name == "namespace" {
			return l.Value, true
		}
	}
	return "", false
}

func factKey(f *auditor.Fact) string {
	ns, _ := FactNamespace(f)
	return ns
}

// sortFactsByNamespace orders a namespaced rule's facts by namespace label, stably;
// facts without one come first.
func sortFactsByNamespace(facts []auditor.Fact) {
	sort.SliceStable(facts, func(i, j int) bool { return factKey(&facts[i]) < factKey(&facts[j]) })
}

// mergeFacts appends to out old without the facts of the namespaces in, merged with
// fresh (facts of those namespaces only); both inputs ordered by namespace.
func mergeFacts(out, old, fresh []auditor.Fact, in func(string) bool) []auditor.Fact {
	j := 0
	for i := range old {
		ns, ok := FactNamespace(&old[i])
		if ok && in(ns) {
			continue
		}
		for j < len(fresh) && factKey(&fresh[j]) < factKey(&old[i]) {
			out = append(out, fresh[j])
			j++
		}
		out = append(out, old[i])
	}
	return append(out, fresh[j:]...)
}

// mergeFindings returns old (sorted) without the findings drop selects, merged with
// fresh (sorted).
func mergeFindings(old, fresh []auditor.Finding, drop func(*auditor.Finding) bool) []auditor.Finding {
	out := make([]auditor.Finding, 0, len(old)+len(fresh))
	j := 0
	for i := range old {
		if drop(&old[i]) {
			continue
		}
		for j < len(fresh) && auditor.Less(&fresh[j], &old[i]) {
			out = append(out, fresh[j])
			j++
		}
		out = append(out, old[i])
	}
	return append(out, fresh[j:]...)
}

func namespaceSet(namespaces []string) func(string) bool {
	set := make(map[string]bool, len(namespaces))
	for _, n := range namespaces {
		set[n] = true
	}
	return func(ns string) bool { return set[ns] }
}

func sameAvailability(a, b map[string]auditor.Availability) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// partial is the result of re-running the namespaced rules on some namespaces.
type partial struct {
	ev       *auditor.Evaluation
	facts    [][]auditor.Fact
	findings []auditor.Finding // the re-evaluated namespaces' findings, waivers applied
	inScope  func(*auditor.Finding) bool
}

// evaluatePartial re-runs the namespaced rules on a partial snapshot of namespaces and
// merges the result into last. It returns the reason when only a full evaluation can be
// exact.
func (r *Runner) evaluatePartial(start time.Time, last *auditor.Evaluation, lastFacts [][]auditor.Fact, namespaces []string) (*partial, string) {
	in := namespaceSet(namespaces)
	// The rules to re-run: namespaced ones reporting about a changed namespace.
	var run []int
	wide := false
	for _, i := range r.namespaced {
		m := r.opts.Rules[i].Meta()
		if len(m.Subjects) > 0 && !slices.ContainsFunc(m.Subjects, in) {
			continue
		}
		if len(last.Inconclusive[m.ID]) > 0 {
			return nil, "namespaced rule " + m.ID + " is inconclusive"
		}
		run = append(run, i)
		wide = wide || m.ReadsNamespaces
	}
	part, err := r.incremental().PartialSnapshot(start, namespaces)
	if err != nil {
		return nil, "partial snapshot failed: " + err.Error()
	}
	if !sameAvailability(part.Availability, last.Snapshot.Availability) {
		return nil, "resource availability changed"
	}
	merged := last.Snapshot.WithNamespaces(part, namespaces)
	if wide {
		// Namespace objects did not change (that is a full evaluation): the other ones
		// are the last snapshot's.
		wp := *part
		wp.Namespaces = merged.Namespaces
		wp.Index()
		part = &wp
	}
	part = part.ForEvaluation() // the rule families' views, built once for this pass
	fresh := make(map[int][]auditor.Fact, len(run))
	var findings []auditor.Finding
	for _, i := range run {
		rule := r.opts.Rules[i]
		m := rule.Meta()
		inconclusive, res := judge(rule, m, part)
		if len(inconclusive) > 0 {
			return nil, "namespaced rule " + m.ID + " became inconclusive"
		}
		for _, f := range res.Findings {
			if ns, ok := FindingNamespace(&f); ok && in(ns) {
				findings = append(findings, f)
			}
		}
		var fs []auditor.Fact
		for _, f := range res.Facts {
			if ns, ok := FactNamespace(&f); ok && in(ns) {
				fs = append(fs, f)
			}
		}
		sortFactsByNamespace(fs)
		fresh[i] = fs
	}
	// One new slice of facts; each rule's facts are a window of it.
	n := 0
	for i, fs := range lastFacts {
		n += len(fs) + len(fresh[i])
	}
	all := make([]auditor.Fact, 0, n)
	facts := make([][]auditor.Fact, len(lastFacts))
	for i, old := range lastFacts {
		from := len(all)
		if fs, rerun := fresh[i]; rerun {
			all = mergeFacts(all, old, fs, in)
		} else {
			all = append(all, old...)
		}
		facts[i] = all[from:len(all):len(all)]
	}
	applyWaivers(findings, part, r.opts.WaiverMaxDuration)
	applyLocations(findings, part)
	sort.SliceStable(findings, func(i, j int) bool { return auditor.Less(&findings[i], &findings[j]) })
	rerun := make(map[string]bool, len(run))
	for _, i := range run {
		rerun[r.opts.Rules[i].Meta().ID] = true
	}
	inScope := func(f *auditor.Finding) bool {
		if !rerun[f.Rule] {
			return false
		}
		ns, ok := FindingNamespace(f)
		return ok && in(ns)
	}
	// The dormant findings (controls not claimed) are merged apart, and never published.
	findings, dormant := auditor.SplitClaimed(findings, r.opts.Claims)
	ev := &auditor.Evaluation{
		At:           start,
		Findings:     mergeFindings(last.Findings, findings, inScope),
		Inconclusive: last.Inconclusive,
		// Scope is judged by cluster-scoped rules, which an incremental pass does not re-run.
		NotApplicable: last.NotApplicable,
		Judged:        last.Judged,
		Snapshot:      merged,
		Namespaces:    namespaces,
		Facts:         all,
	}
	if d := mergeFindings(last.Dormant, dormant, inScope); len(d) > 0 {
		ev.Dormant = d
	}
	ev.Controls = auditor.ControlStatus(r.opts.Rules, ev.Findings, ev.Inconclusive, ev.NotApplicable)
	ev.ApplyClaims(r.opts.Claims)
	return &partial{ev: ev, facts: facts, findings: findings, inScope: inScope}, ""
}
