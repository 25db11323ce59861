// Package fileoutput writes the files the auditor produces (reports, evidence,
// attestations, verified statements) atomically: a reader sees the old file or the new
// one, never half of one; two writers of one path never share a temporary file; a
// failed write leaves nothing behind. A new file gets the mode the umask leaves of
// 0666, as a shell redirection would; a replaced file keeps its mode, so an operator's
// 0600 stays 0600.
package fileoutput

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is the part of *os.File a write uses.
type File interface {
	io.Writer
	Name() string
	Chmod(fs.FileMode) error
	Sync() error
	Close() error
}

// FS is the file system a write uses; tests inject failures through it.
type FS interface {
	// CreateExcl creates name, which must not exist, for writing with perm before
	// the umask.
	CreateExcl(name string, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	// SyncDir makes a rename in dir durable.
	SyncDir(dir string) error
}

// OS is the real file system.
type OS struct{}

func (OS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}
func (OS) Rename(o, n string) error { return os.Rename(o, n) }
func (OS) Remove(name string) error { return os.Remove(name) }
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// TempSuffix ends the name of every temporary file: "." + base + "." + random + TempSuffix.
const TempSuffix = ".tmp"

// ErrDirSync is wrapped by the error of a write whose file is complete and in place
// but whose directory could not be synced (durability across a power cut in doubt).
var ErrDirSync = errors.New("syncing the directory")

// WriteFile writes data to path atomically on the real file system. A directory that
// cannot be synced (some file systems refuse) is not an error: the file is in place.
func WriteFile(path string, data []byte) error {
	if err := Write(OS{}, path, data); err != nil && !errors.Is(err, ErrDirSync) {
		return err
	}
	return nil
}

// Write writes data to path through fsys: to a temporary file of its own beside path,
// synced, then renamed over path. A symbolic link to a regular file is followed (the
// file it names is replaced, the link kept). An existing device or FIFO (/dev/stdout)
// is written directly, as it cannot be replaced. Errors name path as given, never the
// temporary file.
func Write(fsys FS, path string, data []byte) error {
	target, perm, direct, err := resolve(path)
	if err != nil {
		return err
	}
	if direct {
		return writeDirect(path, target, data)
	}
	dir := filepath.Dir(target)
	f, err := createTemp(fsys, target, perm)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: directory %s does not exist", path, dir)
		}
		return fmt.Errorf("%s: cannot create a file in %s: %w", path, dir, cause(err))
	}
	tmp := f.Name()
	fail := func(what string, err error) error {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("%s: %s: %w", path, what, cause(err))
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fail("writing", err)
	}
	if perm != nil {
		// An existing file keeps its mode whatever the umask.
		if err := f.Chmod(*perm); err != nil {
			f.Close()
			return fail("keeping the file's mode", err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fail("syncing", err)
	}
	if err := f.Close(); err != nil {
		return fail("closing", err)
	}
	if err := fsys.Rename(tmp, target); err != nil {
		return fail("replacing the file", err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("%s: %w %s: %w", path, ErrDirSync, dir, cause(err))
	}
	return nil
}

// writeDirect writes data to a device or FIFO that cannot be replaced (nothing: only
// opens it, as Check does); errors name path as given.
func writeDirect(path, target string, data []byte) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, cause(err))
	}
	var werr error
	if len(data) > 0 {
		_, werr = f.Write(data)
	}
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("%s: %w", path, cause(err))
	}
	return nil
}

// Check tells whether Write could write path, with Write's errors, writing nothing: a
// caller with several files checks them all before writing any. A temporary file is
// created beside path and removed (a device or FIFO is only opened).
func Check(path string) error {
	target, perm, direct, err := resolve(path)
	if err != nil {
		return err
	}
	if direct {
		return writeDirect(path, target, nil)
	}
	dir := filepath.Dir(target)
	f, err := createTemp(OS{}, target, perm)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: directory %s does not exist", path, dir)
		}
		return fmt.Errorf("%s: cannot create a file in %s: %w", path, dir, cause(err))
	}
	if err := errors.Join(f.Close(), os.Remove(f.Name())); err != nil {
		return fmt.Errorf("%s: %w", path, cause(err))
	}
	return nil
}

// resolve returns the file to replace and the mode to keep (nil: a new file), or
// direct when path is a device or FIFO to write in place.
func resolve(path string) (target string, perm *fs.FileMode, direct bool, err error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("%s: %w", path, cause(err))
	}
	target = path
	if st.Mode()&fs.ModeSymlink != 0 {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			if rst, err := os.Lstat(real); err == nil && rst.Mode().IsRegular() {
				m := rst.Mode().Perm()
				return real, &m, false, nil
			}
		}
		// A dangling link, or one to something else (/dev/stdout to a pipe): judge what
		// the system resolves it to.
		if st, err = os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return "", nil, false, fmt.Errorf("%s: a symbolic link to a file that does not exist", path)
		} else if err != nil {
			return "", nil, false, fmt.Errorf("%s: %w", path, cause(err))
		}
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		p := m.Perm()
		return target, &p, false, nil
	case m.IsDir():
		return "", nil, false, fmt.Errorf("%s: is a directory", path)
	case m&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
		return target, nil, true, nil
	default:
		return "", nil, false, fmt.Errorf("%s: not a regular file (mode %s)", path, m.Type())
	}
}

// createTemp creates a new temporary file beside target: 0666 before the umask for a
// new file, the kept mode (set again after the umask) for a replaced one.
func createTemp(fsys FS, target string, perm *fs.FileMode) (File, error) {
	mode := fs.FileMode(0o666)
	if perm != nil {
		mode = *perm
	}
	dir, base := filepath.Split(target)
	for range 100 {
		var r [6]byte
		if _, err := rand.Read(r[:]); err != nil {
			return nil, err
		}
		f, err := fsys.CreateExcl(filepath.Join(dir, "."+base+"."+hex.EncodeToString(r[:])+TempSuffix), mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no unused temporary file name")
}

// cause strips the path of a *fs.PathError or *os.LinkError (the temporary file's,
// which means nothing to the user); the errno stays matchable with errors.Is.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}
