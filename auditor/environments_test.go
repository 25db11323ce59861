package auditor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestMergeEnvironments(t *testing.T) {
	pod := &auditor.ObjectRef{APIVersion: "v1", Kind: "NetworkPolicy", Namespace: "serving", Name: "allow"}
	f := auditor.Finding{Rule: "netpol-ingress-outside-allowlist", Control: auditor.SR1, Severity: auditor.SeverityCritical, Object: pod}
	t0 := time.Unix(100, 0)
	dev := &auditor.Evaluation{
		At: t0, Findings: []auditor.Finding{f},
		Controls:      map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Unknown, auditor.SR3: auditor.NotApplicable},
		Inconclusive:  map[string][]string{"gpu-pod-not-admitted": {"no Workload among the inputs"}},
		NotApplicable: map[auditor.Control]string{auditor.SR3: "no LiteLLM prod proxy"},
	}
	prod := &auditor.Evaluation{
		At: t0.Add(time.Second), Findings: []auditor.Finding{f},
		Controls:      map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.NotApplicable},
		NotApplicable: map[auditor.Control]string{auditor.SR3: "no LiteLLM prod proxy"},
	}
	m := auditor.MergeEnvironments([]auditor.Environment{{Name: "overlays/dev", Evaluation: dev}, {Name: "overlays/prod", Evaluation: prod}})
	require.Len(t, m.Findings, 2, "the same defect in two environments is two findings")
	assert.Equal(t, "overlays/dev", m.Findings[0].Environment)
	assert.Equal(t, "overlays/prod", m.Findings[1].Environment)
	assert.NotEqual(t, m.Findings[0].Fingerprint(), m.Findings[1].Fingerprint())
	assert.Equal(t, map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Unknown, auditor.SR3: auditor.NotApplicable}, m.Controls, "the worst state of each control")
	assert.Equal(t, []string{"overlays/dev: no Workload among the inputs"}, m.Inconclusive["gpu-pod-not-admitted"])
	assert.Equal(t, "overlays/dev: no LiteLLM prod proxy; overlays/prod: no LiteLLM prod proxy", m.NotApplicable[auditor.SR3])
	assert.Equal(t, t0.Add(time.Second), m.At)
	assert.Empty(t, dev.Findings[0].Environment, "the inputs are not modified")

	one := auditor.MergeEnvironments([]auditor.Environment{{Evaluation: dev}})
	assert.Same(t, dev, one, "one unnamed platform is returned as it is: outputs unchanged")
}

// TestMergeEnvironmentsSaysASharedReasonOnce: a reason several environments give is one
// line naming them all, in their order; a reason of its own keeps its line.
func TestMergeEnvironmentsSaysASharedReasonOnce(t *testing.T) {
	ev := func(why ...string) *auditor.Evaluation {
		return &auditor.Evaluation{Controls: map[auditor.Control]auditor.ControlState{auditor.SR3: auditor.Unknown},
			Inconclusive: map[string][]string{"budget-fail-open-in-prod": why}}
	}
	m := auditor.MergeEnvironments([]auditor.Environment{
		{Name: "overlays/dev", Evaluation: ev("no ConfigMap among the inputs")},
		{Name: "overlays/prod", Evaluation: ev("no ConfigMap among the inputs", "no Deployment among the inputs")},
		{Name: "charts/gateway", Evaluation: ev("no ConfigMap among the inputs")},
	})
	assert.Equal(t, []string{
		"overlays/dev, overlays/prod, charts/gateway: no ConfigMap among the inputs",
		"overlays/prod: no Deployment among the inputs",
	}, m.Inconclusive["budget-fail-open-in-prod"])
}
