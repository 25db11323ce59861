package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A checkout under umask 002 makes the test keys group-writable, which the loaders
// refuse: take group and world write off them before any test loads one.
func init() {
	keys, _ := filepath.Glob("../../exporters/evidence/testdata/*.pem")
	for _, k := range keys {
		if st, err := os.Stat(k); err == nil && st.Mode().Perm()&0o022 != 0 {
			_ = os.Chmod(k, st.Mode().Perm()&^0o022)
		}
	}
}

func TestWritableSigningKeyIsRefused(t *testing.T) {
	b, err := os.ReadFile(testKey)
	require.NoError(t, err)
	key := filepath.Join(t.TempDir(), "evidence.key")
	require.NoError(t, os.WriteFile(key, b, 0o600))
	require.NoError(t, os.Chmod(key, 0o664))
	_, stderr, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", key)
	assert.Equal(t, 2, code, stderr)
	assert.Contains(t, stderr, key+": mode 0664 is group- or world-writable")
}

// --previous goes through the bounded reader: /dev/zero used to grow without bound and
// a FIFO to hang.
func TestPreviousThatNeverEnds(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "previous.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for name, c := range map[string]struct{ path, want string }{
		"/dev/zero": {"/dev/zero", "--previous /dev/zero: not a regular file (a device)"},
		"a FIFO":    {fifo, "--previous " + fifo + ": not a regular file (a FIFO)"},
	} {
		t.Run(name, func(t *testing.T) {
			type result struct {
				stderr string
				code   int
			}
			done := make(chan result, 1)
			go func() {
				_, stderr, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--previous", c.path)
				done <- result{stderr, code}
			}()
			select {
			case r := <-done:
				assert.Equal(t, 2, r.code, r.stderr)
				assert.Contains(t, r.stderr, c.want)
			case <-time.After(30 * time.Second):
				t.Fatal("evidence --previous does not return")
			}
		})
	}
}

// Output files honour the umask and keep the mode of the file they replace (they were
// forced to 0644: an operator's 0600 became 0644); a missing directory is named as
// given, not as a temporary file.
func TestOutputFilesKeepTheirMode(t *testing.T) {
	dir := t.TempDir()
	existing := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("old"), 0o600))
		return p
	}
	ev, att, oscal, rep := existing("evidence.json"), existing("attestation.json"), existing("oscal.json"), existing("report.json")
	commands := [][]string{
		{"evidence", "-f", "../../examples/platform", "--signing-key", testKey, "--output-file", ev},
		{"evidence", "-f", "../../examples/platform", "-o", "oscal", "--signing-key", testKey, "--attestation-file", att, "--output-file", oscal},
		{"scan", "-f", "../../examples/platform", "-o", "json=" + rep},
	}
	for _, args := range commands {
		_, stderr, code := execute(t, "", args...)
		require.NotEqual(t, 2, code, stderr)
	}
	for _, p := range []string{ev, att, oscal, rep} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
		assert.Greater(t, st.Size(), int64(len("old")), "%s was rewritten", p)
	}

	fresh := filepath.Join(dir, "fresh.json")
	old := syscall.Umask(0o077)
	_, stderr, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--output-file", fresh)
	syscall.Umask(old)
	require.Equal(t, 0, code, stderr)
	st, err := os.Stat(fresh)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a new file gets what the umask leaves")

	missing := filepath.Join(dir, "no-such-dir", "x.json")
	for _, args := range [][]string{
		{"evidence", "-f", "../../examples/platform", "--output-file", missing},
		{"scan", "-f", "../../examples/platform", "-o", "json=" + missing},
	} {
		_, stderr, code := execute(t, "", args...)
		assert.Equal(t, 2, code, stderr)
		assert.Contains(t, stderr, missing+": directory "+filepath.Dir(missing)+" does not exist")
		assert.NotContains(t, stderr, ".tmp")
	}
}
