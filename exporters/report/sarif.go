package report

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"sort"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
)

const (
	sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// fingerprintKey names the partial fingerprint code scanning uses to follow a finding
	// across commits, whatever line its object moves to.
	fingerprintKey = "enforcementAuditorFingerprint/v1"
	toolURI        = "https://github.com/llm-platform/enforcement-auditor"
)

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s auditor.Severity) string {
	switch {
	case s >= auditor.SeverityHigh:
		return "error"
	case s == auditor.SeverityMedium:
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score GitHub code scanning reads from a rule's
// properties to rank security alerts.
var securitySeverity = map[auditor.Severity]string{
	auditor.SeverityCritical: "9.5", auditor.SeverityHigh: "8.0", auditor.SeverityMedium: "5.5",
	auditor.SeverityLow: "3.0", auditor.SeverityInfo: "0.0",
}

// WriteSARIF writes the report as a SARIF 2.1.0 log: one rule per rule ID (title,
// remediation as help), one result per finding at its file and line when the finding
// came from a manifest, its fingerprint as a partial fingerprint, waived findings as
// accepted suppressions, dormant findings (controls not claimed) as informational
// results of level none; the run's properties carry the control states and the
// readiness of the dormant controls.
func (r *Report) WriteSARIF(w io.Writer) error {
	log, err := sarif.New(sarif.Version210, false)
	if err != nil {
		return err
	}
	log.Schema = sarifSchema
	run := sarif.NewRunWithInformationURI("enforcement-auditor", toolURI)
	run.Tool.Driver.WithVersion(version.Get().Version)

	metas := r.ruleMetas()
	index := map[string]int{}
	for i, m := range metas {
		index[m.ID] = i
		rule := run.AddRule(m.ID).
			WithName(m.ID).
			WithShortDescription(sarif.NewMultiformatMessageString(orID(m.Title, m.ID))).
			WithHelpURI(toolURI + "#" + m.ID).
			// Text only: remediation reads <placeholders> that markdown would take for HTML.
			WithHelp(sarif.NewMultiformatMessageString(orID(m.Remediation, m.Title))).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(m.Severity)))
		pb := sarif.NewPropertyBag()
		pb.Add("tags", []string{"security", string(m.Control)})
		pb.Add("security-severity", securitySeverity[m.Severity])
		rule.AttachPropertyBag(pb)
	}

	run.Results = []*sarif.Result{}
	// The dormant findings (controls the configuration does not claim) follow, as
	// informational results of level none: shown, never failing a code scanning check.
	type result struct {
		auditor.Finding
		dormant bool
	}
	var results []result
	for _, f := range r.Findings {
		results = append(results, result{Finding: f})
	}
	for _, c := range auditor.Controls {
		if d := r.Dormant[c]; d != nil {
			for _, f := range d.Findings {
				results = append(results, result{Finding: f, dormant: true})
			}
		}
	}
	for _, rf := range results {
		f := rf.Finding
		level := sarifLevel(f.Severity)
		if rf.dormant {
			level = "none"
		}
		res := run.CreateResultForRule(f.Rule).
			WithRuleIndex(index[f.Rule]).
			WithLevel(level).
			WithMessage(sarif.NewTextMessage(f.Message))
		if rf.dormant {
			res.WithKind("informational")
		}
		res.WithPartialFingerPrints(map[string]any{fingerprintKey: f.Fingerprint()})
		loc := sarif.NewLocation()
		if uri, ok := artifactURI(f.Location); ok {
			loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(uri)).
				WithRegion(sarif.NewSimpleRegion(f.Location.Line, f.Location.Line)))
		}
		if f.Object != nil {
			loc.WithLogicalLocations([]*sarif.LogicalLocation{sarif.NewLogicalLocation().
				WithFullyQualifiedName(f.Object.String()).WithKind("resource")})
		}
		if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
			res.AddLocation(loc)
		}
		if f.Waived() {
			res.AddSuppression(sarif.NewSuppression("external").WithStatus("accepted").WithJustifcation(f.Waiver.Reason))
		}
		pb := sarif.NewPropertyBag()
		pb.Add("control", string(f.Control))
		pb.Add("severity", f.Severity.String())
		if rf.dormant {
			pb.Add("dormant", true)
		}
		res.AttachPropertyBag(pb)
	}
	// The control states (not-applicable included), so that a SARIF consumer sees what was
	// proven, not only what was found.
	rp := sarif.NewPropertyBag()
	states := map[string]string{}
	for c, st := range r.Controls {
		states[string(c)] = string(st)
	}
	rp.Add("controls", states)
	if len(r.NotApplicable) > 0 {
		rp.Add("notApplicable", r.NotApplicable)
	}
	if len(r.Dormant) > 0 {
		// The readiness of each control not claimed: what would fail were it claimed.
		ready := map[string]map[string]any{}
		for c, d := range r.Dormant {
			ready[string(c)] = map[string]any{"findings": len(d.Findings), "wouldFail": d.WouldFail, "wouldViolate": d.WouldViolate}
		}
		rp.Add("dormant", ready)
	}
	run.AttachPropertyBag(rp)
	log.AddRun(run)

	// go-sarif writes unset optional fields of a suppression as null, which the schema
	// refuses: drop every null before writing.
	raw, err := json.Marshal(log)
	if err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(dropNulls(doc))
}

// dropNulls removes null members of objects, recursively.
func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			t[k] = dropNulls(e)
		}
	case []any:
		for i, e := range t {
			t[i] = dropNulls(e)
		}
	}
	return v
}

// ruleMetas lists the rules to describe: every rule the report was built with, plus any
// rule a finding names that was not among them, sorted by ID.
func (r *Report) ruleMetas() []auditor.RuleMeta {
	seen := map[string]bool{}
	var out []auditor.RuleMeta
	for _, m := range r.rules {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	all := slices.Clone(r.Findings)
	for _, d := range r.Dormant {
		all = append(all, d.Findings...)
	}
	for _, f := range all {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, auditor.RuleMeta{ID: f.Rule, Control: f.Control, Severity: f.Severity, Remediation: f.Remediation})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// artifactURI is the SARIF artifact location of a manifest file: a relative URI for a
// relative path (code scanning resolves it against the repository root), a file: URI
// for an absolute one; none for stdin.
func artifactURI(l *auditor.Location) (string, bool) {
	if l == nil || l.File == "" || l.File == "<stdin>" {
		return "", false
	}
	p := filepath.ToSlash(l.File)
	if filepath.IsAbs(l.File) {
		return (&url.URL{Scheme: "file", Path: p}).String(), true
	}
	return (&url.URL{Path: p}).String(), true
}

func orID(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
