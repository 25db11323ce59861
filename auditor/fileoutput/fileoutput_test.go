package fileoutput

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withUmask runs f with the process umask set to m (tests of this package do not run
// in parallel).
func withUmask(t *testing.T, m int, f func()) {
	t.Helper()
	old := syscall.Umask(m)
	defer syscall.Umask(old)
	f()
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.Mode().Perm()
}

func TestModes(t *testing.T) {
	for _, c := range []struct {
		name     string
		umask    int
		existing fs.FileMode // 0: no file before
		want     fs.FileMode
	}{
		{"new file, umask 022", 0o022, 0, 0o644},
		{"new file, umask 077", 0o077, 0, 0o600},
		{"new file, umask 027", 0o027, 0, 0o640},
		{"existing 0600 stays 0600", 0o022, 0o600, 0o600},
		{"existing 0640 stays 0640 under umask 077", 0o077, 0o640, 0o640},
		{"existing 0664 stays 0664 under umask 022", 0o022, 0o664, 0o664},
		{"existing read-only 0400 stays 0400", 0o022, 0o400, 0o400},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			if c.existing != 0 {
				require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
				require.NoError(t, os.Chmod(path, c.existing))
			}
			withUmask(t, c.umask, func() { require.NoError(t, WriteFile(path, []byte("new"))) })
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "new", string(b))
			assert.Equal(t, c.want, perm(t, path))
			assert.Equal(t, []string{"out.json"}, names(t, dir), "no temporary file left")
		})
	}
}

func TestSymlinkToAFileIsFollowed(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	require.NoError(t, os.WriteFile(real, []byte("old"), 0o600))
	require.NoError(t, os.Symlink("real.json", link))
	require.NoError(t, WriteFile(link, []byte("new")))
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, st.Mode()&fs.ModeSymlink, "the link is kept")
	b, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
	assert.Equal(t, fs.FileMode(0o600), perm(t, real))
}

func TestDevicesAndFIFOsAreWrittenInPlace(t *testing.T) {
	require.NoError(t, WriteFile(os.DevNull, []byte("x")))
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	got := make(chan string)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	require.NoError(t, WriteFile(fifo, []byte("through the pipe")))
	assert.Equal(t, "through the pipe", <-got)
}

func TestErrorsNameThePathGiven(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	cases := map[string]string{
		filepath.Join(dir, "missing", "x.json"): filepath.Join(dir, "missing", "x.json") + ": directory " + filepath.Join(dir, "missing") + " does not exist",
		filepath.Join(dir, "sub"):               filepath.Join(dir, "sub") + ": is a directory",
		filepath.Join(dir, "dangling"):          filepath.Join(dir, "dangling") + ": a symbolic link to a file that does not exist",
	}
	for path, want := range cases {
		err := WriteFile(path, []byte("x"))
		require.Error(t, err, path)
		assert.Equal(t, want, err.Error())
		assert.NotContains(t, err.Error(), TempSuffix)
	}
	if os.Geteuid() != 0 { // root writes through permissions
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		err := WriteFile(filepath.Join(ro, "x.json"), []byte("x"))
		require.ErrorIs(t, err, syscall.EACCES)
		assert.Equal(t, filepath.Join(ro, "x.json")+": cannot create a file in "+ro+": permission denied", err.Error())
	}
}

// faultFS is the real file system with one injected failure.
type faultFS struct {
	OS
	failWrite, failSync, failRename, failDirSync bool
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.failWrite {
		n, _ := f.File.Write(p[:len(p)/2]) // a partial write really lands on disk
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if f.fs.failSync {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Sync()
}

func (fs *faultFS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: fs}, nil
}

func (fs *faultFS) Rename(o, n string) error {
	if fs.failRename {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EXDEV}
	}
	return os.Rename(o, n)
}

func (fs *faultFS) SyncDir(dir string) error {
	if fs.failDirSync {
		return &os.PathError{Op: "sync", Path: dir, Err: syscall.EINVAL}
	}
	return fs.OS.SyncDir(dir)
}

func TestFailuresLeaveTheOldFile(t *testing.T) {
	for name, c := range map[string]struct {
		fs   *faultFS
		want error
		msg  string
	}{
		"disk full":    {&faultFS{failWrite: true}, syscall.ENOSPC, "writing: no space left on device"},
		"sync fails":   {&faultFS{failSync: true}, syscall.EIO, "syncing: input/output error"},
		"rename fails": {&faultFS{failRename: true}, syscall.EXDEV, "replacing the file: invalid cross-device link"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
			err := Write(c.fs, path, []byte("new content"))
			require.ErrorIs(t, err, c.want)
			assert.Equal(t, path+": "+c.msg, err.Error())
			assert.Equal(t, []string{"out.json"}, names(t, dir), "no temporary file left")
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "old", string(b))
		})
	}
	t.Run("directory sync fails", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.json")
		err := Write(&faultFS{failDirSync: true}, path, []byte("new"))
		require.ErrorIs(t, err, ErrDirSync)
		b, rerr := os.ReadFile(path)
		require.NoError(t, rerr)
		assert.Equal(t, "new", string(b), "the file is in place")
	})
}
