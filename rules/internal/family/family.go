// Package family holds what the rule packages share (rules/sr1, sr2, sr3, waivers): a
// rule as a check over its family's view (auditor.View), the scope rule every control
// has, and the references and lists findings name.
package family

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Check is one rule of a family: its metadata and a judgement over the family's view V
// of the snapshot (and the snapshot itself, for what only this rule reads).
type Check[V any] struct {
	Meta auditor.RuleMeta
	Eval func(v V, s *auditor.Snapshot) auditor.Result
}

// Rules turns a family's checks into rules that all read one view: within an
// evaluation (auditor.Snapshot.ForEvaluation) it is built once, for the first of them.
func Rules[V any](view *auditor.View[V], checks ...Check[V]) []auditor.Rule {
	out := make([]auditor.Rule, 0, len(checks))
	for _, c := range checks {
		out = append(out, viewRule[V]{check: c, view: view})
	}
	return out
}

type viewRule[V any] struct {
	check Check[V]
	view  *auditor.View[V]
}

func (r viewRule[V]) Meta() auditor.RuleMeta { return r.check.Meta }
func (r viewRule[V]) Evaluate(s *auditor.Snapshot) auditor.Result {
	return r.check.Eval(r.view.Of(s), s)
}

// New builds a rule that reads no view from its metadata and evaluation function.
func New(meta auditor.RuleMeta, eval func(s *auditor.Snapshot) auditor.Result) auditor.Rule {
	return funcRule{meta: meta, eval: eval}
}

type funcRule struct {
	meta auditor.RuleMeta
	eval func(s *auditor.Snapshot) auditor.Result
}

func (r funcRule) Meta() auditor.RuleMeta                      { return r.meta }
func (r funcRule) Evaluate(s *auditor.Snapshot) auditor.Result { return r.eval(s) }

// The scope rules say whether a control covers anything at all: SR1 the protected
// namespaces, SR2 the Kueue-managed namespaces, SR3 a LiteLLM prod proxy. With nothing in
// scope every other rule of the control is silent, which must not read as enforced: a
// control the configuration claims (Config.Controls) is then a finding live and unknown
// in a scan (a scan cannot know the cluster's other objects); a control it does not
// claim is not-applicable.

// Scope builds a family's scope rule: inScope lists what the view holds that the
// control covers (the objects its rules judge; the pass results of the policy reports
// name them); seen whether the inputs that tell are knowledge (Snapshot.Saw); what names
// what is missing ("no protected namespace (serving, inference)").
func Scope[V any](cfg auditor.Config, meta auditor.RuleMeta, what string, seen func(*auditor.Snapshot) bool, inScope func(V) []auditor.ObjectRef) Check[V] {
	claimed := cfg.Claims(meta.Control)
	return Check[V]{Meta: meta, Eval: func(v V, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		var judged []auditor.ObjectRef
		if seen(s) {
			judged = inScope(v)
		}
		live := !s.Offline() && len(s.Scope) == 0 // a scoped scan did not read the other namespaces
		if !s.Offline() && !seen(s) {
			return res // the engine reports the inputs it could not read
		}
		if len(judged) > 0 {
			res.Judged = judged
			return res
		}
		where := "the cluster has"
		switch {
		case len(s.Scope) > 0:
			where = "the namespaces read (" + strings.Join(s.Scope, ", ") + ") hold"
		case !live:
			where = "the inputs hold"
		}
		switch {
		case !claimed:
			res.NotApplicable = fmt.Sprintf("%s is not claimed (config controls) and %s %s", meta.Control, where, what)
		case live:
			res.Findings = append(res.Findings, meta.NewFinding(nil, fmt.Sprintf(
				"%s is claimed (config controls) but the cluster has %s: nothing it covers exists, so nothing is enforced", meta.Control, what)))
		default:
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
				"%s is claimed (config controls) but %s %s: a scan cannot know the cluster's other objects", meta.Control, where, what))
		}
		return res
	}}
}

// PodRef is a finding's reference to a pod.
func PodRef(p *corev1.Pod) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name}
}

// Terminated reports whether a pod has finished (Succeeded or Failed): it holds no
// resources and accepts no connection.
func Terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// NamespaceRef is a finding's reference to a Namespace.
func NamespaceRef(name string) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: name}
}

// NamespaceNames lists the namespaces' names, in order.
func NamespaceNames(nss []*corev1.Namespace) []string {
	out := make([]string, 0, len(nss))
	for _, n := range nss {
		out = append(out, n.Name)
	}
	return out
}

// JoinBounded joins names for a message, keeping it bounded.
func JoinBounded(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
