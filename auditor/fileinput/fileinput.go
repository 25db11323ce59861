// Package fileinput opens the files the auditor reads whole (its config, keys, evidence
// to verify, manifests) so that hostile paths cannot hang it or exhaust its memory: only
// regular files are opened (a FIFO would block, /dev/zero never ends) and reads stop at
// a size limit.
package fileinput

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Open opens path for reading when it is a regular file (symlinks followed).
func Open(path string) (*os.File, error) {
	// Stat before open: opening a FIFO for reading blocks until a writer comes.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := Regular(st.Mode()); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err == nil {
		err = Regular(st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Regular is nil for a regular file and says what the file is otherwise.
func Regular(m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	what := "mode " + m.Type().String()
	switch {
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		what = "a device"
	case m.IsDir():
		what = "a directory"
	}
	return fmt.Errorf("not a regular file (%s)", what)
}

// ErrTooLarge is wrapped by ReadFile's error for a file over the limit.
var ErrTooLarge = errors.New("file too large")

// ReadFile reads a regular file of at most max bytes.
func ReadFile(path string, max int64) ([]byte, error) {
	b, _, err := ReadFileStat(path, max)
	return b, err
}

// ReadFileStat is ReadFile also returning what the file opened is (its mode, read from
// the open file: the bytes and the mode are of one file).
func ReadFileStat(path string, max int64) ([]byte, fs.FileInfo, error) {
	f, err := Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(b)) > max {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, max)
	}
	return b, st, nil
}
