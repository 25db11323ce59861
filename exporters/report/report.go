// Package report renders an evaluation for people (a table grouped by control, with
// remediation) and for machines (the JSON contract documented in the README).
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
)

// Kind and APIVersion of the JSON report.
const (
	APIVersion = auditor.GroupVersion
	Kind       = "ScanReport"
)

// Report is the JSON contract of `scan -o json`. Fields are only ever added.
type Report struct {
	APIVersion   string                                   `json:"apiVersion"`
	Kind         string                                   `json:"kind"`
	Findings     []auditor.Finding                        `json:"findings"`
	Controls     map[auditor.Control]auditor.ControlState `json:"controls"`
	Inconclusive map[string][]string                      `json:"inconclusive,omitempty"`
	// NotApplicable says, per not-applicable control, why it does not apply.
	NotApplicable map[auditor.Control]string `json:"notApplicable,omitempty"`
	// Dormant is, per control the configuration does not claim, what would fail were it
	// claimed (its readiness); absent when every control is claimed.
	Dormant map[auditor.Control]*Dormant `json:"dormant,omitempty"`
	// RuleChanges is what the configuration and the rule flags turned off or changed;
	// absent when every rule ran at its own severity.
	RuleChanges *auditor.RuleChanges `json:"ruleChanges,omitempty"`
	Summary     Summary              `json:"summary"`

	ruleControl map[string]auditor.Control
	rules       []auditor.RuleMeta
	failOn      auditor.Severity
	// failOnControl is the --fail-on-control level ("" when control states never fail).
	failOnControl auditor.ControlState
	// findingsFailed: a finding alone fails the scan (the summary line's verdict).
	findingsFailed bool
	at             time.Time
	judged         map[auditor.Control][]auditor.ObjectRef
	reportAPI      policyreport.API
	// table is how the table shows the report (colour, --severity, --quiet).
	table TableOptions
}

// Summary counts findings and states the verdict against --fail-on.
type Summary struct {
	Total      int            `json:"total"`
	Waived     int            `json:"waived"`
	BySeverity map[string]int `json:"bySeverity"`
	FailOn     string         `json:"failOn"`
	// Failed is true when a non-waived finding is at or above FailOn, or a control's
	// state is one FailOnControl fails on (exit status 1).
	Failed bool `json:"failed"`
	// FailOnControl is the control state from which the scan fails (violated, or
	// unknown: unknown or violated); absent when control states never fail it.
	FailOnControl string `json:"failOnControl,omitempty"`
}

// Dormant is a control the configuration does not claim: its findings, which fail
// nothing, and how many of them would fail the scan were it claimed.
type Dormant struct {
	Findings []auditor.Finding `json:"findings"`
	// WouldFail counts the findings not waived at or above --fail-on.
	WouldFail int `json:"wouldFail"`
	// WouldViolate says the control would read violated were it claimed (a finding not
	// waived at or above medium).
	WouldViolate bool `json:"wouldViolate"`
}

// dormant groups the dormant findings by unclaimed control.
func dormant(ev *auditor.Evaluation, failOn auditor.Severity) map[auditor.Control]*Dormant {
	if len(ev.Unclaimed) == 0 {
		return nil
	}
	out := map[auditor.Control]*Dormant{}
	for _, c := range ev.Unclaimed {
		out[c] = &Dormant{Findings: []auditor.Finding{}}
	}
	for _, f := range cleanFindings(ev.Dormant) {
		d := out[f.Control]
		if d == nil { // a finding on a claimed control is not dormant
			continue
		}
		d.Findings = append(d.Findings, f)
		if !f.Waived() && f.Severity >= failOn {
			d.WouldFail++
		}
		if !f.Waived() && f.Severity >= auditor.SeverityMedium {
			d.WouldViolate = true
		}
	}
	return out
}

// WithRuleChanges records what the configuration and the rule flags turned off or
// changed: the table's last line and the JSON's ruleChanges say it.
func (r *Report) WithRuleChanges(c auditor.RuleChanges) *Report {
	if c.Empty() {
		r.RuleChanges = nil
	} else {
		r.RuleChanges = &c
	}
	return r
}

// FailOnNone is the --fail-on level no finding reaches: findings never fail the scan.
const FailOnNone = auditor.SeverityCritical + 1

// failOnName is a --fail-on level as the summary and messages spell it.
func failOnName(s auditor.Severity) string {
	if s >= FailOnNone {
		return "none"
	}
	return s.String()
}

// FailOnControl makes the scan fail when a control is not proven: at Violated when a
// control is violated, at Unknown when one is unknown or violated (not-applicable and
// enforced never fail). Other levels leave control states out of the verdict.
func (r *Report) FailOnControl(level auditor.ControlState) {
	if level != auditor.Violated && level != auditor.Unknown {
		return
	}
	r.failOnControl = level
	r.Summary.FailOnControl = string(level)
	if len(r.failingControls()) > 0 {
		r.Summary.Failed = true
	}
}

// failingControls lists the controls whose state fails the scan under --fail-on-control.
func (r *Report) failingControls() []string {
	var out []string
	for _, c := range auditor.Controls {
		st := r.Controls[c]
		if st == auditor.Violated && r.failOnControl != "" || st == auditor.Unknown && r.failOnControl == auditor.Unknown {
			out = append(out, string(c)+" "+string(st))
		}
	}
	return out
}

// SummaryLine counts the findings by severity and says whether they fail --fail-on: the
// table's closing line, and what scan prints on stderr when no table reaches stdout.
func (r *Report) SummaryLine() string {
	s := r.Summary
	verdict := "PASS"
	if r.findingsFailed {
		verdict = "FAIL"
	}
	return fmt.Sprintf("%d %s (critical %d, high %d, medium %d, low %d, info %d, waived %d); --fail-on %s: %s",
		s.Total, plural(s.Total, "finding", "findings"), s.BySeverity["critical"], s.BySeverity["high"], s.BySeverity["medium"], s.BySeverity["low"], s.BySeverity["info"], s.Waived, s.FailOn, verdict)
}

// ExitReason says in words why the scan exits with its status, so that a control line
// that reads violated or unknown and an exit status 0 (or enforced everywhere and 1)
// never disagree silently.
func (r *Report) ExitReason() string {
	n := 0
	for _, f := range r.Findings {
		if !f.Waived() && f.Severity >= r.failOn {
			n++
		}
	}
	var failing, other []string
	failing = r.failingControls()
	for _, c := range auditor.Controls {
		if st := r.Controls[c]; (st == auditor.Violated || st == auditor.Unknown) && !slices.Contains(failing, string(c)+" "+string(st)) {
			other = append(other, string(c)+" "+string(st))
		}
	}
	var why []string
	if n > 0 {
		why = append(why, fmt.Sprintf("%d %s at or above --fail-on %s", n, plural(n, "finding", "findings"), failOnName(r.failOn)))
	}
	if len(failing) > 0 {
		why = append(why, fmt.Sprintf("%s (--fail-on-control %s)", strings.Join(failing, ", "), r.failOnControl))
	}
	if r.Summary.Failed {
		return "exit status 1: " + strings.Join(why, "; ")
	}
	msg := "exit status 0: no finding at or above --fail-on " + failOnName(r.failOn)
	if r.failOn >= FailOnNone {
		msg = "exit status 0: --fail-on none, findings never fail the scan"
	}
	if len(other) > 0 {
		hint := "--fail-on-control violated or unknown"
		if r.failOnControl == auditor.Violated {
			hint = "--fail-on-control unknown"
		}
		msg += fmt.Sprintf("; %s %s not fail the scan (%s would)", strings.Join(other, ", "), plural(len(other), "does", "do"), hint)
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// New builds the report of an evaluation; rules tell which control each rule proves.
func New(ev *auditor.Evaluation, failOn auditor.Severity, rules []auditor.RuleMeta) *Report {
	r := &Report{
		APIVersion: APIVersion, Kind: Kind,
		// Tenant text escaped once, the same for every format (text.go).
		Findings:      cleanFindings(ev.Findings),
		Controls:      ev.Controls,
		Inconclusive:  cleanReasons(ev.Inconclusive),
		NotApplicable: notApplicable(ev),
		Dormant:       dormant(ev, failOn),
		Summary:       Summary{BySeverity: map[string]int{}, FailOn: failOnName(failOn)},
		ruleControl:   map[string]auditor.Control{},
		rules:         rules,
		failOn:        failOn,
		at:            ev.At,
		judged:        ev.Judged,
	}
	for _, m := range rules {
		r.ruleControl[m.ID] = m.Control
	}
	if len(r.Findings) == 0 {
		r.Findings = []auditor.Finding{}
	}
	for _, s := range auditor.Severities {
		r.Summary.BySeverity[s.String()] = 0
	}
	for _, f := range r.Findings {
		r.Summary.Total++
		if f.Waived() {
			r.Summary.Waived++
			continue
		}
		r.Summary.BySeverity[f.Severity.String()]++
		if f.Severity >= failOn {
			r.Summary.Failed = true
			r.findingsFailed = true
		}
	}
	return r
}

// notApplicable keeps the reasons of the controls that are not-applicable.
func notApplicable(ev *auditor.Evaluation) map[auditor.Control]string {
	var out map[auditor.Control]string
	for c, why := range ev.NotApplicable {
		if ev.Controls[c] == auditor.NotApplicable {
			if out == nil {
				out = map[auditor.Control]string{}
			}
			out[c] = clean(why)
		}
	}
	return out
}

// Finding is a finding as the JSON contract shows it: with its fingerprint, the
// identifier OpenTelemetry events and SARIF results carry too.
type Finding struct {
	auditor.Finding
	Fingerprint string `json:"fingerprint"`
}

// jsonReport is Report on the wire, field for field, its findings fingerprinted.
type jsonReport struct {
	APIVersion    string                                   `json:"apiVersion"`
	Kind          string                                   `json:"kind"`
	Findings      []Finding                                `json:"findings"`
	Controls      map[auditor.Control]auditor.ControlState `json:"controls"`
	Inconclusive  map[string][]string                      `json:"inconclusive,omitempty"`
	NotApplicable map[auditor.Control]string               `json:"notApplicable,omitempty"`
	Dormant       map[auditor.Control]jsonDormant          `json:"dormant,omitempty"`
	RuleChanges   *auditor.RuleChanges                     `json:"ruleChanges,omitempty"`
	Summary       Summary                                  `json:"summary"`
}

type jsonDormant struct {
	Findings     []Finding `json:"findings"`
	WouldFail    int       `json:"wouldFail"`
	WouldViolate bool      `json:"wouldViolate"`
}

func fingerprinted(fs []auditor.Finding) []Finding {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = Finding{Finding: f, Fingerprint: f.Fingerprint()}
	}
	return out
}

// MarshalJSON writes the contract: every finding with its fingerprint.
func (r *Report) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := r.encode(&b, ""); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// WriteJSON writes the report as indented JSON. Messages keep <, > and & as they are:
// the contract is read by programs, not embedded in HTML.
func (r *Report) WriteJSON(w io.Writer) error { return r.encode(w, "  ") }

func (r *Report) encode(w io.Writer, indent string) error {
	out := jsonReport{
		APIVersion: r.APIVersion, Kind: r.Kind,
		Findings: fingerprinted(r.Findings),
		Controls: r.Controls, Inconclusive: r.Inconclusive, NotApplicable: r.NotApplicable, Summary: r.Summary,
		RuleChanges: r.RuleChanges,
	}
	if len(r.Dormant) > 0 {
		out.Dormant = map[auditor.Control]jsonDormant{}
		for c, d := range r.Dormant {
			out.Dormant[c] = jsonDormant{Findings: fingerprinted(d.Findings), WouldFail: d.WouldFail, WouldViolate: d.WouldViolate}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	return enc.Encode(out)
}

var controlTitles = map[auditor.Control]string{
	auditor.SR1: "budget path: model servers reachable only through trusted namespaces",
	auditor.SR2: "GPU quota: GPU pods cannot bypass Kueue",
	auditor.SR3: "fail-closed budgets: LiteLLM prod never serves un-metered",
}

// WriteTable writes the report for people: per control its state, then findings worst
// first, each rule's remediation once. No line can be a GitHub Actions workflow command
// (inert): the Action prints the table to the job log.
func (r *Report) WriteTable(w io.Writer) error {
	var b bytes.Buffer
	r.writeTable(&b)
	bw := &errWriter{w: w}
	for line := range strings.Lines(b.String()) {
		_, _ = io.WriteString(bw, inert(line))
	}
	return bw.err
}

func (r *Report) writeTable(bw io.Writer) {
	for _, c := range auditor.Controls {
		state := r.Controls[c]
		var fs []auditor.Finding
		all := 0
		for _, f := range r.Findings {
			if f.Control == c {
				all++
				if r.shown(f) {
					fs = append(fs, f)
				}
			}
		}
		if r.table.Quiet && len(fs) == 0 {
			continue // --quiet: only the controls with a finding that fails
		}
		fmt.Fprintf(bw, "%s  %s  [%s]\n", c, controlTitles[c], r.stateWord(state))
		if why := r.NotApplicable[c]; why != "" && state == auditor.NotApplicable {
			fmt.Fprintf(bw, "  not applicable: %s\n", oneLine(why))
		}
		if d := r.Dormant[c]; d != nil {
			fmt.Fprintf(bw, "  %s\n", r.DormantLine(c))
			fs = fs[:0]
			all = len(d.Findings)
			for _, f := range d.Findings {
				if f.Severity >= r.table.MinSeverity {
					fs = append(fs, f)
				}
			}
		}
		switch {
		case all == 0:
			fmt.Fprintln(bw, "  no findings")
		case len(fs) == 0:
			fmt.Fprintf(bw, "  no findings at or above --severity %s\n", r.table.MinSeverity)
		}
		r.writeFindings(bw, fs)
		if r.table.Quiet {
			fmt.Fprintln(bw)
			continue
		}
		var inc []string
		for rule, reasons := range r.Inconclusive {
			if rc := r.ruleControl[rule]; rc == c || (rc == "" && c == auditor.SR1) {
				inc = append(inc, fmt.Sprintf("  could not judge %s: %s", rule, oneLine(strings.Join(reasons, "; "))))
			}
		}
		sort.Strings(inc)
		for _, l := range inc {
			fmt.Fprintln(bw, l)
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, r.SummaryLine())
	if l := r.hiddenLine(); l != "" {
		fmt.Fprintln(bw, l)
	}
	fmt.Fprintln(bw, r.ExitReason())
	if r.RuleChanges != nil {
		fmt.Fprintln(bw, r.RuleChanges.String())
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// width is where table text wraps; messages stay readable in an 120-column terminal.
const width = 110

// wrap writes text word-wrapped at width, every line prefixed by indent.
func wrap(w io.Writer, indent, text string) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		fmt.Fprintln(w, line)
	}
}

// whereFound says where a finding was read, for the table: the file and line, and the
// environment of a scan that judged several.
func whereFound(f auditor.Finding) string {
	var parts []string
	if l := f.Location; l != nil && l.File != "" {
		at := "at " + l.File
		if l.Line > 0 {
			at += ":" + strconv.Itoa(l.Line)
		}
		parts = append(parts, at)
	}
	if f.Environment != "" {
		parts = append(parts, "in environment "+f.Environment)
	}
	return strings.Join(parts, ", ")
}

// writeFindings writes findings of one control, worst first, each rule's remediation once.
func (r *Report) writeFindings(bw io.Writer, fs []auditor.Finding) {
	printed := map[string]bool{}
	for i, f := range fs {
		sev := strings.ToUpper(f.Severity.String())
		if f.Waived() {
			sev = "WAIVED"
		}
		fmt.Fprintf(bw, "  %s  %s  %s\n", r.paint(severityColors[sev], fmt.Sprintf("%-8s", sev)), f.Rule, oneLine(f.Object.String()))
		wrap(bw, "            ", f.Message)
		if where := whereFound(f); where != "" {
			wrap(bw, "            ", where)
		}
		if f.Waived() {
			until := "no expiry"
			if f.Waiver.Until != nil {
				until = "until " + f.Waiver.Until.Format("2006-01-02T15:04:05Z07:00")
			}
			wrap(bw, "            ", fmt.Sprintf("waived (%s): %s", until, f.Waiver.Reason))
		}
		lastOfRule := i == len(fs)-1 || fs[i+1].Rule != f.Rule
		if lastOfRule && !printed[f.Rule] && f.Remediation != "" {
			printed[f.Rule] = true
			wrap(bw, "            ", "fix: "+f.Remediation)
		}
	}
}

// DormantLine is the readiness of a control the configuration does not claim: how many
// of its findings would fail the scan were it claimed.
func (r *Report) DormantLine(c auditor.Control) string {
	d := r.Dormant[c]
	if d == nil {
		return ""
	}
	line := fmt.Sprintf("dormant: %d %s would fail if %s were claimed", d.WouldFail, plural(d.WouldFail, "finding", "findings"), c)
	if r.failOn < FailOnNone {
		line += " (--fail-on " + failOnName(r.failOn) + ")"
	}
	if n := len(d.Findings); n > d.WouldFail {
		line += fmt.Sprintf("; %d %s in all", n, plural(n, "finding", "findings"))
	}
	if d.WouldViolate {
		line += "; " + string(c) + " would read VIOLATED"
	}
	return line
}
