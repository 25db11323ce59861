package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// executeReader is execute with any stdin (an endless one).
func executeReader(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return out.String(), errOut.String(), 0
	case errors.As(err, &ee):
		if ee.err != nil {
			errOut.WriteString(ee.err.Error())
		}
		return out.String(), errOut.String(), ee.code
	}
	return out.String(), errOut.String() + err.Error(), 2
}

// TestNELInJSONManifestIsFailOpen is the SR3 bypass tried as a new user would: the
// example platform with its LiteLLM ConfigMap as `kubectl get cm -o json` prints it,
// the config's flag turned back on after a NEL inside a comment (PyYAML takes NEL for a
// line break; JSON keeps it verbatim).
func TestNELInJSONManifestIsFailOpen(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"00-namespaces.yaml", "10-sr1-network.yaml", "20-sr2-gpu.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/platform", f))
		require.NoError(t, err)
		writeFile(t, dir, f, string(b))
	}
	objs, err := manifests.Read([]string{"../../examples/platform/30-sr3-litellm.yaml"}, nil)
	require.NoError(t, err)
	items := make([]any, 0, len(objs))
	patched := false
	for _, o := range objs {
		if cm, ok := o.Value.(*corev1.ConfigMap); ok && cm.Namespace == "litellm" && cm.Name == "litellm-config" {
			data := cm.Data
			cfg := data["config.yaml"]
			const off = "  allow_requests_on_db_unavailable: false\n"
			require.Contains(t, cfg, off)
			data["config.yaml"] = strings.Replace(cfg, off, "  allow_requests_on_db_unavailable: false # fail closed\u0085  allow_requests_on_db_unavailable: true\n", 1)
			patched = true
		}
		items = append(items, o.Value)
	}
	require.True(t, patched)
	b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
	require.NoError(t, err)
	require.Contains(t, string(b), "\u0085", "encoding/json writes NEL raw, as kubectl does")
	writeFile(t, dir, "30-sr3.json", string(b))

	out, stderr, code := execute(t, "", "scan", "-f", dir, "-o", "json")
	require.Equal(t, 1, code, stderr)
	var rep struct {
		Findings []struct {
			Rule   string `json:"rule"`
			Object struct {
				Kind, Namespace, Name string
			} `json:"object"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	found := false
	for _, f := range rep.Findings {
		if f.Rule == "budget-fail-open-in-prod" && f.Object.Namespace == "litellm" && f.Object.Name == "litellm-config" {
			found = true
		}
	}
	assert.True(t, found, "budget-fail-open-in-prod on ConfigMap litellm-config: %s", out)
}

// endlessDocs is stdin that never ends: small documents forever.
type endlessDocs struct{ off int }

func (e *endlessDocs) Read(p []byte) (int, error) {
	const doc = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	n := 0
	for n < len(p) {
		c := copy(p[n:], doc[e.off:])
		n += c
		e.off = (e.off + c) % len(doc)
	}
	return n, nil
}

func TestEndlessStdinStopsAtTheBudget(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"bytes":   {[]string{"--max-input-bytes", "1Mi"}, "raise the budget with --max-input-bytes"},
		"objects": {[]string{"--max-input-objects", "5000"}, "raise the budget with --max-input-objects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := executeReader(t, &endlessDocs{}, append([]string{"scan", "-f", "-"}, tc.args...)...)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, stderr, "<stdin>: the input exceeds the budget of")
		})
	}
	_, stderr, code := execute(t, "", "scan", "-f", "-", "--max-input-bytes", "lots")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--max-input-bytes")
}

// TestFilesThatNeverEnd: a config, key or document that is a device or a FIFO is
// refused at once (they used to end in `fatal error: out of memory`, or hang).
func TestFilesThatNeverEnd(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	ns := writeFile(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	tests := map[string]struct {
		args []string
		want string
	}{
		"config":           {[]string{"--config", "/dev/zero", "scan", "-f", ns}, "/dev/zero: not a regular file (a device)"},
		"signing key":      {[]string{"evidence", "-f", ns, "--signing-key", "/dev/zero"}, "/dev/zero: not a regular file (a device)"},
		"public key":       {[]string{"evidence", "verify", ns, "--public-key", "/dev/zero"}, "/dev/zero: not a regular file (a device)"},
		"document":         {[]string{"evidence", "verify", "/dev/zero", "--insecure-digest-only"}, "/dev/zero: not a regular file (a device)"},
		"FIFO named by -f": {[]string{"scan", "-f", fifo}, "pipe.yaml: not a regular file (a FIFO)"},
		"config as a FIFO": {[]string{"--config", fifo, "scan", "-f", ns}, "not a regular file (a FIFO)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, stderr, code := execute(t, "", tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
	// In a directory, a FIFO is skipped with a warning and the rest is scanned.
	_, stderr, code := execute(t, "", "scan", "-f", dir)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "pipe.yaml: skipped: not a regular file (a FIFO)")
}
