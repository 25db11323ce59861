package fileoutput

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheck: Check answers as Write would, and writes nothing.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.json")
	require.NoError(t, os.WriteFile(existing, []byte("old"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))

	assert.NoError(t, Check(filepath.Join(dir, "new.json")))
	assert.NoError(t, Check(existing))
	assert.NoError(t, Check(os.DevNull), "a device is written in place")
	err := Check(filepath.Join(dir, "missing", "x.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "directory "+filepath.Join(dir, "missing")+" does not exist")
	err = Check(filepath.Join(dir, "sub"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a directory")

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"existing.json", "sub"}, names, "nothing written, no temporary file left")
	b, err := os.ReadFile(existing)
	require.NoError(t, err)
	assert.Equal(t, "old", string(b))
}
