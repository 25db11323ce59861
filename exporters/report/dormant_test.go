package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// dormantEvaluation claims SR1 and SR2: SR3's two findings (one high, one low) are
// dormant.
func dormantEvaluation(sr1 bool) (*auditor.Evaluation, []auditor.RuleMeta) {
	ev, metas := sampleEvaluation()
	var claimed []auditor.Finding
	for _, f := range ev.Findings {
		if f.Control != auditor.SR3 && (sr1 || f.Control != auditor.SR1) {
			claimed = append(claimed, f)
		}
	}
	ev.Findings = claimed
	metas = append(metas, auditor.RuleMeta{ID: "budget-db-not-ha-in-prod", Control: auditor.SR3, Title: "budget database not HA"})
	ev.Dormant = []auditor.Finding{
		{Rule: "budget-db-not-ha-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh,
			Object:  &auditor.ObjectRef{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Namespace: "litellm", Name: "litellm-pg"},
			Message: "spec.instances is 2, below the 3 prod requires", Remediation: "Run 3 instances.",
			Location: &auditor.Location{File: "sr3.yaml", Line: 12}},
		{Rule: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityLow,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "c"}, Message: "low"},
	}
	ev.Controls = map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Violated}
	if !sr1 {
		ev.Controls[auditor.SR1] = auditor.Enforced
	}
	ev.ApplyClaims(func(c auditor.Control) bool { return c != auditor.SR3 })
	return ev, metas
}

func TestDormantControlFailsNothing(t *testing.T) {
	ev, metas := dormantEvaluation(false)
	ev.Inconclusive = nil
	r := New(ev, auditor.SeverityLow, metas)
	r.FailOnControl(auditor.Unknown)
	assert.Equal(t, auditor.NotApplicable, r.Controls[auditor.SR3])
	assert.Equal(t, 1, r.Summary.Total, "the dormant findings are not counted")
	// SR2's high finding fails; the dormant SR3 ones alone would not.
	assert.True(t, r.Summary.Failed)
	ev.Findings = nil
	ev.Controls[auditor.SR2] = auditor.Enforced
	r = New(ev, auditor.SeverityInfo, metas)
	r.FailOnControl(auditor.Unknown)
	assert.False(t, r.Summary.Failed, "dormant findings never fail a scan")
	assert.Equal(t, 2, r.Dormant[auditor.SR3].WouldFail)
	assert.Contains(t, r.ExitReason(), "exit status 0")
}

func TestDormantJSON(t *testing.T) {
	ev, metas := dormantEvaluation(true)
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteJSON(&b))
	var got struct {
		Findings []struct{ Control auditor.Control } `json:"findings"`
		Dormant  map[auditor.Control]struct {
			Findings []struct {
				Rule        string `json:"rule"`
				Fingerprint string `json:"fingerprint"`
			} `json:"findings"`
			WouldFail    int  `json:"wouldFail"`
			WouldViolate bool `json:"wouldViolate"`
		} `json:"dormant"`
		NotApplicable map[auditor.Control]string `json:"notApplicable"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	for _, f := range got.Findings {
		assert.NotEqual(t, auditor.SR3, f.Control)
	}
	require.Len(t, got.Dormant, 1)
	d := got.Dormant[auditor.SR3]
	require.Len(t, d.Findings, 2)
	assert.Equal(t, "budget-db-not-ha-in-prod", d.Findings[0].Rule)
	assert.Equal(t, ev.Dormant[0].Fingerprint(), d.Findings[0].Fingerprint)
	assert.Equal(t, 1, d.WouldFail, "one finding at or above --fail-on high")
	assert.True(t, d.WouldViolate)
	assert.Equal(t, "not claimed by the configuration (controls: SR1, SR2)", got.NotApplicable[auditor.SR3])

	// Every control claimed: the field is absent (the contract only grows).
	ev, metas = sampleEvaluation()
	b.Reset()
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteJSON(&b))
	assert.NotContains(t, b.String(), `"dormant"`)
}

func TestDormantTable(t *testing.T) {
	ev, metas := dormantEvaluation(true)
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteTable(&b))
	out := b.String()
	assert.Contains(t, out, "SR3  fail-closed budgets: LiteLLM prod never serves un-metered  [NOT-APPLICABLE]\n"+
		"  not applicable: not claimed by the configuration (controls: SR1, SR2)\n"+
		"  dormant: 1 finding would fail if SR3 were claimed (--fail-on high); 2 findings in all; SR3 would read VIOLATED\n"+
		"  HIGH      budget-db-not-ha-in-prod  Cluster/litellm/litellm-pg\n")
	assert.Contains(t, out, "at sr3.yaml:12")
	assert.Contains(t, out, "\n2 findings (critical 0, high 2,", "the summary counts the claimed controls only")
}

func TestDormantSARIF(t *testing.T) {
	ev, metas := dormantEvaluation(true)
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteSARIF(&b))
	validateSARIF(t, b.Bytes())
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID     string
				Level      string
				Kind       string
				Properties map[string]any
			}
			Properties map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &log))
	require.Len(t, log.Runs, 1)
	dormant := 0
	for _, res := range log.Runs[0].Results {
		if res.Properties["control"] == "SR3" {
			dormant++
			assert.Equal(t, "none", res.Level, res.RuleID)
			assert.Equal(t, "informational", res.Kind, res.RuleID)
			assert.Equal(t, true, res.Properties["dormant"])
		} else {
			assert.NotEqual(t, "none", res.Level)
			assert.NotContains(t, res.Properties, "dormant")
		}
	}
	assert.Equal(t, 2, dormant)
	assert.Equal(t, map[string]any{"SR3": map[string]any{"findings": 2.0, "wouldFail": 1.0, "wouldViolate": true}}, log.Runs[0].Properties["dormant"])
}

func TestRuleChangesLastLineAndJSON(t *testing.T) {
	ev, metas := sampleEvaluation()
	changes := auditor.RuleChanges{
		Off:      []auditor.RuleOff{{Rule: "cni-unknown", Control: auditor.SR1, By: "config"}, {Rule: "netpol-selector-unpinned", Control: auditor.SR1, By: "--skip-rule"}},
		Severity: []auditor.SeverityChange{{Rule: "budget-db-not-ha-in-prod", Control: auditor.SR3, From: auditor.SeverityHigh, To: auditor.SeverityLow}},
	}
	r := New(ev, auditor.SeverityHigh, metas).WithRuleChanges(changes)
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	assert.True(t, bytes.HasSuffix(b.Bytes(), []byte("\nrules off: cni-unknown, netpol-selector-unpinned; severity changed: budget-db-not-ha-in-prod high→low\n")), b.String())

	b.Reset()
	require.NoError(t, r.WriteJSON(&b))
	var got struct {
		RuleChanges struct {
			Off      []map[string]string `json:"off"`
			Severity []map[string]string `json:"severity"`
		} `json:"ruleChanges"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, []map[string]string{{"rule": "cni-unknown", "control": "SR1", "by": "config"}, {"rule": "netpol-selector-unpinned", "control": "SR1", "by": "--skip-rule"}}, got.RuleChanges.Off)
	assert.Equal(t, []map[string]string{{"rule": "budget-db-not-ha-in-prod", "control": "SR3", "from": "high", "to": "low"}}, got.RuleChanges.Severity)

	// Nothing changed: no line, no field.
	r = New(ev, auditor.SeverityHigh, metas).WithRuleChanges(auditor.RuleChanges{})
	b.Reset()
	require.NoError(t, r.WriteTable(&b))
	assert.NotContains(t, b.String(), "rules off")
	b.Reset()
	require.NoError(t, r.WriteJSON(&b))
	assert.NotContains(t, b.String(), "ruleChanges")
}
