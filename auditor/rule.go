package auditor

// RuleMeta describes a rule: a stable ID (the JSON contract's `rule` field), the control
// it proves, its default severity and the remediation shown to people.
type RuleMeta struct {
	ID          string
	Control     Control
	Severity    Severity
	Title       string
	Remediation string
	// Inputs lists the resources the rule reads (Resource* constants). The engine uses
	// it to tell when the rule cannot judge (an input not served or forbidden) and the
	// evidence writer to list what was inspected.
	Inputs []string
}

// Result is what one rule returns for one snapshot.
type Result struct {
	Findings []Finding
	// Inconclusive explains why the rule could not fully judge (a CRD not served, a
	// permission denied). A rule with reasons here makes its control "unknown" unless
	// it also found a violation.
	Inconclusive []string
	// Facts are measurements exported as gauges (see Fact).
	Facts []Fact
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
