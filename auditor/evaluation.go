package auditor

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// The outcome of an evaluation, shared by the engine that produces it, the sources that
// say what changed, and the exporters that read it.

// ControlState is the state-set value of a control.
type ControlState string

const (
	Enforced ControlState = "enforced"
	Violated ControlState = "violated"
	Unknown  ControlState = "unknown"
	// NotApplicable: the cluster holds nothing the control covers (no protected
	// namespace, no Kueue-managed namespace, no LiteLLM prod proxy) and the configuration
	// does not claim it (Config.Controls). A claimed control is never not-applicable.
	NotApplicable ControlState = "not-applicable"
)

// ControlStates lists the states in display order.
var ControlStates = []ControlState{Enforced, Violated, Unknown, NotApplicable}

// Evaluation is the outcome of running every rule once over a snapshot.
type Evaluation struct {
	At       time.Time
	Duration time.Duration
	Findings []Finding
	// Inconclusive maps a rule ID to why it could not fully judge.
	Inconclusive map[string][]string
	// NotApplicable maps a control to why it does not apply (see NotApplicable); nil
	// when every control applies.
	NotApplicable map[Control]string
	Controls      map[Control]ControlState
	// Judged lists, per control, the objects in its scope its rules judged (see
	// Result.Judged), sorted; nil when no scope rule ran.
	Judged map[Control][]ObjectRef
	// Dormant are the findings of the controls the configuration does not claim
	// (Config.Controls; see ApplyClaims), sorted like Findings: they never fail a scan,
	// page or make a control violated, and are shown apart as what would fail if the
	// control were claimed. Findings holds the claimed controls' findings only.
	Dormant []Finding
	// Unclaimed lists the controls the configuration does not claim (dormant), in
	// display order; nil when every control is claimed.
	Unclaimed []Control
	// Facts are the rules' measurements, in rule order.
	Facts []Fact
	// Snapshot is the input the evaluation judged (read-only). After an incremental
	// evaluation it is the previous snapshot with the re-read namespaces replaced
	// (Snapshot.WithNamespaces): the state the merged findings describe.
	Snapshot *Snapshot
	// Namespaces is set when the evaluation was incremental: only the ScopeNamespace
	// rules were re-run, on these namespaces, and merged into the previous evaluation.
	// Nil for a full evaluation.
	Namespaces []string
}

// ChangeSet is what changed since the previous evaluation.
type ChangeSet struct {
	// Full is set when something else than an object changed (a resource started or
	// stopped being watched, a list/watch error, the apiserver became unreachable).
	Full bool
	// Reason says why Full is set, for the debug log.
	Reason string
	// Objects maps a resource ID to the namespaces where its objects changed ("" for
	// cluster-scoped objects).
	Objects map[string]map[string]bool
}

// ControlStatus derives each control's state: violated when a finding at or above
// medium severity counts against it, else not-applicable when a rule said the control
// does not apply, else unknown when a rule could not judge, else enforced. Waived
// findings do not count as violations.
func ControlStatus(rules []Rule, findings []Finding, inconclusive map[string][]string, notApplicable map[Control]string) map[Control]ControlState {
	out := map[Control]ControlState{}
	for _, c := range Controls {
		out[c] = Enforced
	}
	defer func() {
		for c, why := range notApplicable {
			if why != "" && out[c] != Violated {
				out[c] = NotApplicable
			}
		}
	}()
	for _, r := range rules {
		m := r.Meta()
		if len(inconclusive[m.ID]) > 0 && out[m.Control] == Enforced {
			out[m.Control] = Unknown
		}
	}
	for _, f := range findings {
		if f.Severity >= SeverityMedium && !f.Waived() {
			out[f.Control] = Violated
		}
	}
	return out
}

// NotClaimed starts the not-applicable reason of a control the configuration does not
// claim (part of the JSON contract's notApplicable reasons).
const NotClaimed = "not claimed by the configuration"

// SplitClaimed separates the findings of the controls claims accepts from the others
// (dormant), keeping their order. A nil claims claims every control.
func SplitClaimed(findings []Finding, claims func(Control) bool) (claimed, dormant []Finding) {
	if claims == nil {
		return findings, nil
	}
	claimed = findings[:0:0]
	for _, f := range findings {
		if claims(f.Control) {
			claimed = append(claimed, f)
		} else {
			dormant = append(dormant, f)
		}
	}
	return claimed, dormant
}

// ApplyClaims makes the controls claims does not accept dormant: their findings move
// from Findings to Dormant, and they are not-applicable whatever was found, the reason
// what a rule said, else NotClaimed naming the claimed controls. A nil claims claims every control and changes nothing. Idempotent; it never
// changes maps it may share with another evaluation (it replaces them).
func (ev *Evaluation) ApplyClaims(claims func(Control) bool) {
	if claims == nil {
		return
	}
	findings, dormant := SplitClaimed(ev.Findings, claims)
	if len(dormant) > 0 {
		ev.Findings = findings
		ev.Dormant = append(slices.Clip(ev.Dormant), dormant...)
		sort.SliceStable(ev.Dormant, func(i, j int) bool { return Less(&ev.Dormant[i], &ev.Dormant[j]) })
	}
	var claimed []string
	for _, c := range Controls {
		if claims(c) {
			claimed = append(claimed, string(c))
		}
	}
	why := NotClaimed + " (controls: none)"
	if len(claimed) > 0 {
		why = NotClaimed + " (controls: " + strings.Join(claimed, ", ") + ")"
	}
	controls := make(map[Control]ControlState, len(ev.Controls))
	for c, st := range ev.Controls {
		controls[c] = st
	}
	notApplicable := make(map[Control]string, len(ev.NotApplicable)+len(Controls))
	for c, r := range ev.NotApplicable {
		notApplicable[c] = r
	}
	ev.Unclaimed = nil
	for _, c := range Controls {
		if claims(c) {
			continue
		}
		ev.Unclaimed = append(ev.Unclaimed, c)
		controls[c] = NotApplicable
		if notApplicable[c] == "" { // a rule's own reason says more
			notApplicable[c] = why
		}
	}
	ev.Controls = controls
	if len(notApplicable) == 0 {
		notApplicable = nil
	}
	ev.NotApplicable = notApplicable
}
