package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name (read before any t.Chdir), rewriting it with -update.
func golden(t *testing.T, path string, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/enforcement-auditor -update to create golden files")
	assert.Equal(t, string(want), got)
}

// scanExample runs scan over examples/platform from the repository root, as the README
// shows it, so paths in the output are the ones a user sees.
func scanExample(t *testing.T, args ...string) string {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
	out, errOut, code := execute(t, "", append([]string{"scan", "-f", "examples/platform"}, args...)...)
	require.Equal(t, 1, code, "the example platform carries deliberate defects; stderr: %s", errOut)
	return out
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return p
}

func TestScanExampleGolden(t *testing.T) {
	for name, format := range map[string]string{"platform.txt": "table", "platform.json": "json"} {
		t.Run(format, func(t *testing.T) {
			p := testdata(t, name)
			golden(t, p, scanExample(t, "-o", format))
		})
	}
}

// TestReadmeJSONSample keeps the README's sample the real output of
// `scan -f examples/platform -o json`, with only whole findings left out.
func TestReadmeJSONSample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	const open = "prints this, three of its four findings left out:\n\n```json\n"
	_, rest, ok := strings.Cut(string(readme), open)
	require.True(t, ok, "the README's JSON sample moved")
	sample, _, _ := strings.Cut(rest, "```")

	var readmeDoc, real map[string]any
	require.NoError(t, json.Unmarshal([]byte(sample), &readmeDoc))
	require.NoError(t, json.Unmarshal([]byte(scanExample(t, "-o", "json")), &real))
	var kept []any
	for _, f := range real["findings"].([]any) {
		if f.(map[string]any)["rule"] == "gpu-pod-missing-queue-name" {
			kept = append(kept, f)
		}
	}
	real["findings"] = kept
	assert.Equal(t, real, readmeDoc)
}
