package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execute runs the CLI in-process and returns stdout, stderr and the exit status main would use.
func execute(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	code := 0
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.err != nil {
			errOut.WriteString(ee.err.Error())
		}
	default:
		code = 2
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), code
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

const unlabelledGPUPod = `apiVersion: v1
kind: Namespace
metadata: {name: team-a, labels: {llm-platform/kueue-managed: "true"}}
---
apiVersion: v1
kind: Pod
metadata: {name: train, namespace: team-a}
spec:
  containers:
  - name: c
    image: img
    resources: {limits: {nvidia.com/gpu: 1}}
`

func TestScanExitStatus(t *testing.T) {
	dir := t.TempDir()
	clean := writeFile(t, dir, "clean/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-web}\n")
	violating := writeFile(t, dir, "violating/pod.yaml", unlabelledGPUPod)
	brokenDir := filepath.Join(dir, "broken")
	writeFile(t, dir, "broken/good.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	writeFile(t, dir, "broken/bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n---\nkind: [unclosed\n")
	notK8s := writeFile(t, dir, "litellm/config.yaml", "model_list:\n- model_name: llama\n")
	badConfig := writeFile(t, dir, "auditor.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\nsr2:\n  gpuResource: [x]\n")

	cases := map[string]struct {
		stdin      string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"no finding at or above --fail-on":                   {args: []string{"scan", "-f", clean, "--fail-on", "low"}, wantCode: 0, wantStdout: "PASS"},
		"a high finding fails at --fail-on high":             {args: []string{"scan", "-f", violating}, wantCode: 1, wantStdout: "gpu-pod-missing-queue-name"},
		"stdin":                                              {stdin: unlabelledGPUPod, args: []string{"scan", "-f", "-"}, wantCode: 1, wantStdout: "Pod/team-a/train"},
		"broken YAML in a directory names file and document": {args: []string{"scan", "-f", brokenDir}, wantCode: 2, wantStderr: "bad.yaml: document 2 (line 5)"},
		"a file that is not Kubernetes objects":              {args: []string{"scan", "-f", notK8s}, wantCode: 2, wantStderr: "config.yaml: document 1 (line 1): not a Kubernetes object"},
		"a missing file":                                     {args: []string{"scan", "-f", filepath.Join(dir, "nope.yaml")}, wantCode: 2, wantStderr: "nope.yaml"},
		"an unknown config field is named":                   {args: []string{"scan", "-f", clean, "--config", badConfig}, wantCode: 2, wantStderr: `unknown field "sr2.gpuResource"`},
		"a bad --fail-on":                                    {args: []string{"scan", "-f", clean, "--fail-on", "urgent"}, wantCode: 2, wantStderr: "--fail-on"},
		"a bad --output":                                     {args: []string{"scan", "-f", clean, "-o", "xml"}, wantCode: 2, wantStderr: "--output"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := execute(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, tc.wantStdout)
			assert.Contains(t, errOut, tc.wantStderr)
		})
	}
}

func TestScanJSONIsTheContract(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "pod.yaml", unlabelledGPUPod)
	out, _, code := execute(t, "", "scan", "-f", p, "-o", "json")
	require.Equal(t, 1, code)
	var doc struct {
		Findings []struct {
			Rule, Control, Severity, Message, Remediation string
			Object                                        struct{ APIVersion, Kind, Namespace, Name string }
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	var rules []string
	for _, f := range doc.Findings {
		rules = append(rules, f.Rule)
		assert.NotEmpty(t, f.Remediation)
	}
	require.Contains(t, rules, "gpu-pod-missing-queue-name")
	for _, f := range doc.Findings {
		if f.Rule == "gpu-pod-missing-queue-name" {
			assert.Equal(t, "SR2", f.Control)
			assert.Equal(t, "high", f.Severity)
			assert.Equal(t, "Pod", f.Object.Kind)
			assert.Equal(t, "team-a", f.Object.Namespace)
			assert.Equal(t, "train", f.Object.Name)
		}
	}
}

func TestScanExamplePlatform(t *testing.T) {
	out, errOut, code := execute(t, "", "scan", "-f", "../../examples/platform", "-o", "json")
	require.Equal(t, 1, code, "the example platform carries deliberate defects; stderr: %s", errOut)
	assert.Contains(t, out, `"rule": "netpol-ingress-outside-allowlist"`)
	assert.Contains(t, out, `"rule": "budget-db-not-ha-in-prod"`)
}

func TestVersion(t *testing.T) {
	out, _, code := execute(t, "", "version")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "enforcement-auditor "), out)
}
