package auditor

import (
	"slices"
	"sort"
	"strings"
)

// Environment names one platform of several judged in one scan (a GitOps repository's
// overlays: see auditor/gitops) and its evaluation.
type Environment struct {
	Name       string
	Evaluation *Evaluation
}

// stateRank orders control states for merging environments: the worst wins.
var stateRank = map[ControlState]int{NotApplicable: 0, Enforced: 1, Unknown: 2, Violated: 3}

// MergeEnvironments joins the evaluations of several environments into one: every
// finding, marked with its environment (part of its identity, so the same defect in two
// environments is two findings); each control in the worst state any environment has it
// in (violated, unknown, enforced, not-applicable); the reasons of inconclusive rules and
// not-applicable controls prefixed with their environment (a reason several share, once
// after all their names). One environment without a
// name is returned as it is.
func MergeEnvironments(envs []Environment) *Evaluation {
	if len(envs) == 1 && envs[0].Name == "" {
		return envs[0].Evaluation
	}
	out := &Evaluation{Controls: map[Control]ControlState{}, Inconclusive: map[string][]string{}}
	// A reason several environments share is said once, after their names: a tree of
	// twenty overlays without a ConfigMap is one line, not twenty.
	inc := map[string]map[string][]string{}
	order := map[string][]string{}
	for _, e := range envs {
		ev := e.Evaluation
		if ev.At.After(out.At) {
			out.At = ev.At
		}
		out.Duration += ev.Duration
		for _, f := range ev.Findings {
			f.Environment = e.Name
			out.Findings = append(out.Findings, f)
		}
		for _, f := range ev.Dormant {
			f.Environment = e.Name
			out.Dormant = append(out.Dormant, f)
		}
		for c, st := range ev.Controls {
			if cur, ok := out.Controls[c]; !ok || stateRank[st] > stateRank[cur] {
				out.Controls[c] = st
			}
		}
		for rule, why := range ev.Inconclusive {
			for _, w := range why {
				if inc[rule] == nil {
					inc[rule] = map[string][]string{}
				}
				if inc[rule][w] == nil {
					order[rule] = append(order[rule], w)
				}
				inc[rule][w] = append(inc[rule][w], e.Name)
			}
		}
		out.Facts = append(out.Facts, ev.Facts...)
		for c, refs := range ev.Judged {
			if out.Judged == nil {
				out.Judged = map[Control][]ObjectRef{}
			}
			out.Judged[c] = MergeRefs(out.Judged[c], refs)
		}
	}
	for rule, reasons := range order {
		for _, w := range reasons {
			out.Inconclusive[rule] = append(out.Inconclusive[rule], strings.Join(inc[rule][w], ", ")+": "+w)
		}
	}
	for _, e := range envs {
		for c, why := range e.Evaluation.NotApplicable {
			if out.Controls[c] != NotApplicable || why == "" {
				continue
			}
			if out.NotApplicable == nil {
				out.NotApplicable = map[Control]string{}
			}
			if out.NotApplicable[c] == "" {
				out.NotApplicable[c] = e.Name + ": " + why
			} else {
				out.NotApplicable[c] += "; " + e.Name + ": " + why
			}
		}
	}
	for _, why := range out.Inconclusive {
		slices.Sort(why)
	}
	sort.SliceStable(out.Findings, func(i, j int) bool { return Less(&out.Findings[i], &out.Findings[j]) })
	sort.SliceStable(out.Dormant, func(i, j int) bool { return Less(&out.Dormant[i], &out.Dormant[j]) })
	return out
}
