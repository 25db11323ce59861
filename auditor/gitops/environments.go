package gitops

import (
	"fmt"
	"io"

	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// Environment is one platform a scan judges on its own.
type Environment struct {
	// Name is the overlay's directory; empty when the inputs are one platform.
	Name  string
	Roots []Root
}

// PlainEnvironment names the environment of the plain manifests when the inputs hold
// kustomizations or charts too.
const PlainEnvironment = "manifests"

// Environments splits a plan into the platforms it describes: each root is judged on its
// own, as Argo CD or Flux would deploy it (an overlay per environment, a chart per
// release), and the plain manifests outside every root together. With one root, or with
// one set (the roots are parts of one cluster), the inputs are one platform, named "".
func Environments(p Plan, one bool) []Environment {
	if one || len(p.Roots) <= 1 {
		return []Environment{{Roots: p.Roots}}
	}
	out := make([]Environment, 0, len(p.Roots))
	for _, r := range p.Roots {
		name := r.Dir
		if r.Kind == Manifests {
			name = PlainEnvironment
		}
		out = append(out, Environment{Name: name, Roots: []Root{r}})
	}
	return out
}

// Loader reads the inputs of environments, rendering each root and reading the plain
// manifests once, however many environments share them.
type Loader struct {
	Render   RenderOptions
	Manifest manifests.Options
	Stdin    io.Reader

	rendered map[string][]manifests.Source
	plain    []manifests.Source
	read     bool
	used     int64
}

// Sources returns the inputs of one environment in read order (its roots as planned),
// within the byte budget of Manifest.MaxBytes over everything read and rendered.
func (l *Loader) Sources(e Environment) ([]manifests.Source, error) {
	if l.rendered == nil {
		l.rendered = map[string][]manifests.Source{}
	}
	max := l.Manifest.MaxBytes
	if max == 0 {
		max = manifests.DefaultMaxBytes
	}
	var out []manifests.Source
	for _, r := range e.Roots {
		switch r.Kind {
		case Manifests:
			if !l.read {
				l.read = true
				paths := make([]string, 0, len(r.Inputs))
				for _, in := range r.Inputs {
					paths = append(paths, in.Path)
				}
				opts := l.Manifest
				opts.MaxBytes = max - l.used
				srcs, err := manifests.Load(paths, l.Stdin, opts)
				for _, s := range srcs {
					l.used += int64(len(s.Data))
				}
				if err != nil {
					return nil, err
				}
				l.plain = srcs
			}
			out = append(out, l.plain...)
		default:
			srcs, ok := l.rendered[r.Dir]
			if !ok {
				ro := l.Render
				ro.MaxBytes = max - l.used
				docs, err := Render(r, ro)
				if err != nil {
					return nil, err
				}
				for _, d := range docs {
					if l.used += int64(len(d.Data)); l.used > max {
						return nil, fmt.Errorf("%s: %w", r, &manifests.BudgetError{What: "bytes", Limit: max})
					}
					srcs = append(srcs, manifests.Source{Name: d.File, Data: d.Data, Rendered: true, Line: d.Line})
				}
				l.rendered[r.Dir] = srcs
			}
			out = append(out, srcs...)
		}
	}
	return out, nil
}

// Walked returns, for Options.SkipNotObjects, whether a plain input was found walking a
// directory (its documents that are not objects are skipped) rather than named.
func (p Plan) Walked() func(file string) bool {
	walked := map[string]bool{}
	for _, r := range p.Roots {
		for _, in := range r.Inputs {
			if in.Walked {
				walked[in.Path] = true
			}
		}
	}
	return func(file string) bool { return walked[file] }
}
