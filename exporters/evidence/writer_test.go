package evidence

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor/fileoutput"
)

func docAt(t *testing.T, at time.Time) *Document {
	t.Helper()
	in := fixture()
	in.GeneratedAt = at
	return mustBuild(t, in)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestWriterKeepsNewestAndWritesVerifiableFiles(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, Keep: 3})
	require.NoError(t, err)
	// A temporary file a crash left behind is cleaned up by the next write.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".evidence-123.tmp"), []byte("{partial"), 0o600))
	// Files the writer does not own are left alone.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o600))

	var paths []string
	for i := 0; i < 5; i++ {
		p, err := w.Write(docAt(t, genAt.Add(time.Duration(i)*time.Hour)))
		require.NoError(t, err)
		paths = append(paths, p)
	}
	want := []string{"README"}
	for _, p := range paths[2:] {
		want = append(want, filepath.Base(p))
	}
	sort.Strings(want)
	assert.Equal(t, want, listDir(t, dir))
	assert.Regexp(t, `^evidence-20260301T160500\.000Z-[0-9a-f]{12}\.json$`, filepath.Base(paths[4]))

	data, err := os.ReadFile(paths[4])
	require.NoError(t, err)
	require.NoError(t, Verify(data, nil))
	st, err := os.Stat(paths[4])
	require.NoError(t, err)
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	assert.Equal(t, os.FileMode(0o666&^umask), st.Mode().Perm(), "the umask decides, as for any new file")
	assert.Zero(t, w.Errors())
	assert.WithinDuration(t, time.Now(), w.LastSuccess(), time.Minute)
}

// faultFS is the real file system with one injected failure.
type faultFS struct {
	OSFS
	failWriteAfter int // bytes accepted before a write fails with ENOSPC; <0: never
	failSync       bool
	failRename     bool
	failCreate     bool
}

type faultFile struct {
	*os.File
	fs      *faultFS
	written int
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.failWriteAfter >= 0 && f.written+len(p) > f.fs.failWriteAfter {
		n := f.fs.failWriteAfter - f.written
		if n > 0 {
			n, _ = f.File.Write(p[:n]) // a partial write really lands on disk
		}
		f.written += n
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	n, err := f.File.Write(p)
	f.written += n
	return n, err
}

func (f *faultFile) Sync() error {
	if f.fs.failSync {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Sync()
}

func (fs *faultFS) CreateExcl(name string, perm os.FileMode) (fileoutput.File, error) {
	if fs.failCreate {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
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

func TestWriterFailuresLeaveNoPartialFile(t *testing.T) {
	cases := map[string]struct {
		fs      *faultFS
		wantErr error
	}{
		"disk full mid-write":    {fs: &faultFS{failWriteAfter: 100}, wantErr: syscall.ENOSPC},
		"disk full at once":      {fs: &faultFS{failWriteAfter: 0}, wantErr: syscall.ENOSPC},
		"sync fails":             {fs: &faultFS{failWriteAfter: -1, failSync: true}, wantErr: syscall.EIO},
		"rename fails":           {fs: &faultFS{failWriteAfter: -1, failRename: true}, wantErr: syscall.EXDEV},
		"directory not writable": {fs: &faultFS{failWriteAfter: -1, failCreate: true}, wantErr: syscall.EACCES},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			good, err := NewWriter(WriterOptions{Dir: dir})
			require.NoError(t, err)
			first, err := good.Write(docAt(t, genAt))
			require.NoError(t, err)
			before := listDir(t, dir)

			w, err := NewWriter(WriterOptions{Dir: dir, FS: tc.fs})
			require.NoError(t, err)
			path, err := w.Write(docAt(t, genAt.Add(time.Hour)))
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Empty(t, path)
			assert.Equal(t, before, listDir(t, dir), "no temporary or partial file left, the older document intact")
			assert.Equal(t, uint64(1), w.Errors())
			assert.True(t, w.LastSuccess().IsZero())
			assert.ErrorIs(t, w.LastError(), tc.wantErr)
			data, err := os.ReadFile(first)
			require.NoError(t, err)
			assert.NoError(t, Verify(data, nil))
		})
	}
}

func TestWriterRealDirectoryErrors(t *testing.T) {
	parent := t.TempDir()
	notADir := filepath.Join(parent, "file")
	require.NoError(t, os.WriteFile(notADir, []byte("x"), 0o600))
	cases := map[string]string{
		"a regular file": notADir,
		"missing":        filepath.Join(parent, "missing"),
	}
	if os.Geteuid() != 0 { // root writes through permissions
		ro := filepath.Join(parent, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		cases["read-only"] = ro
	}
	for name, dir := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := NewWriter(WriterOptions{Dir: dir})
			require.NoError(t, err)
			_, err = w.Write(docAt(t, genAt))
			require.Error(t, err)
			assert.Equal(t, uint64(1), w.Errors())
			entries, _ := os.ReadDir(parent)
			for _, e := range entries {
				assert.NotRegexp(t, `^\.evidence-`, e.Name())
			}
		})
	}
	w, err := NewWriter(WriterOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	_, err = w.Write(&Document{})
	assert.Error(t, err, "an unsealed document is refused")
	_, err = NewWriter(WriterOptions{})
	assert.Error(t, err)
	assert.Error(t, w.LastError())
}

// Attestations and their OSCAL results are kept Keep each, and a restarted writer
// continues the chain from the newest attestation signed by its key.
func TestWriterAttestationsAndChain(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, Keep: 2})
	require.NoError(t, err)
	v, err := LoadVerifier("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	ctx := context.Background()

	prev, err := w.Latest(ctx, v)
	require.NoError(t, err)
	assert.Empty(t, prev, "an empty directory starts a chain")
	var digests []string
	for i := range 3 {
		in := smallInput()
		in.GeneratedAt = genAt.Add(time.Duration(i) * time.Hour)
		a := sealed(t, "testdata/test-signing-key.pem", in, prev)
		oscal, err := AssessmentResults(a, AttestationFileName(a))
		require.NoError(t, err)
		_, err = w.WriteAttestation(a, oscal)
		require.NoError(t, err)
		prev = a.Digest
		digests = append(digests, a.Digest)
	}
	names := listDir(t, dir)
	require.Len(t, names, 4)
	assert.Regexp(t, `^assessment-results-20260301T130500\.000Z-[0-9a-f]{12}\.json$`, names[0])
	assert.Regexp(t, `^evidence-20260301T130500\.000Z-[0-9a-f]{12}\.json$`, names[2])

	got, err := w.Latest(ctx, v)
	require.NoError(t, err)
	assert.Equal(t, digests[2], got)
	other, err := LoadVerifier("testdata/other-key.pub.pem")
	require.NoError(t, err)
	got, err = w.Latest(ctx, other)
	require.NoError(t, err)
	assert.Empty(t, got, "documents signed by another key do not continue this chain")

	_, err = w.WriteAttestation(&Attestation{}, nil)
	assert.Error(t, err)
}

// Latest reads the directory with the bounded reader: a FIFO, a link to /dev/zero and
// a file over the bound named like evidence are skipped, not read forever.
func TestLatestSkipsWhatItMustNotRead(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir})
	require.NoError(t, err)
	a := sealed(t, "testdata/test-signing-key.pem", smallInput(), "")
	_, err = w.WriteAttestation(a, nil)
	require.NoError(t, err)
	// Newer by name than the real one, so Latest tries them first.
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "evidence-99990101T000000.000Z-fifo.json"), 0o600))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "evidence-99990102T000000.000Z-zero.json")))
	big, err := os.Create(filepath.Join(dir, "evidence-99990103T000000.000Z-big.json"))
	require.NoError(t, err)
	require.NoError(t, big.Truncate(MaxFileSize+1))
	require.NoError(t, big.Close())

	v, err := LoadVerifier("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	done := make(chan string, 1)
	go func() {
		got, err := w.Latest(context.Background(), v)
		assert.NoError(t, err)
		done <- got
	}()
	select {
	case got := <-done:
		assert.Equal(t, a.Digest, got)
	case <-time.After(20 * time.Second):
		t.Fatal("Latest hangs on a FIFO or reads /dev/zero without bound")
	}
}
