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
