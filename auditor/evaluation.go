package auditor

import "time"

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
