package evidence

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A checkout under umask 002 makes the test keys group-writable, which the loaders
// refuse: take group and world write off them before any test loads one.
func init() { keysNotWritableByOthers("testdata") }

func keysNotWritableByOthers(dir string) {
	keys, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	for _, k := range keys {
		if st, err := os.Stat(k); err == nil && st.Mode().Perm()&0o022 != 0 {
			_ = os.Chmod(k, st.Mode().Perm()&^0o022)
		}
	}
}

// A private key others can write is refused (whoever replaces it signs in the
// platform's name); a public key is not a secret nor a signing capability.
func TestSigningKeyWritableByOthersIsRefused(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		src  string
		load func(string) error
	}{
		{"testdata/test-signing-key.pem", func(p string) error { _, err := LoadSigner(p); return err }},
		{"testdata/ec-key.pem", func(p string) error { _, err := LoadSigner(p); return err }},
		{"testdata/test-signing-key.pem", func(p string) error { _, err := LoadPrivateKey(p); return err }},
	} {
		b, err := os.ReadFile(c.src)
		require.NoError(t, err)
		for _, mode := range []os.FileMode{0o600, 0o400, 0o640, 0o644, 0o620, 0o602, 0o666, 0o660} {
			p := filepath.Join(dir, filepath.Base(c.src))
			require.NoError(t, os.WriteFile(p, b, 0o600))
			require.NoError(t, os.Chmod(p, mode))
			err := c.load(p)
			if mode&0o022 == 0 {
				assert.NoError(t, err, "%s %04o", c.src, mode)
				continue
			}
			require.ErrorIs(t, err, ErrKeyWritable, "%s %04o", c.src, mode)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s: mode %04o is group- or world-writable", p, mode))
		}
	}
	// Through a link, as a Secret volume mounts it: the file's mode counts.
	b, err := os.ReadFile("testdata/test-signing-key.pem")
	require.NoError(t, err)
	real := filepath.Join(dir, "real.pem")
	require.NoError(t, os.WriteFile(real, b, 0o600))
	require.NoError(t, os.Chmod(real, 0o666))
	require.NoError(t, os.Symlink(real, filepath.Join(dir, "link.pem")))
	_, err = LoadSigner(filepath.Join(dir, "link.pem"))
	require.ErrorIs(t, err, ErrKeyWritable)

	pub, err := os.ReadFile("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	pp := filepath.Join(dir, "pub.pem")
	require.NoError(t, os.WriteFile(pp, pub, 0o600))
	require.NoError(t, os.Chmod(pp, 0o666))
	_, err = LoadVerifier(pp)
	assert.NoError(t, err, "a public key is not refused for its mode")
}
