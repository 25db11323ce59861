package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// scanVerdict is the part of the JSON contract that says what was proven.
type scanVerdict struct {
	Controls     map[auditor.Control]auditor.ControlState `json:"controls"`
	Inconclusive map[string][]string                      `json:"inconclusive"`
}

// neededBy lists, per control, the inputs its rules need (RuleMeta.Needs) and which
// rule belongs to which control.
func neededBy() (map[auditor.Control][]string, map[string]auditor.Control) {
	needs := map[auditor.Control][]string{}
	control := map[string]auditor.Control{}
	for _, m := range rules.Catalogue() {
		control[m.ID] = m.Control
		for _, n := range m.Needs {
			if !containsString(needs[m.Control], n) {
				needs[m.Control] = append(needs[m.Control], n)
			}
		}
	}
	return needs, control
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// assertNotEnforcedWithoutInputs checks one scan: a control some of whose needed inputs
// are absent from the scanned file is never enforced, neither in the JSON nor on the
// table's control line, and when unknown its reasons name each absent input.
func assertNotEnforcedWithoutInputs(t *testing.T, file string) (missingAny bool) {
	t.Helper()
	objs, err := manifests.Read([]string{file}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	needs, control := neededBy()

	out, errOut, _ := execute(t, "", "scan", "-f", file, "-o", "json")
	var v scanVerdict
	require.NoError(t, json.Unmarshal([]byte(out), &v), "stdout:\n%s\nstderr:\n%s", out, errOut)
	table, _, _ := execute(t, "", "scan", "-f", file)

	for _, c := range auditor.Controls {
		var missing []string
		for _, in := range needs[c] {
			if !s.Saw(in) {
				missing = append(missing, in)
			}
		}
		if len(missing) == 0 {
			continue
		}
		missingAny = true
		assert.NotEqual(t, auditor.Enforced, v.Controls[c], "%s: %s is enforced although %s are not among the inputs", file, c, strings.Join(missing, ", "))
		line := regexp.MustCompile(`(?m)^` + string(c) + `  .*\[([A-Z-]+)\]$`).FindStringSubmatch(table)
		require.NotNil(t, line, "no control line for %s in the table:\n%s", c, table)
		assert.NotEqual(t, "ENFORCED", line[1], "%s: the table says %s is enforced", file, c)
		if v.Controls[c] != auditor.Unknown {
			continue
		}
		var reasons []string
		for id, rs := range v.Inconclusive {
			if control[id] == c {
				reasons = append(reasons, rs...)
			}
		}
		all := strings.Join(reasons, "\n")
		for _, in := range missing {
			r, ok := auditor.LookupResource(in)
			require.True(t, ok)
			assert.Contains(t, all, fmt.Sprintf("no %s among the inputs (%s)", r.Kind, in), "%s: %s is unknown without naming the absent input", file, c)
		}
	}
	return missingAny
}

func TestScanOfOneFileNeverEnforcedWithoutItsInputs(t *testing.T) {
	files, err := filepath.Glob("../../examples/platform/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			assert.True(t, assertNotEnforcedWithoutInputs(t, f), "%s holds every input of every control: the example no longer exercises this test", f)
		})
	}
}

func TestScanOfOneUnrelatedConfigMapProvesNothing(t *testing.T) {
	p := writeFile(t, t.TempDir(), "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings, namespace: web}\ndata: {color: blue}\n")
	require.True(t, assertNotEnforcedWithoutInputs(t, p))
	out, _, _ := execute(t, "", "scan", "-f", p, "-o", "json")
	var v scanVerdict
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Unknown, auditor.SR3: auditor.Unknown}, v.Controls)
}

// The exit status follows --fail-on (none: never on findings) and --fail-on-control, and
// the table's last line says which, so a control line and the status never disagree
// without a reason printed.
func TestScanExitStatusForCI(t *testing.T) {
	network := "../../examples/platform/10-sr1-network.yaml" // one critical finding; SR2 and SR3 unknown
	cm := writeFile(t, t.TempDir(), "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings, namespace: web}\n")
	cases := map[string]struct {
		args     []string
		code     int
		lastLine string
	}{
		"a critical finding fails at the default --fail-on high": {
			args: []string{"-f", network}, code: 1,
			lastLine: "exit status 1: 1 finding at or above --fail-on high"},
		"--fail-on none: findings never fail, and the line says what is not proven": {
			args: []string{"-f", network, "--fail-on", "none"}, code: 0,
			lastLine: "exit status 0: --fail-on none, findings never fail the scan; SR1 violated, SR2 unknown, SR3 unknown do not fail the scan (--fail-on-control violated or unknown would)"},
		"--fail-on-control violated fails on a violated control": {
			args: []string{"-f", network, "--fail-on", "none", "--fail-on-control", "violated"}, code: 1,
			lastLine: "exit status 1: SR1 violated (--fail-on-control violated)"},
		"--fail-on-control unknown fails on unknown and violated controls": {
			args: []string{"-f", network, "--fail-on", "none", "--fail-on-control", "unknown"}, code: 1,
			lastLine: "exit status 1: SR1 violated, SR2 unknown, SR3 unknown (--fail-on-control unknown)"},
		"both reasons are given": {
			args: []string{"-f", network, "--fail-on-control", "violated"}, code: 1,
			lastLine: "exit status 1: 1 finding at or above --fail-on high; SR1 violated (--fail-on-control violated)"},
		"nothing proven, no finding: exit 0 says the unknown controls do not fail it": {
			args: []string{"-f", cm}, code: 0,
			lastLine: "exit status 0: no finding at or above --fail-on high; SR1 unknown, SR2 unknown, SR3 unknown do not fail the scan (--fail-on-control violated or unknown would)"},
		"--fail-on-control violated passes unknown controls, saying so": {
			args: []string{"-f", cm, "--fail-on-control", "violated"}, code: 0,
			lastLine: "exit status 0: no finding at or above --fail-on high; SR1 unknown, SR2 unknown, SR3 unknown do not fail the scan (--fail-on-control unknown would)"},
		"--fail-on-control unknown fails a scan that proves nothing": {
			args: []string{"-f", cm, "--fail-on-control", "unknown"}, code: 1,
			lastLine: "exit status 1: SR1 unknown, SR2 unknown, SR3 unknown (--fail-on-control unknown)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := execute(t, "", append([]string{"scan"}, tc.args...)...)
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			assert.Equal(t, tc.lastLine, lines[len(lines)-1])

			js, _, jcode := execute(t, "", append([]string{"scan", "-o", "json"}, tc.args...)...)
			require.Equal(t, tc.code, jcode)
			var rep struct {
				Summary struct {
					Failed        bool   `json:"failed"`
					FailOn        string `json:"failOn"`
					FailOnControl string `json:"failOnControl"`
				} `json:"summary"`
			}
			require.NoError(t, json.Unmarshal([]byte(js), &rep))
			assert.Equal(t, tc.code == 1, rep.Summary.Failed)
		})
	}
}

func TestScanFailOnFlagsRejectUnknownValues(t *testing.T) {
	cm := writeFile(t, t.TempDir(), "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	_, errOut, code := execute(t, "", "scan", "-f", cm, "--fail-on-control", "enforced")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--fail-on-control: unknown value "enforced" (want violated, unknown or none)`)
	_, errOut, code = execute(t, "", "scan", "-f", cm, "--fail-on", "never")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--fail-on: ")
	assert.Contains(t, errOut, "or none")
}

// A control the configuration does not claim, with nothing in scope among the inputs, is
// not-applicable in every output, and never fails the scan.
func TestScanUnclaimedControlsAreNotApplicable(t *testing.T) {
	dir := t.TempDir()
	cm := writeFile(t, dir, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings, namespace: web}\n")
	cfg := writeFile(t, dir, "auditor.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\ncontrols: [SR1]\n")

	js, errOut, code := execute(t, "", "scan", "-f", cm, "--config", cfg, "--fail-on-control", "unknown", "-o", "json")
	require.Equal(t, 1, code, "SR1 is claimed and unknown: stderr %s", errOut)
	var rep struct {
		Controls      map[auditor.Control]auditor.ControlState `json:"controls"`
		NotApplicable map[auditor.Control]string               `json:"notApplicable"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	assert.Equal(t, map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.NotApplicable, auditor.SR3: auditor.NotApplicable}, rep.Controls)
	assert.Contains(t, rep.NotApplicable[auditor.SR2], "SR2 is not claimed (config controls) and the inputs hold no Kueue-managed namespace")
	assert.NotContains(t, rep.NotApplicable, auditor.SR1)

	table, _, _ := execute(t, "", "scan", "-f", cm, "--config", cfg, "--fail-on-control", "unknown")
	assert.Contains(t, table, "SR2  GPU quota: GPU pods cannot bypass Kueue  [NOT-APPLICABLE]\n  not applicable: SR2 is not claimed")
	assert.True(t, strings.HasSuffix(table, "exit status 1: SR1 unknown (--fail-on-control unknown)\n"), table)

	junit, _, _ := execute(t, "", "scan", "-f", cm, "--config", cfg, "-o", "junit")
	assert.Contains(t, junit, `<skipped message="not applicable: SR3 is not claimed (config controls) and the inputs hold no LiteLLM proxy with profile prod"></skipped>`)
}
