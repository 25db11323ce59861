package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// A platform that claims SR1 only (SR2 and SR3 dormant, to be pulled forward later):
// the example platform's SR2 and SR3 defects fail nothing and violate nothing, and
// every output shows them apart as the readiness of the dormant controls.
func TestScanDormantControlsFailOnlyOnClaimed(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "auditor.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\ncontrols: [SR1]\n")
	const platform = "../../examples/platform"

	js, errOut, code := execute(t, "", "scan", "-f", platform, "--config", cfg, "-o", "json", "--fail-on-control", "violated")
	require.Equal(t, 1, code, "SR1 is claimed and violated: stderr %s", errOut)
	var rep struct {
		Findings []struct {
			Rule    string          `json:"rule"`
			Control auditor.Control `json:"control"`
		} `json:"findings"`
		Controls map[auditor.Control]auditor.ControlState `json:"controls"`
		Dormant  map[auditor.Control]struct {
			Findings []struct {
				Rule        string          `json:"rule"`
				Control     auditor.Control `json:"control"`
				Fingerprint string          `json:"fingerprint"`
			} `json:"findings"`
			WouldFail    int  `json:"wouldFail"`
			WouldViolate bool `json:"wouldViolate"`
		} `json:"dormant"`
		Summary struct {
			Total int `json:"total"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	assert.Equal(t, map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.NotApplicable, auditor.SR3: auditor.NotApplicable}, rep.Controls)
	require.NotEmpty(t, rep.Findings)
	for _, f := range rep.Findings {
		assert.Equal(t, auditor.SR1, f.Control, "only the claimed control's findings count: %s", f.Rule)
	}
	assert.Equal(t, len(rep.Findings), rep.Summary.Total)
	require.Contains(t, rep.Dormant, auditor.SR2)
	require.Contains(t, rep.Dormant, auditor.SR3)
	assert.NotContains(t, rep.Dormant, auditor.SR1)
	sr3 := rep.Dormant[auditor.SR3]
	require.Len(t, sr3.Findings, 1)
	assert.Equal(t, "budget-db-not-ha-in-prod", sr3.Findings[0].Rule)
	assert.NotEmpty(t, sr3.Findings[0].Fingerprint)
	assert.Equal(t, 1, sr3.WouldFail)
	assert.True(t, sr3.WouldViolate)
	sr2 := rep.Dormant[auditor.SR2]
	assert.Equal(t, 2, sr2.WouldFail)
	for _, f := range sr2.Findings {
		assert.Equal(t, auditor.SR2, f.Control)
	}

	table, _, code := execute(t, "", "scan", "-f", platform, "--config", cfg)
	require.Equal(t, 1, code)
	assert.Contains(t, table, "SR2  GPU quota: GPU pods cannot bypass Kueue  [NOT-APPLICABLE]\n  not applicable: not claimed by the configuration (controls: SR1)\n"+
		"  dormant: 2 findings would fail if SR2 were claimed (--fail-on high); SR2 would read VIOLATED\n")
	assert.Contains(t, table, "  dormant: 1 finding would fail if SR3 were claimed (--fail-on high); SR3 would read VIOLATED\n  HIGH      budget-db-not-ha-in-prod")
	assert.True(t, strings.HasSuffix(table, "exit status 1: 1 finding at or above --fail-on high\n"), table)

	// Without SR1's defect the dormant controls' findings fail nothing, whatever the flags.
	cfg2 := writeFile(t, dir, "sr1-off.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\ncontrols: []\n")
	table, errOut, code = execute(t, "", "scan", "-f", platform, "--config", cfg2, "--fail-on", "info", "--fail-on-control", "unknown")
	require.Equal(t, 0, code, "no control claimed: nothing can fail; stderr %s\n%s", errOut, table)
	assert.Contains(t, table, "dormant: 1 finding would fail if SR1 were claimed (--fail-on info); SR1 would read VIOLATED")
	assert.Contains(t, table, "\n0 findings (critical 0")
}
