package report

import (
	"bytes"
	"testing"

	junit "github.com/joshdk/go-junit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestJUnit(t *testing.T) {
	ev, metas := sampleEvaluation()
	ev.Findings = append(ev.Findings, auditor.Finding{Rule: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityLow,
		Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "batch"},
		Message: "low <risk> & more", Location: &auditor.Location{File: "ns.yaml", Document: 2, Line: 4}})
	metas = append(metas, auditor.RuleMeta{ID: "budget-cache-not-redis-in-prod", Control: auditor.SR3})
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteJUnit(&b))
	golden(t, "report.junit.xml", b.Bytes())

	// Read back by a JUnit consumer's parser.
	suites, err := junit.Ingest(b.Bytes())
	require.NoError(t, err)
	type got struct {
		Suite, Name, Classname, Message, File string
		Status                                junit.Status
	}
	var cases []got
	for _, s := range suites {
		for _, tc := range s.Tests {
			cases = append(cases, got{Suite: s.Name, Name: tc.Name, Classname: tc.Classname, Status: tc.Status, Message: tc.Message, File: tc.Properties["file"]})
		}
	}
	sr1, sr2, sr3 := "SR1 "+controlTitles[auditor.SR1], "SR2 "+controlTitles[auditor.SR2], "SR3 "+controlTitles[auditor.SR3]
	assert.Equal(t, []got{
		{Suite: sr1, Name: "netpol-default-deny-missing Namespace/serving", Classname: "SR1.netpol-default-deny-missing", Status: junit.StatusFailed, Message: "no NetworkPolicy in serving isolates every pod for ingress"},
		{Suite: sr1, Name: "netpol-default-deny-missing Namespace/batch", Classname: "SR1.netpol-default-deny-missing", Status: junit.StatusPassed, File: "ns.yaml"},
		{Suite: sr2, Name: "gpu-pod-missing-queue-name Pod/team-a/train-0", Classname: "SR2.gpu-pod-missing-queue-name", Status: junit.StatusFailed, Message: "pod requests 1 GPU without a queue name", File: "jobs/train.yaml"},
		{Suite: sr2, Name: "gpu-pod-not-admitted", Classname: "SR2.gpu-pod-not-admitted", Status: junit.StatusSkipped, Message: "could not judge: workloads.kueue.x-k8s.io is not served"},
		{Suite: sr3, Name: "budget-fail-open-in-prod ConfigMap/litellm/litellm-config", Classname: "SR3.budget-fail-open-in-prod", Status: junit.StatusSkipped, Message: "waived: private VPC, accepted in RISK-12"},
		{Suite: sr3, Name: "budget-cache-not-redis-in-prod", Classname: "SR3.budget-cache-not-redis-in-prod", Status: junit.StatusPassed},
	}, cases)
	assert.Equal(t, 2, suites[0].Totals.Tests)
	assert.Equal(t, 1, suites[0].Totals.Failed)
	assert.Contains(t, suites[0].Tests[1].SystemOut, "low (below --fail-on high): low <risk> & more", "escaped in XML, intact once read")
}
