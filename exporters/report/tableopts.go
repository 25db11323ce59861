package report

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TableOptions change how the table shows a report, never what it holds: the other
// formats, the counts and the exit status stay the same.
type TableOptions struct {
	// Color writes severities and control states in ANSI colours (a terminal that
	// did not ask otherwise: see NO_COLOR).
	Color bool
	// MinSeverity leaves the findings below it out of the table (scan --severity); the
	// summary line still counts them, and a line says how many were not shown.
	MinSeverity auditor.Severity
	// Quiet shows only what fails the scan: the controls with a finding at or above
	// --fail-on (not waived) and those findings, then the verdict lines (scan --quiet).
	Quiet bool
}

// WithTable sets how the table shows the report.
func (r *Report) WithTable(o TableOptions) *Report {
	r.table = o
	return r
}

// SetColor turns the table's colours on or off (colour only for a terminal: the same
// report written to a file has none).
func (r *Report) SetColor(on bool) { r.table.Color = on }

const ansiReset = "\x1b[0m"

var severityColors = map[string]string{
	"CRITICAL": "\x1b[1;31m", "HIGH": "\x1b[31m", "MEDIUM": "\x1b[33m", "LOW": "\x1b[36m", "INFO": "\x1b[2m", "WAIVED": "\x1b[2m",
}

var stateColors = map[auditor.ControlState]string{
	auditor.Violated: "\x1b[1;31m", auditor.Unknown: "\x1b[33m", auditor.Enforced: "\x1b[32m", auditor.NotApplicable: "\x1b[2m",
}

// paint colours s (already padded) when the table is in colour.
func (r *Report) paint(code, s string) string {
	if !r.table.Color || code == "" {
		return s
	}
	return code + s + ansiReset
}

// shown reports whether the table shows a finding under --severity and --quiet.
func (r *Report) shown(f auditor.Finding) bool {
	if f.Severity < r.table.MinSeverity {
		return false
	}
	return !r.table.Quiet || r.fails(f)
}

// fails reports whether a finding alone fails the scan.
func (r *Report) fails(f auditor.Finding) bool { return !f.Waived() && f.Severity >= r.failOn }

// hiddenLine says how many findings --severity left out of the table; "" when none.
func (r *Report) hiddenLine() string {
	if r.table.MinSeverity <= auditor.SeverityInfo || r.table.Quiet {
		return ""
	}
	n := 0
	for _, f := range r.Findings {
		if f.Severity < r.table.MinSeverity {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s below --severity %s not shown", n, plural(n, "finding", "findings"), r.table.MinSeverity)
}

func (r *Report) stateWord(st auditor.ControlState) string {
	return r.paint(stateColors[st], strings.ToUpper(string(st)))
}
