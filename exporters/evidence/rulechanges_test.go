package evidence

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// What the configuration and the flags turned off or changed is in the document and in
// the statement, and both still verify (strict decoding knows the field).
func TestRuleChangesInTheEvidence(t *testing.T) {
	in := fixture()
	plain := mustBuild(t, in)
	assert.Nil(t, plain.RuleChanges, "nothing changed: the field is absent")

	in.RuleChanges = auditor.RuleChanges{
		Off:      []auditor.RuleOff{{Rule: "cni-unknown", Control: auditor.SR1, By: "--skip-rule"}},
		Severity: []auditor.SeverityChange{{Rule: "budget-db-not-ha-in-prod", Control: auditor.SR3, From: auditor.SeverityHigh, To: auditor.SeverityLow}},
	}
	doc := mustBuild(t, in)
	require.NotNil(t, doc.RuleChanges)
	assert.Equal(t, []RuleOff{{Rule: "cni-unknown", Control: "SR1", By: "--skip-rule"}}, doc.RuleChanges.Off)
	assert.Equal(t, []SeverityChange{{Rule: "budget-db-not-ha-in-prod", Control: "SR3", From: "high", To: "low"}}, doc.RuleChanges.Severity)
	assert.NotEqual(t, plain.Digest, doc.Digest, "the digest covers the changes")

	data, err := Marshal(doc)
	require.NoError(t, err)
	got, err := VerifyDocument(data, nil)
	require.NoError(t, err)
	assert.Equal(t, doc.RuleChanges, got.RuleChanges)

	a, err := NewAttestation(doc, FileSubjects([]SourceFile{{Path: "platform.yaml", SHA256: SHA256Hex([]byte("x"))}}), "")
	require.NoError(t, err)
	require.NoError(t, a.Seal(context.Background(), nil))
	back, err := VerifyEnvelope(context.Background(), a.Envelope, nil)
	require.NoError(t, err)
	assert.Equal(t, doc.RuleChanges, back.Statement.Predicate.RuleChanges)
}

// OSCAL shows a rule turned off as an observation of what was not run, and a changed
// severity on the check's observation; the result still validates against NIST's schema.
func TestRuleChangesInOSCAL(t *testing.T) {
	in := cleanInput()
	in.RuleChanges = auditor.RuleChanges{
		Off:      []auditor.RuleOff{{Rule: "cni-unknown", Control: auditor.SR1, By: "config"}},
		Severity: []auditor.SeverityChange{{Rule: in.Rules[0].Meta().ID, Control: in.Rules[0].Meta().Control, From: auditor.SeverityCritical, To: in.Rules[0].Meta().Severity}},
	}
	b := oscalOf(t, in)
	require.NoError(t, validateOSCAL(t, b))
	s := string(b)
	assert.Contains(t, s, "Check cni-unknown of SR1 did not run: turned off by config. SR1 was judged without it.")
	assert.Contains(t, s, `"name": "turned-off-by"`)
	assert.Contains(t, s, `"name": "severity-changed-from"`)
	assert.Contains(t, s, "Severity changed by the configuration from critical to "+in.Rules[0].Meta().Severity.String())
}

// A dormant control (not claimed) reads not-applicable in the evidence, and its checks
// still show what they found: an auditor sees what would fail were it claimed.
func TestDormantFindingsInTheEvidence(t *testing.T) {
	in := cleanInput()
	var rule auditor.RuleMeta
	for _, r := range in.Rules {
		if r.Meta().Control == auditor.SR3 {
			rule = r.Meta()
			break
		}
	}
	require.NotEmpty(t, rule.ID, "the fixture has an SR3 rule")
	in.Evaluation.Findings = []auditor.Finding{rule.NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "cfg"}, "fails")}
	in.Evaluation.Findings[0].Severity = auditor.SeverityHigh
	in.Evaluation.ApplyClaims(func(c auditor.Control) bool { return c != auditor.SR3 })
	require.Len(t, in.Evaluation.Dormant, 1)
	doc := mustBuild(t, in)
	require.Len(t, doc.Findings, 1)
	assert.Equal(t, rule.ID, doc.Findings[0].Rule)
	status := map[string]string{}
	for _, c := range doc.Controls {
		status[c.ID] = c.Status
	}
	assert.Equal(t, "not-applicable", status["SR3"])
	assert.Equal(t, ResultFail, findCheck(t, doc, rule.ID).Result)
	require.NoError(t, validateOSCAL(t, oscalOf(t, in)))
}
