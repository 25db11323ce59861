package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// plainHandler writes log records for a person at a terminal, one line each:
// "warning: skipped 2 files holding no Kubernetes object: ci.yaml, values.yaml", the
// attributes after the message as key=value. The daemon logs structured records
// (--log-format json or text) instead.
type plainHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	color bool
	attrs []slog.Attr
}

func newPlainHandler(w io.Writer, level slog.Leveler, color bool) *plainHandler {
	return &plainHandler{mu: &sync.Mutex{}, w: w, level: level, color: color}
}

func (h *plainHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *plainHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	prefix, code := "", ""
	switch {
	case r.Level >= slog.LevelError:
		prefix, code = "error", "\x1b[1;31m"
	case r.Level >= slog.LevelWarn:
		prefix, code = "warning", "\x1b[33m"
	case r.Level < slog.LevelInfo:
		prefix, code = "debug", "\x1b[2m"
	}
	if prefix != "" {
		if h.color {
			b.WriteString(code + prefix + ansiReset)
		} else {
			b.WriteString(prefix)
		}
		b.WriteString(": ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, quoteIfSpaced(a.Value.Resolve().String()))
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func quoteIfSpaced(s string) string {
	if strings.ContainsAny(s, " \t\n\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func (h *plainHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup keeps the attributes flat: a person reads the message, not a hierarchy.
func (h *plainHandler) WithGroup(string) slog.Handler { return h }

const ansiReset = "\x1b[0m"

// colorFor decides whether output to w is coloured: never with --no-color or when the
// NO_COLOR environment variable is set and not empty (no-color.org), otherwise when w
// is a terminal.
func colorFor(w io.Writer, noColor bool) bool {
	if noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
