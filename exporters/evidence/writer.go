package evidence

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
	"github.com/llm-platform/enforcement-auditor/auditor/fileoutput"
)

// DefaultKeep is how many documents a Writer keeps when WriterOptions.Keep is zero.
const DefaultKeep = 24

const (
	filePrefix = "evidence-"
	fileSuffix = ".json"
	// oscalPrefix names the OSCAL assessment results written beside an attestation.
	oscalPrefix = "assessment-results-"
)

// MaxFileSize bounds an evidence file read back (the documents the auditor writes are
// a few MiB at most).
const MaxFileSize = 64 << 20

// FS is the file system a Writer uses; tests inject failures through it.
type FS interface {
	fileoutput.FS
	ReadDir(dir string) ([]os.DirEntry, error)
}

// OSFS is the real file system.
type OSFS struct{ fileoutput.OS }

func (OSFS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }

// WriterOptions configure a Writer.
type WriterOptions struct {
	// Dir must exist; documents are named evidence-<generatedAt>-<digest>.json.
	Dir string
	// Keep is how many documents to keep, newest by name (DefaultKeep when zero).
	Keep int
	// FS is the file system (OSFS when nil).
	FS FS
}

// Writer stores documents in a directory, atomically: a reader sees a whole document
// or none, and a failed write leaves nothing behind. The caller decides when to write.
type Writer struct {
	dir  string
	keep int
	fs   FS

	mu          sync.Mutex // one write at a time: pruning must not race a rename
	unsigned    atomic.Bool
	errors      atomic.Uint64
	lastSuccess atomic.Int64 // unix nanoseconds
	lastErr     atomic.Pointer[error]
}

// NewWriter returns a writer for o.Dir.
func NewWriter(o WriterOptions) (*Writer, error) {
	if o.Dir == "" {
		return nil, errors.New("evidence: writer directory is required")
	}
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	return &Writer{dir: o.Dir, keep: o.Keep, fs: o.FS}, nil
}

// FileName is the name a document is stored under: sortable by generation time.
func FileName(doc *Document) string {
	d := strings.TrimPrefix(doc.Digest, digestPrefix)
	if len(d) > 12 {
		d = d[:12]
	}
	return filePrefix + doc.GeneratedAt.UTC().Format("20060102T150405.000Z") + "-" + d + fileSuffix
}

// attestationName is the name an attestation is stored under, sortable by generation time.
func attestationName(prefix string, a *Attestation) string {
	d := strings.TrimPrefix(a.Digest, digestPrefix)
	if len(d) > 12 {
		d = d[:12]
	}
	return prefix + a.Statement.Predicate.GeneratedAt.UTC().Format("20060102T150405.000Z") + "-" + d + fileSuffix
}

// WriteAttestation stores a sealed attestation (and, when oscal is not nil, the OSCAL
// assessment results rendered from it, as assessment-results-*.json), then prunes.
// It returns the attestation's path.
func (w *Writer) WriteAttestation(a *Attestation, oscal []byte) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a == nil || len(a.Envelope) == 0 {
		err := errors.New("evidence: refusing to write an attestation that is not sealed")
		w.fail(err)
		return "", err
	}
	path, err := w.writeBytes(attestationName(filePrefix, a), a.Envelope)
	if err == nil {
		w.unsigned.Store(!a.Signed)
	}
	if err == nil && oscal != nil {
		_, err = w.writeBytes(attestationName(oscalPrefix, a), oscal)
	}
	return w.done(path, err)
}

// Latest returns the digest of the newest attestation in the directory that verifies
// with v (nil: any well-formed one), or "" when there is none: the link a restarted
// writer continues the chain from.
func (w *Writer) Latest(ctx context.Context, v *Verifier) (string, error) {
	entries, err := w.fs.ReadDir(w.dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasPrefix(n, filePrefix) && strings.HasSuffix(n, fileSuffix) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for i := len(names) - 1; i >= 0; i-- {
		// Bounded, and regular files only: a FIFO or /dev/zero named evidence-*.json
		// must not hang or exhaust the daemon.
		data, err := fileinput.ReadFile(filepath.Join(w.dir, names[i]), MaxFileSize)
		if err != nil || !IsEnvelope(data) {
			continue
		}
		if a, err := VerifyEnvelope(ctx, data, v); err == nil {
			return a.Digest, nil
		}
	}
	return "", nil
}

// Write stores the document and prunes the oldest beyond Keep. It returns the path
// written. Every failure is counted in Errors.
func (w *Writer) Write(doc *Document) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	path, err := w.write(doc)
	return w.done(path, err)
}

func (w *Writer) done(path string, err error) (string, error) {
	if err != nil {
		w.fail(err)
		return "", err
	}
	w.lastSuccess.Store(time.Now().UnixNano())
	if err := w.prune(); err != nil {
		// The document is written; a file that could not be pruned is retried next time.
		w.fail(err)
	}
	return path, nil
}

func (w *Writer) write(doc *Document) (path string, err error) {
	if doc == nil || doc.Digest == "" {
		return "", errors.New("evidence: refusing to write a document without a digest")
	}
	data, err := Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	return w.writeBytes(FileName(doc), data)
}

func (w *Writer) writeBytes(name string, data []byte) (string, error) {
	path := filepath.Join(w.dir, name)
	if err := fileoutput.Write(w.fs, path, data); err != nil {
		if !errors.Is(err, fileoutput.ErrDirSync) {
			return "", fmt.Errorf("evidence: %w", err)
		}
		// The file is complete and in place; only its durability across a power cut is in doubt.
		w.fail(fmt.Errorf("evidence: %w", err))
	}
	return path, nil
}

// prune removes documents beyond Keep, oldest first, and temporary files a crash left.
func (w *Writer) prune() error {
	entries, err := w.fs.ReadDir(w.dir)
	if err != nil {
		return fmt.Errorf("evidence: listing %s: %w", w.dir, err)
	}
	docs := map[string][]string{}
	var errs []error
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir():
		case strings.HasPrefix(n, filePrefix) && strings.HasSuffix(n, fileSuffix):
			docs[filePrefix] = append(docs[filePrefix], n)
		case strings.HasPrefix(n, oscalPrefix) && strings.HasSuffix(n, fileSuffix):
			docs[oscalPrefix] = append(docs[oscalPrefix], n)
		case (strings.HasPrefix(n, "."+filePrefix) || strings.HasPrefix(n, "."+oscalPrefix)) && strings.HasSuffix(n, fileoutput.TempSuffix):
			// Only this writer creates these, under w.mu: any present now is a leftover.
			if err := w.fs.Remove(filepath.Join(w.dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	for _, names := range docs {
		sort.Strings(names)
		for len(names) > w.keep {
			if err := w.fs.Remove(filepath.Join(w.dir, names[0])); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			names = names[1:]
		}
	}
	return errors.Join(errs...)
}

func (w *Writer) fail(err error) {
	w.errors.Add(1)
	w.lastErr.Store(&err)
}

// Errors counts failed writes (and failed prunes of old documents).
func (w *Writer) Errors() uint64 { return w.errors.Load() }

// LastSuccess is when a document was last written; zero before the first.
func (w *Writer) LastSuccess() time.Time {
	n := w.lastSuccess.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// LastError returns the latest failure, or nil.
func (w *Writer) LastError() error {
	if p := w.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Unsigned is whether the last attestation written carries no signature.
func (w *Writer) Unsigned() bool { return w.unsigned.Load() }

// AttestationFileName is the name Writer stores an attestation under.
func AttestationFileName(a *Attestation) string { return attestationName(filePrefix, a) }
