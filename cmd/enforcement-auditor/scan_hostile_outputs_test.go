package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yamlv3 "go.yaml.in/yaml/v3"
)

// waivedGPUPod is unlabelledGPUPod waived with a reason a tenant wrote: workflow
// commands, DEL, U+FFFE and a C1 control (escaped in the YAML, raw once decoded).
func waivedGPUPod(until time.Time) string {
	return strings.Replace(unlabelledGPUPod, "metadata: {name: train, namespace: team-a}", `metadata:
  name: train
  namespace: team-a
  annotations:
    enforcement-auditor.llm-platform.io/waive: gpu-pod-missing-queue-name
    enforcement-auditor.llm-platform.io/waive-reason: "::add-mask::x \x7f\uFFFE\x85 ##[error]boom"
    enforcement-auditor.llm-platform.io/waive-until: "`+until.Format(time.RFC3339)+`"`, 1)
}

// TestScanHostileWaiverReason: a waiver reason with workflow commands and control
// characters comes out inert in the table and escaped in every format, each output
// parsing with its reader; -o policyreport used to exit 2 after the other files were
// written.
func TestScanHostileWaiverReason(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "pod.yaml", waivedGPUPod(time.Now().Add(24*time.Hour)))
	paths := map[string]string{}
	args := []string{"scan", "-f", pod, "-o", "table"}
	for _, format := range []string{"json", "sarif", "junit", "github", "policyreport"} {
		paths[format] = filepath.Join(dir, "out."+format)
		args = append(args, "-o", format+"="+paths[format])
	}
	out, errOut, code := execute(t, "", args...)
	require.NotEqual(t, 2, code, errOut)
	assert.Contains(t, out, `waived (until `)
	for line := range strings.Lines(out) {
		assert.False(t, strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::"), "a workflow command in the table: %q", line)
		assert.NotContains(t, line, "##[", "a legacy workflow command in the table")
	}
	assert.Contains(t, out, `::add-mask::x \x7f\ufffe\u0085 #\#[error]boom`)

	read := func(format string) []byte {
		b, err := os.ReadFile(paths[format])
		require.NoError(t, err, format)
		assert.NotContains(t, string(b), "\x7f", format)
		assert.NotContains(t, string(b), "\uFFFE", format)
		return b
	}
	var js struct {
		Findings []struct {
			Rule   string
			Waiver struct{ Reason string }
		}
	}
	require.NoError(t, json.Unmarshal(read("json"), &js))
	var reasons []string
	for _, f := range js.Findings {
		if f.Rule == "gpu-pod-missing-queue-name" {
			reasons = append(reasons, f.Waiver.Reason)
		}
	}
	assert.Equal(t, []string{`::add-mask::x \x7f\ufffe\u0085 ##[error]boom`}, reasons, "the waiver reason, escaped")
	var sarif map[string]any
	require.NoError(t, json.Unmarshal(read("sarif"), &sarif))
	var junit struct{ XMLName xml.Name }
	require.NoError(t, xml.Unmarshal(read("junit"), &junit))
	dec := yamlv3.NewDecoder(bytes.NewReader(read("policyreport")))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "policyreport is YAML")
	}
	assert.Contains(t, string(read("github")), `\x7f\ufffe\u0085`)
}

// TestScanOutputErrorWritesNothing: when one -o cannot be written, the run exits 2 and
// no other output file is written, whatever their order.
func TestScanOutputErrorWritesNothing(t *testing.T) {
	dir := t.TempDir()
	pod := writeFile(t, dir, "in/pod.yaml", unlabelledGPUPod)
	outDir := filepath.Join(dir, "out")
	require.NoError(t, os.MkdirAll(filepath.Join(outDir, "a-directory"), 0o755))
	for name, bad := range map[string]string{
		"missing directory": "sarif=" + filepath.Join(outDir, "missing", "r.sarif"),
		"a directory":       "junit=" + filepath.Join(outDir, "a-directory"),
	} {
		t.Run(name, func(t *testing.T) {
			for _, order := range [][]string{
				{"-o", "json=" + filepath.Join(outDir, "r.json"), "-o", bad, "-o", "policyreport=" + filepath.Join(outDir, "r.yaml")},
				{"-o", bad, "-o", "json=" + filepath.Join(outDir, "r.json")},
			} {
				stdout, errOut, code := execute(t, "", append([]string{"scan", "-f", pod, "-o", "table"}, order...)...)
				assert.Equal(t, 2, code)
				assert.Contains(t, errOut, "--output "+bad)
				assert.Empty(t, stdout, "nothing on stdout either")
				entries, err := os.ReadDir(outDir)
				require.NoError(t, err)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				assert.Equal(t, []string{"a-directory"}, names, "no output written, no temporary file left")
			}
		})
	}
}
