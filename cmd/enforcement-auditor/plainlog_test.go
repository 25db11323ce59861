package main

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestScanWarnsInPlainText: the CLI's warnings read as a person's message, not as a
// structured record; --log-format text keeps the records; --quiet drops the warnings.
func TestScanWarnsInPlainText(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}\n")
	writeFile(t, dir, "ci.yaml", "on: push\njobs: {}\n")

	_, errOut, code := execute(t, "", "scan", "-f", dir, "--fail-on", "none")
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "warning: skipped 1 file holding no Kubernetes object: "+dir+"/ci.yaml\n")
	assert.NotContains(t, errOut, "level=WARN")
	assert.NotContains(t, errOut, "\x1b[", "no colour off a terminal")

	_, errOut, _ = execute(t, "", "scan", "-f", dir, "--fail-on", "none", "--log-format", "text")
	assert.Contains(t, errOut, "level=WARN")

	out, errOut, code := execute(t, "", "scan", "-f", dir, "--fail-on", "none", "-q")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut, "--quiet: no warnings")
	assert.NotContains(t, out, "SR1  budget path", "--quiet: no control without a failing finding")

	_, errOut, code = execute(t, "", "scan", "-f", dir, "--severity", "severe")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--severity: unknown severity "severe"`)
}

func TestPlainHandler(t *testing.T) {
	var b bytes.Buffer
	l := slog.New(newPlainHandler(&b, slog.LevelDebug, false)).With("component", "client-go")
	l.Info("caches synced", "host", "https://10.0.0.1")
	l.Warn("watch failed", "err", "connection refused")
	l.Error("stopped")
	l.Debug("detail")
	assert.Equal(t, `caches synced component=client-go host=https://10.0.0.1
warning: watch failed component=client-go err="connection refused"
error: stopped component=client-go
debug: detail component=client-go
`, b.String())

	b.Reset()
	slog.New(newPlainHandler(&b, slog.LevelWarn, true)).Warn("w")
	slog.New(newPlainHandler(&b, slog.LevelWarn, true)).Info("not shown")
	assert.Equal(t, "\x1b[33mwarning\x1b[0m: w\n", b.String())
}

func TestColorFor(t *testing.T) {
	var b bytes.Buffer
	assert.False(t, colorFor(&b, false), "not a terminal")
	t.Setenv("NO_COLOR", "1")
	assert.False(t, colorFor(&b, false))
}
