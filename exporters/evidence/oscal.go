package evidence

import (
	"encoding/json"
	"fmt"
	"strings"

	oscal "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"
	"github.com/google/uuid"
)

// OSCALVersion is the OSCAL release the assessment results conform to.
const OSCALVersion = "1.1.3"

// oscalNS namespaces this auditor's OSCAL properties.
const oscalNS = "https://enforcement-auditor.llm-platform.io/ns/oscal"

// catalogControl is one NIST SP 800-53 rev5 control a requirement maps to.
type catalogControl struct{ ID, Title string }

// frameworkControls maps each requirement to the 800-53 rev5 controls it implements
// (texts checked against the NIST OSCAL catalogue; see docs/telemetry-events-evidence.md).
var frameworkControls = map[string][]catalogControl{
	"SR1": {{"ac-4", "Information Flow Enforcement"}, {"sc-7", "Boundary Protection"}},
	"SR2": {{"sc-6", "Resource Availability"}},
	"SR3": {{"sc-24", "Fail in Known State"}},
}

// controlStates maps a control state to its OSCAL objective status: a new state is one
// line. finding: the state is reported as an OSCAL finding (the control is not proven).
var controlStates = map[string]struct {
	finding       bool
	state, reason string
}{
	"enforced":       {false, "satisfied", "pass"},
	"violated":       {true, "not-satisfied", "fail"},
	"unknown":        {true, "not-satisfied", "other"},
	"not-applicable": {false, "satisfied", "other"},
}

func stateOf(status string) (finding bool, state, reason string) {
	s, ok := controlStates[status]
	if !ok {
		s = controlStates["unknown"]
	}
	return s.finding, s.state, s.reason
}

// AssessmentResults renders an attestation's assessment as OSCAL assessment-results
// JSON: an observation per check, a finding per control that is not proven for each
// 800-53 control it maps to, and the attestation's digest as a back-matter resource.
// evidenceHref is where the attestation is found (its file name, or a URL): the link
// carries the SHA-256 of the envelope as written (a.Envelope), so that hashing the file
// the link names checks it. Without one, the resource has no link; it names the
// statement's digest either way.
func AssessmentResults(a *Attestation, evidenceHref string) ([]byte, error) {
	p := a.Statement.Predicate
	id := func(parts ...string) string {
		return uuid.NewSHA1(uuid.NameSpaceURL, []byte(PredicateType+"/"+a.Digest+"/"+strings.Join(parts, "/"))).String()
	}
	prop := func(name, value string) oscal.Property { return oscal.Property{Name: name, Value: value, Ns: oscalNS} }
	version := p.AuditorVersion
	if version == "" {
		version = "unknown"
	}
	evidenceID, planID := id("evidence"), id("plan")
	signedOrNot := "Signed"
	if p.Signing == Unsigned {
		signedOrNot = Unsigned
	}

	var selected []oscal.AssessedControlsSelectControlById
	var observations []oscal.Observation
	var findings []oscal.Finding
	for _, c := range p.Controls {
		var obsIDs []oscal.RelatedObservation
		for _, chk := range c.Checks {
			oid := id("observation", c.ID, chk.Rule)
			desc := fmt.Sprintf("Check %s (%s) of %s: %s. %d unwaived and %d waived findings; %d objects inspected.",
				chk.Rule, chk.Title, c.ID, chk.Result, chk.Findings, chk.Waived, chk.ObjectsTotal)
			if len(chk.Reasons) > 0 {
				desc += " Inconclusive: " + strings.Join(chk.Reasons, "; ")
			}
			props := []oscal.Property{prop("requirement", c.ID), prop("rule", chk.Rule), prop("result", chk.Result), prop("severity", chk.Severity)}
			if from := severityChangedFrom(p.RuleChanges, chk.Rule); from != "" {
				props = append(props, prop("severity-changed-from", from))
				desc += fmt.Sprintf(" Severity changed by the configuration from %s to %s.", from, chk.Severity)
			}
			observations = append(observations, oscal.Observation{
				UUID: oid, Title: chk.Title, Description: desc, Methods: []string{"TEST"}, Types: &[]string{"control-objective"},
				Collected: p.EvaluatedAt, Props: &props,
				RelevantEvidence: &[]oscal.RelevantEvidence{{Href: "#" + evidenceID,
					Description: fmt.Sprintf("%s in-toto attestation, predicate.controls[id=%s].checks[rule=%s]", signedOrNot, c.ID, chk.Rule)}},
			})
			obsIDs = append(obsIDs, oscal.RelatedObservation{ObservationUuid: oid})
		}
		// A rule turned off did not run: what was not checked is an observation too.
		if rc := p.RuleChanges; rc != nil {
			for _, off := range rc.Off {
				if off.Control != c.ID {
					continue
				}
				oid := id("observation", c.ID, off.Rule)
				props := []oscal.Property{prop("requirement", c.ID), prop("rule", off.Rule), prop("result", "off"), prop("turned-off-by", off.By)}
				observations = append(observations, oscal.Observation{
					UUID: oid, Title: off.Rule + " (not run)",
					Description: fmt.Sprintf("Check %s of %s did not run: turned off by %s. %s was judged without it.", off.Rule, c.ID, off.By, c.ID),
					Methods:     []string{"TEST"}, Types: &[]string{"control-objective"}, Collected: p.EvaluatedAt, Props: &props,
					RelevantEvidence: &[]oscal.RelevantEvidence{{Href: "#" + evidenceID,
						Description: fmt.Sprintf("%s in-toto attestation, predicate.ruleChanges.off[rule=%s]", signedOrNot, off.Rule)}},
				})
				obsIDs = append(obsIDs, oscal.RelatedObservation{ObservationUuid: oid})
			}
		}
		isFinding, state, reason := stateOf(c.Status)
		var msgs []string
		for _, f := range p.Findings {
			if f.Control == c.ID && f.Waiver == nil {
				msgs = append(msgs, fmt.Sprintf("[%s %s %s] %s", f.Severity, f.Rule, f.Fingerprint, f.Message))
			}
		}
		for _, cc := range frameworkControls[c.ID] {
			selected = append(selected, oscal.AssessedControlsSelectControlById{ControlId: cc.ID})
			if !isFinding {
				continue
			}
			f := oscal.Finding{
				UUID:  id("finding", c.ID, cc.ID),
				Title: fmt.Sprintf("%s %s: %s is %s", strings.ToUpper(cc.ID), cc.Title, c.ID, c.Status),
				Description: fmt.Sprintf("Requirement %s is %s (%d checks pass, %d fail, %d inconclusive), so %s %s is not shown to be implemented.",
					c.ID, c.Status, c.Summary.Pass, c.Summary.Fail, c.Summary.Inconclusive, strings.ToUpper(cc.ID), cc.Title),
				Target: oscal.FindingTarget{Type: "statement-id", TargetId: cc.ID + "_smt",
					Status: oscal.ObjectiveStatus{State: state, Reason: reason}},
				Props: &[]oscal.Property{prop("requirement", c.ID), prop("requirement-state", c.Status)},
			}
			if len(msgs) > 0 {
				f.Remarks = strings.Join(msgs, "\n")
			}
			if len(obsIDs) > 0 {
				f.RelatedObservations = &obsIDs
			}
			findings = append(findings, f)
		}
	}

	result := oscal.Result{
		UUID: id("result"), Title: "Enforcement auditor evaluation of " + p.Cluster.ID,
		Description: fmt.Sprintf("Automated evaluation of the %s (%s) against requirements SR1-SR3.", p.Cluster.Source, p.Cluster.ID),
		Start:       p.EvaluatedAt, End: &p.GeneratedAt,
		ReviewedControls: oscal.ReviewedControls{ControlSelections: []oscal.AssessedControls{{IncludeControls: &selected}}},
	}
	if len(observations) > 0 {
		result.Observations = &observations
	}
	if len(findings) > 0 {
		result.Findings = &findings
	}
	title, metaProps := "Signed evidence (in-toto Statement v1 in a DSSE envelope)", []oscal.Property{prop("cluster-id", p.Cluster.ID), prop("source", p.Cluster.Source)}
	if p.Signing == Unsigned {
		title = "UNSIGNED evidence (in-toto Statement v1 in a DSSE envelope without a signature: nothing shows who wrote it)"
		metaProps = append(metaProps, prop("evidence-signing", Unsigned))
	}
	evidence := oscal.Resource{UUID: evidenceID, Title: title,
		Description: "The attestation this assessment was rendered from. The link's hash is the SHA-256 of the file it names (the DSSE envelope as written); the statement-digest property is the SHA-256 of the DSSE payload (the in-toto statement, what the envelope's signature covers and the next attestation's predicate.previous names).",
		Props:       &[]oscal.Property{prop("predicate-type", PredicateType), prop("statement-digest", a.Digest), prop("previous", orNone(p.Previous))}}
	if p.Signing == Unsigned {
		*evidence.Props = append(*evidence.Props, prop("evidence-signing", Unsigned))
	}
	if evidenceHref != "" {
		if len(a.Envelope) == 0 {
			return nil, fmt.Errorf("evidence: the attestation linked as %s is not sealed", evidenceHref)
		}
		evidence.Rlinks = &[]oscal.ResourceLink{{Href: evidenceHref, MediaType: "application/json",
			Hashes: &[]oscal.Hash{{Algorithm: "SHA-256", Value: SHA256Hex(a.Envelope)}}}}
	}
	resources := []oscal.Resource{
		evidence,
		{UUID: planID, Title: "Enforcement auditor rule catalogue " + version,
			Description: "There is no separate assessment plan: the plan is the auditor's rule catalogue, each check of which is listed in the attestation's predicate."},
	}
	ar := oscal.AssessmentResults{
		UUID: id("assessment-results"),
		Metadata: oscal.Metadata{Title: "Enforcement auditor assessment results", LastModified: p.GeneratedAt, Version: version,
			OscalVersion: OSCALVersion, Props: &metaProps},
		ImportAp:   oscal.ImportAp{Href: "#" + planID},
		Results:    []oscal.Result{result},
		BackMatter: &oscal.BackMatter{Resources: &resources},
	}
	b, err := json.MarshalIndent(oscal.OscalCompleteSchema{AssessmentResults: &ar}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// severityChangedFrom is the severity the configuration changed a rule's from, or "".
func severityChangedFrom(rc *RuleChanges, rule string) string {
	if rc == nil {
		return ""
	}
	for _, c := range rc.Severity {
		if c.Rule == rule {
			return c.From
		}
	}
	return ""
}
