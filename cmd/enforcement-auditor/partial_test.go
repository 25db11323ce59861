package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// A CI job that scans only the files it changed: the protected and the Kueue-managed
// namespaces are among them, their NetworkPolicy and the gate ClusterPolicy are in files
// it did not change. A full scan of those files reports the absences (a repository
// without them has exactly that gap); --partial reports them unknown, not among the
// inputs, and fails only on what the files hold (the privileged tenant namespace).
func TestScanPartialLeavesAbsencesUnjudged(t *testing.T) {
	dir := t.TempDir()
	changed := writeFile(t, dir, "namespaces.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: serving}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {llm-platform/kueue-managed: "true", pod-security.kubernetes.io/enforce: baseline}}
`)
	type report struct {
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
		Controls     map[auditor.Control]auditor.ControlState `json:"controls"`
		Inconclusive map[string][]string                      `json:"inconclusive"`
	}
	scan := func(args ...string) (report, int) {
		js, errOut, code := execute(t, "", append([]string{"scan", "-f", changed, "-o", "json"}, args...)...)
		var rep report
		require.NoError(t, json.Unmarshal([]byte(js), &rep), "stderr: %s", errOut)
		return rep, code
	}
	rules := func(r report) []string {
		var out []string
		for _, f := range r.Findings {
			out = append(out, f.Rule)
		}
		return out
	}

	full, code := scan()
	assert.Equal(t, 1, code)
	assert.Subset(t, rules(full), []string{"gpu-gate-policy-missing", "netpol-default-deny-missing"})

	part, code := scan("--partial")
	assert.Equal(t, 0, code, "nothing the files hold is at or above high")
	assert.NotContains(t, rules(part), "gpu-gate-policy-missing")
	assert.NotContains(t, rules(part), "netpol-default-deny-missing")
	assert.Contains(t, part.Inconclusive["netpol-default-deny-missing"],
		"partial scan: its finding on Namespace/serving rests on no NetworkPolicy being among the inputs, and the files not scanned may hold one; scan them all to judge it")
	assert.Contains(t, part.Inconclusive["gpu-gate-policy-missing"],
		"partial scan: its finding rests on no ClusterPolicy or ValidatingPolicy or ValidatingAdmissionPolicy or ValidatingAdmissionPolicyBinding being among the inputs, and the files not scanned may hold one; scan them all to judge it")
	assert.Equal(t, auditor.Unknown, part.Controls[auditor.SR1])
	assert.Equal(t, auditor.Unknown, part.Controls[auditor.SR2])

	_, errOut, code := execute(t, "", "scan", "--partial", "--kubeconfig", writeFile(t, dir, "kc", "apiVersion: v1\nkind: Config\n"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--partial applies to -f inputs")
}
