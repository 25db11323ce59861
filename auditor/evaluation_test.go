package auditor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func claimsOnly(cs ...Control) func(Control) bool {
	return func(c Control) bool {
		for _, x := range cs {
			if x == c {
				return true
			}
		}
		return false
	}
}

func TestApplyClaimsMakesUnclaimedControlsDormant(t *testing.T) {
	sr1 := Finding{Rule: "netpol-default-deny-missing", Control: SR1, Severity: SeverityHigh, Object: &ObjectRef{Kind: "Namespace", Name: "serving"}}
	sr2 := Finding{Rule: "gpu-pod-missing-queue-name", Control: SR2, Severity: SeverityHigh, Object: &ObjectRef{Kind: "Pod", Namespace: "a", Name: "p"}}
	sr3 := Finding{Rule: "budget-db-not-ha-in-prod", Control: SR3, Severity: SeverityCritical, Object: &ObjectRef{Kind: "Cluster", Namespace: "litellm", Name: "pg"}}
	notApplicable := map[Control]string{SR3: "SR3 is not claimed and nothing is in scope"}
	controls := ControlStatus(nil, []Finding{sr1, sr2, sr3}, nil, nil)
	ev := &Evaluation{Findings: []Finding{sr1, sr2, sr3}, Controls: controls, NotApplicable: notApplicable}

	ev.ApplyClaims(claimsOnly(SR1))
	assert.Equal(t, []Finding{sr1}, ev.Findings)
	assert.Equal(t, []Finding{sr2, sr3}, ev.Dormant, "sorted like findings (Less)")
	assert.Equal(t, []Control{SR2, SR3}, ev.Unclaimed)
	assert.Equal(t, map[Control]ControlState{SR1: Violated, SR2: NotApplicable, SR3: NotApplicable}, ev.Controls)
	assert.Equal(t, "not claimed by the configuration (controls: SR1)", ev.NotApplicable[SR2])
	assert.Equal(t, "SR3 is not claimed and nothing is in scope", ev.NotApplicable[SR3], "a rule's own reason is kept")
	// The maps it replaced may be shared with the previous evaluation: left as they were.
	assert.Equal(t, Violated, controls[SR2])
	assert.Len(t, notApplicable, 1)

	// Idempotent (the incremental evaluation applies it to a merged evaluation).
	before := *ev
	ev.ApplyClaims(claimsOnly(SR1))
	assert.Equal(t, before.Findings, ev.Findings)
	assert.Equal(t, before.Dormant, ev.Dormant)
	assert.Equal(t, before.Controls, ev.Controls)
	assert.Equal(t, before.NotApplicable, ev.NotApplicable)

	none := &Evaluation{Findings: []Finding{sr1}, Controls: map[Control]ControlState{SR1: Violated}}
	none.ApplyClaims(claimsOnly())
	assert.Empty(t, none.Findings)
	assert.Equal(t, "not claimed by the configuration (controls: none)", none.NotApplicable[SR1])
}

func TestApplyClaimsNilOrAllClaimedChangesNothing(t *testing.T) {
	f := Finding{Rule: "r", Control: SR2, Severity: SeverityHigh}
	for name, claims := range map[string]func(Control) bool{"nil": nil, "all": claimsOnly(SR1, SR2, SR3)} {
		ev := &Evaluation{Findings: []Finding{f}, Controls: map[Control]ControlState{SR2: Violated}}
		ev.ApplyClaims(claims)
		assert.Equal(t, []Finding{f}, ev.Findings, name)
		assert.Empty(t, ev.Dormant, name)
		assert.Empty(t, ev.Unclaimed, name)
		assert.Equal(t, Violated, ev.Controls[SR2], name)
		assert.Empty(t, ev.NotApplicable, name)
	}
}

func TestMergeEnvironmentsKeepsDormantApart(t *testing.T) {
	d := Finding{Rule: "budget-db-not-ha-in-prod", Control: SR3, Severity: SeverityHigh}
	envs := []Environment{
		{Name: "prod", Evaluation: &Evaluation{Dormant: []Finding{d}}},
		{Name: "staging", Evaluation: &Evaluation{Dormant: []Finding{d}}},
	}
	out := MergeEnvironments(envs)
	require.Len(t, out.Dormant, 2)
	assert.Empty(t, out.Findings)
	assert.ElementsMatch(t, []string{"prod", "staging"}, []string{out.Dormant[0].Environment, out.Dormant[1].Environment})
}
