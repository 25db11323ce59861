package fileinput

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	require.NoError(t, os.WriteFile(small, []byte("12345"), 0o644))
	fifo := filepath.Join(dir, "fifo.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))

	tests := map[string]struct {
		path    string
		max     int64
		want    string
		wantErr string
	}{
		"fits":           {path: small, max: 5, want: "12345"},
		"too large":      {path: small, max: 4, wantErr: "file too large: larger than 4 bytes"},
		"FIFO":           {path: fifo, max: 10, wantErr: "not a regular file (a FIFO)"},
		"endless device": {path: "/dev/zero", max: 10, wantErr: "not a regular file (a device)"},
		"directory":      {path: dir, max: 10, wantErr: "not a regular file (a directory)"},
		"missing":        {path: filepath.Join(dir, "missing"), max: 10, wantErr: "no such file or directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := ReadFile(tc.path, tc.max)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
	_, err := ReadFile(small, 1)
	assert.True(t, errors.Is(err, ErrTooLarge))
}

// ReadFileStat's information is the opened file's: through a link, the target's mode.
func TestReadFileStat(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(real, []byte("k"), 0o600))
	require.NoError(t, os.Chmod(real, 0o640))
	require.NoError(t, os.Symlink("key.pem", filepath.Join(dir, "link.pem")))
	b, st, err := ReadFileStat(filepath.Join(dir, "link.pem"), 10)
	require.NoError(t, err)
	assert.Equal(t, "k", string(b))
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.True(t, st.Mode().IsRegular())
	_, _, err = ReadFileStat("/dev/zero", 10)
	assert.ErrorContains(t, err, "not a regular file (a device)")
}
