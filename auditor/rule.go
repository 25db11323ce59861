package auditor

import corev1 "k8s.io/api/core/v1"

// RuleMeta describes a rule: a stable ID (the JSON contract's `rule` field), the control
// it proves, its default severity and the remediation shown to people.
type RuleMeta struct {
	ID       string
	Control  Control
	Severity Severity
	Title    string
	// Pass says, in words, what holds when the rule finds nothing ("every protected
	// namespace is isolated for ingress"): the message of its pass results in the policy
	// reports.
	Pass        string
	Remediation string
	// Inputs lists the resources the rule reads (Resource* constants). The engine uses
	// it to tell when the rule cannot judge (an input not served or forbidden) and the
	// evidence writer to list what was inspected.
	Inputs []string
	// Needs lists the Inputs the rule's silence rests on: when one was not seen
	// (Snapshot.Saw: offline, no object of the kind among the inputs), the rule has not
	// judged and its control is not `enforced` but `unknown`, naming the input. An input
	// left out may only add findings or detail (an AdminNetworkPolicy, a pod's owner).
	Needs []string
	// Absence lists the resources whose absence every finding of the rule rests on (no
	// isolating NetworkPolicy, no gate ClusterPolicy): a partial scan (Snapshot.Partial),
	// which reads only some of the files, cannot know that none exists elsewhere, so the
	// engine reports such findings as not among the inputs instead. A rule of which only
	// some findings rest on an absence sets Finding.Absent on those instead.
	Absence []string
	// Pods says which pods the rule reads whole; nil when it reads none. The live
	// source keeps whole only the pods some configured rule wants (PodsRead) and caches
	// the others as stubs no snapshot shows, so a rule that reads pods must say which.
	Pods func(*corev1.Pod) bool
	// Scope says what a change of one namespace's objects can affect (see RuleScope).
	// Zero: ScopeCluster.
	Scope RuleScope
	// Subjects, for a ScopeNamespace rule, lists the only namespaces it reports about
	// (the SR1 protected namespaces); an event elsewhere does not re-run it. Nil: any.
	Subjects []string
	// ReadsNamespaces, for a ScopeNamespace rule, says that what it reports about one
	// namespace also depends on other Namespace objects (it matches namespaceSelectors):
	// its partial snapshots then hold every Namespace.
	ReadsNamespaces bool
}

// RuleScope tells the engine how much of a snapshot a rule's verdicts depend on, so that
// an event in one namespace re-evaluates only what it can change. A namespace's own
// objects are its namespaced objects and its Namespace object.
type RuleScope string

const (
	// ScopeCluster: the rule may read anything; the engine re-evaluates it on a full
	// snapshot. Such a rule must not read the namespace-local resources (pods, pod
	// owners, Kueue Workloads: engine.LocalResources): the engine does not re-run it
	// when only those change.
	ScopeCluster RuleScope = ""
	// ScopeNamespace: for every namespace ns, what the rule reports about ns (findings on
	// objects of ns or on the Namespace ns itself; facts labelled namespace=ns) depends
	// only on ns's own objects and on cluster-scoped objects other than Namespaces
	// (unless ReadsNamespaces). The engine then re-evaluates it on a partial snapshot
	// holding the changed namespaces' own objects and the other cluster-scoped objects
	// (Snapshot.Restrict), and keeps only what it reports about those namespaces.
	// Findings about no namespace (cluster-scoped objects) and facts without a namespace
	// label must depend on cluster-scoped objects other than Namespaces only.
	ScopeNamespace RuleScope = "namespace"
)

// Result is what one rule returns for one snapshot.
type Result struct {
	Findings []Finding
	// Inconclusive explains why the rule could not fully judge (a CRD not served, a
	// permission denied). A rule with reasons here makes its control "unknown" unless
	// it also found a violation.
	Inconclusive []string
	// Facts are measurements exported as gauges (see Fact).
	Facts []Fact
	// NotApplicable, when set, says why the rule's control does not apply to this
	// snapshot (the control is then not-applicable unless a finding violates it).
	NotApplicable string
	// Judged, from a control's scope rule, lists what the control covers and its rules
	// judged (the protected Namespaces, the Kueue-managed Namespaces, the prod LiteLLM
	// configs): a pass result in the policy reports names each of them.
	Judged []ObjectRef
}

// Rule is a pure function over a Snapshot: no client, no clock, no globals. Everything
// it needs is in the snapshot or in the configuration given to its constructor.
type Rule interface {
	Meta() RuleMeta
	Evaluate(s *Snapshot) Result
}

// NewFinding fills the rule's identity into a finding.
func (m RuleMeta) NewFinding(obj *ObjectRef, msg string) Finding {
	return Finding{Rule: m.ID, Control: m.Control, Severity: m.Severity, Object: obj, Message: msg, Remediation: m.Remediation}
}

// PodsRead is the union of the rules' pod predicates (RuleMeta.Pods): the pods a source
// must keep whole for these rules.
func PodsRead(rules []Rule) func(*corev1.Pod) bool {
	var preds []func(*corev1.Pod) bool
	for _, r := range rules {
		if p := r.Meta().Pods; p != nil {
			preds = append(preds, p)
		}
	}
	return func(p *corev1.Pod) bool {
		for _, keep := range preds {
			if keep(p) {
				return true
			}
		}
		return false
	}
}
