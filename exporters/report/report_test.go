package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(p, got, 0o644))
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err, "run go test ./exporters/report -update to create golden files")
	assert.Equal(t, string(want), string(got))
}

func sampleEvaluation() (*auditor.Evaluation, []auditor.RuleMeta) {
	until := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	metas := []auditor.RuleMeta{
		{ID: "netpol-default-deny-missing", Control: auditor.SR1},
		{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2},
		{ID: "gpu-pod-not-admitted", Control: auditor.SR2},
		{ID: "budget-fail-open-in-prod", Control: auditor.SR3},
	}
	return &auditor.Evaluation{
		Findings: []auditor.Finding{
			{Rule: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "serving"},
				Message: "no NetworkPolicy in serving isolates every pod for ingress", Remediation: "Apply a default-deny ingress policy."},
			{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "train-0"},
				Message: "pod requests 1 GPU without a queue name", Remediation: "Label the Job with kueue.x-k8s.io/queue-name=<local-queue> & resubmit.",
				Location: &auditor.Location{File: "jobs/train.yaml", Document: 2, Line: 9}},
			{Rule: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "litellm-config"},
				Message: "allow_requests_on_db_unavailable is true", Remediation: "Set it to false.",
				Waiver: &auditor.Waiver{Reason: "private VPC, accepted in RISK-12", Until: &until}},
		},
		Controls:     map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Enforced},
		Inconclusive: map[string][]string{"gpu-pod-not-admitted": {"workloads.kueue.x-k8s.io is not served"}},
	}, metas
}

func TestJSONContract(t *testing.T) {
	ev, metas := sampleEvaluation()
	r := New(ev, auditor.SeverityHigh, metas)
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	golden(t, "report.json", b.Bytes())

	// The documented contract, read back generically.
	var doc struct {
		Findings []struct {
			Rule, Control, Severity, Message, Remediation, Fingerprint string
			Object                                                     map[string]string
			Location                                                   *auditor.Location
		}
		Summary Summary
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	require.Len(t, doc.Findings, 3)
	assert.Equal(t, map[string]string{"apiVersion": "v1", "kind": "Namespace", "name": "serving"}, doc.Findings[0].Object)
	for i, f := range doc.Findings {
		assert.Equal(t, ev.Findings[i].Fingerprint(), f.Fingerprint, "the fingerprint of OTel events")
	}
	assert.Nil(t, doc.Findings[0].Location, "no location: no field")
	assert.Equal(t, &auditor.Location{File: "jobs/train.yaml", Document: 2, Line: 9}, doc.Findings[1].Location)
	assert.Contains(t, b.String(), "queue-name=<local-queue> & resubmit", "not HTML-escaped")

	// json.Marshal of the report is the same contract.
	m, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, b.String(), string(m))
	assert.Equal(t, "critical", doc.Findings[2].Severity)
	assert.True(t, doc.Summary.Failed, "two high findings at --fail-on high")
	assert.Equal(t, 1, doc.Summary.Waived)
	assert.Equal(t, 0, doc.Summary.BySeverity["critical"], "a waived finding does not count")
}

func TestFailOnThreshold(t *testing.T) {
	ev, metas := sampleEvaluation()
	assert.False(t, New(ev, auditor.SeverityCritical, metas).Summary.Failed, "the only critical finding is waived")
	assert.True(t, New(ev, auditor.SeverityInfo, metas).Summary.Failed)
	empty := &auditor.Evaluation{Controls: map[auditor.Control]auditor.ControlState{}}
	r := New(empty, auditor.SeverityInfo, nil)
	assert.False(t, r.Summary.Failed)
	assert.NotNil(t, r.Findings, "findings is [] not null in JSON")
}

func TestTable(t *testing.T) {
	ev, metas := sampleEvaluation()
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteTable(&b))
	golden(t, "report.txt", b.Bytes())
}

func TestTableSummaryCountsInWords(t *testing.T) {
	ev, metas := sampleEvaluation()
	for n, want := range map[int]string{0: "0 findings (", 1: "1 finding (", 2: "2 findings ("} {
		one := *ev
		one.Findings = ev.Findings[:n]
		var b bytes.Buffer
		require.NoError(t, New(&one, auditor.SeverityHigh, metas).WriteTable(&b))
		assert.Contains(t, b.String(), "\n"+want, "%d findings", n)
	}
}
