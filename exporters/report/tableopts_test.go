package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func tableOf(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	return b.String()
}

// TestTableSeverityHidesBelow: --severity leaves lower findings out of the table only;
// the counts, the verdict and the JSON still hold them.
func TestTableSeverityHidesBelow(t *testing.T) {
	ev, metas := sampleEvaluation()
	ev.Findings[0].Severity = auditor.SeverityMedium // SR1's only finding
	plain := New(ev, auditor.SeverityMedium, metas)
	r := New(ev, auditor.SeverityMedium, metas).WithTable(TableOptions{MinSeverity: auditor.SeverityHigh})
	out := tableOf(t, r)
	assert.NotContains(t, out, "netpol-default-deny-missing")
	assert.Contains(t, out, "  no findings at or above --severity high\n")
	assert.Contains(t, out, "gpu-pod-missing-queue-name")
	assert.Contains(t, out, "1 finding below --severity high not shown\n")
	assert.Equal(t, plain.SummaryLine(), r.SummaryLine())
	assert.Equal(t, plain.ExitReason(), r.ExitReason(), "the exit status is --fail-on's")
	assert.True(t, r.Summary.Failed)
	var a, b bytes.Buffer
	require.NoError(t, plain.WriteJSON(&a))
	require.NoError(t, r.WriteJSON(&b))
	assert.Equal(t, a.String(), b.String(), "the other formats are unchanged")
}

// TestTableQuietShowsWhatFails: --quiet prints only the controls with a failing
// finding, those findings, and the verdict lines.
func TestTableQuietShowsWhatFails(t *testing.T) {
	ev, metas := sampleEvaluation()
	ev.Findings[0].Severity = auditor.SeverityLow
	out := tableOf(t, New(ev, auditor.SeverityHigh, metas).WithTable(TableOptions{Quiet: true}))
	assert.Equal(t, `SR2  GPU quota: GPU pods cannot bypass Kueue  [VIOLATED]
  HIGH      gpu-pod-missing-queue-name  Pod/team-a/train-0
            pod requests 1 GPU without a queue name
            at jobs/train.yaml:9
            fix: Label the Job with kueue.x-k8s.io/queue-name=<local-queue> & resubmit.

3 findings (critical 0, high 1, medium 0, low 1, info 0, waived 1); --fail-on high: FAIL
exit status 1: 1 finding at or above --fail-on high
`, out)
	ev.Findings = ev.Findings[:1]
	out = tableOf(t, New(ev, auditor.SeverityHigh, metas).WithTable(TableOptions{Quiet: true}))
	assert.True(t, strings.HasPrefix(out, "1 finding (critical 0, high 0, medium 0, low 1"), "nothing fails: the verdict lines only:\n%s", out)
}

// TestTableColor: colour marks severities and states, padded as without it, and only
// when asked.
func TestTableColor(t *testing.T) {
	ev, metas := sampleEvaluation()
	r := New(ev, auditor.SeverityHigh, metas)
	assert.NotContains(t, tableOf(t, r), "\x1b[")
	r.SetColor(true)
	out := tableOf(t, r)
	assert.Contains(t, out, "SR1  budget path: model servers reachable only through trusted namespaces  [\x1b[1;31mVIOLATED\x1b[0m]\n")
	assert.Contains(t, out, "  \x1b[31mHIGH    \x1b[0m  netpol-default-deny-missing  Namespace/serving\n")
	assert.Contains(t, out, "  \x1b[2mWAIVED  \x1b[0m  budget-fail-open-in-prod")
	assert.Contains(t, out, "[\x1b[32mENFORCED\x1b[0m]")
}
