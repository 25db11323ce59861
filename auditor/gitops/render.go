package gitops

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
)

// Document is one rendered object, and where it comes from.
type Document struct {
	// File is the file the object comes from: the resource file kustomize read it from
	// (its origin annotation), or the chart template that rendered it.
	File string
	// Line is where the object starts in File, when it can be told (a kustomize
	// resource found in its file; the n-th `kind:` line of a template); 0 otherwise.
	Line int
	// Data is the object as YAML.
	Data []byte
}

// RenderOptions direct rendering.
type RenderOptions struct {
	// ValueFiles, Set and SetString are Helm's --values, --set and --set-string, applied
	// to every chart in that order over the chart's own values.yaml.
	ValueFiles []string
	Set        []string
	SetString  []string
	// ReleaseName and Namespace are the release's (`helm template`'s defaults:
	// "release-name", "default").
	ReleaseName string
	Namespace   string
	// MaxBytes bounds what one root may read and render (0: 64 MiB).
	MaxBytes int64
}

const defaultMaxRender = 64 << 20

// Render builds a kustomization or renders a chart.
func Render(root Root, opts RenderOptions) ([]Document, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = defaultMaxRender
	}
	switch root.Kind {
	case Kustomize:
		return buildKustomization(root.Dir, opts)
	case Helm:
		return renderChart(root.Dir, opts)
	}
	return nil, fmt.Errorf("%s: nothing to render", root)
}

// originKey is the annotation kustomize records a resource's origin in.
const originKey = "config.kubernetes.io/origin"

// buildKustomization is `kustomize build dir`, with origins recorded so each object
// names the file it came from.
func buildKustomization(dir string, opts RenderOptions) ([]Document, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	budget := opts.MaxBytes
	fsys := &guardedFS{FileSystem: filesys.MakeFsOnDisk(), root: abs, left: &budget}
	// Build as `kustomize build` does (kubectl's defaults: load restricted to the root,
	// no plugins, no helm inflation), never fetching: remote bases were refused when the
	// root was planned.
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, abs)
	if err != nil {
		return nil, fmt.Errorf("%s: kustomize build: %w", dir, err)
	}
	var out []Document
	sources := sourceDocs{}
	for _, r := range m.Resources() {
		doc := Document{File: filepath.Join(dir, "kustomization.yaml")}
		if kf := kustomizationFile(dir); kf != "" {
			doc.File = kf
		}
		if o, err := r.GetOrigin(); err == nil && o != nil && o.Path != "" && o.Repo == "" {
			doc.File = filepath.Join(dir, o.Path)
			doc.Line = sources.line(doc.File, r)
		}
		if err := stripOrigin(r); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, r.CurId(), err)
		}
		doc.Data = y
		out = append(out, doc)
	}
	return out, nil
}

func stripOrigin(r *resource.Resource) error {
	a := r.GetAnnotations()
	if _, ok := a[originKey]; !ok {
		return nil
	}
	delete(a, originKey)
	return r.SetAnnotations(a)
}

// sourceDoc is one document of a resource file: what identifies it, where it starts,
// and whether a built resource was already placed there.
type sourceDoc struct {
	kind, name string
	line       int
	used       bool
}

// sourceDocs indexes the resource files of one build, each read and split once however
// many resources come from it.
type sourceDocs map[string][]sourceDoc

// line finds where a built resource starts in the file it came from: the first
// document of its kind not matched yet whose name is the resource's or is contained in
// it (a namePrefix or nameSuffix changes it); 0 when none is.
func (s sourceDocs) line(file string, r *resource.Resource) int {
	docs, ok := s[file]
	if !ok {
		docs = readSourceDocs(file)
		s[file] = docs
	}
	for i := range docs {
		d := &docs[i]
		if !d.used && d.kind == r.GetKind() && d.name != "" && strings.Contains(r.GetName(), d.name) {
			d.used = true
			return d.line
		}
	}
	return 0
}

// readSourceDocs splits a resource file into its documents' identities and first lines.
func readSourceDocs(file string) []sourceDoc {
	b, err := fileinput.ReadFile(file, defaultMaxFile*32)
	if err != nil {
		return nil
	}
	var out []sourceDoc
	line := 1
	for _, d := range splitYAML(b) {
		start := line
		line += bytes.Count(d, []byte("\n")) + 1
		var h struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if yaml.Unmarshal(d, &h) == nil {
			out = append(out, sourceDoc{kind: h.Kind, name: h.Metadata.Name, line: start + leadingSkip(d)})
		}
	}
	return out
}

// leadingSkip counts the blank and comment lines before a document's first content line.
func leadingSkip(d []byte) int {
	n := 0
	for _, l := range strings.Split(string(d), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			break
		}
		n++
	}
	return n
}

// splitYAML splits a YAML stream at its "---" lines (each part without its separator
// line; the separator counts as one line between parts).
func splitYAML(b []byte) [][]byte {
	var out [][]byte
	lines := bytes.SplitAfter(b, []byte("\n"))
	var cur []byte
	for _, l := range lines {
		t := bytes.TrimRight(l, "\r\n")
		if bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			out = append(out, bytes.TrimSuffix(cur, []byte("\n")))
			cur = nil
			continue
		}
		cur = append(cur, l...)
	}
	return append(out, bytes.TrimSuffix(cur, []byte("\n")))
}

// guardedFS is the disk as kustomize reads it, but only regular files within a byte
// budget (a FIFO or /dev/zero named as a resource cannot hang or exhaust the scan), and
// with origin annotations switched on in the root kustomization (as
// `buildMetadata: [originAnnotations]` would), so each object names its file.
type guardedFS struct {
	filesys.FileSystem
	root string
	left *int64
}

func (g *guardedFS) ReadFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := fileinput.Regular(st.Mode()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := fileinput.ReadFile(path, *g.left)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (the budget for one root is %d bytes)", path, err, *g.left)
	}
	*g.left -= int64(len(b))
	if filepath.Dir(path) == g.root && slices.Contains([]string{"kustomization.yaml", "kustomization.yml", "Kustomization"}, filepath.Base(path)) {
		return withOrigins(b)
	}
	return b, nil
}

// withOrigins adds originAnnotations to a kustomization's buildMetadata.
func withOrigins(b []byte) ([]byte, error) {
	n, err := kyaml.Parse(string(b))
	if err != nil {
		return b, nil // kustomize reports the error itself
	}
	meta, err := n.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "buildMetadata"))
	if err != nil || meta == nil {
		return b, nil
	}
	var vals []string
	for _, c := range meta.YNode().Content {
		vals = append(vals, c.Value)
	}
	if !slices.Contains(vals, "originAnnotations") {
		if err := meta.PipeE(kyaml.Append(kyaml.NewScalarRNode("originAnnotations").YNode())); err != nil {
			return b, nil
		}
	}
	s, err := n.String()
	if err != nil {
		return b, nil
	}
	return []byte(s), nil
}

// renderChart is `helm template` of a chart directory: the chart's values, then the
// value files and --set values, rendered by Helm's engine with the default capabilities,
// without a cluster. NOTES.txt and partials are not objects; test hooks are kept, as
// `helm template` keeps them.
func renderChart(dir string, opts RenderOptions) ([]Document, error) {
	if err := checkChartFiles(dir, opts.MaxBytes); err != nil {
		return nil, err
	}
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: helm: %w", dir, err)
	}
	vals := map[string]any{}
	for _, f := range opts.ValueFiles {
		b, err := fileinput.ReadFile(f, defaultMaxFile*32)
		if err != nil {
			return nil, fmt.Errorf("--values %s: %w", f, err)
		}
		m, err := loader.LoadValues(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("--values %s: %w", f, err)
		}
		vals = loader.MergeMaps(vals, m)
	}
	for _, s := range opts.Set {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("--set %s: %w", s, err)
		}
	}
	for _, s := range opts.SetString {
		if err := strvals.ParseIntoString(s, vals); err != nil {
			return nil, fmt.Errorf("--set-string %s: %w", s, err)
		}
	}
	rel := chartcommon.ReleaseOptions{Name: cmp(opts.ReleaseName, "release-name"), Namespace: cmp(opts.Namespace, "default"), Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValues(ch, vals, rel, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: helm: %w", dir, err)
	}
	files, err := engine.Render(ch, top)
	if err != nil {
		return nil, fmt.Errorf("%s: helm template: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, "NOTES.txt") || strings.HasPrefix(filepath.Base(n), "_") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Document
	for _, n := range names {
		// n is "<chart name>/templates/x.yaml", or ".../charts/<sub>/templates/x.yaml":
		// the file is in the chart's directory (whatever it is called on disk).
		file := filepath.Join(dir, strings.TrimPrefix(filepath.FromSlash(n), ch.Name()+string(filepath.Separator)))
		src, _ := fileinput.ReadFile(file, defaultMaxFile*32)
		starts := documentStarts(src)
		var rendered [][]byte
		for _, d := range splitYAML([]byte(files[n])) {
			if !blankYAML(d) {
				rendered = append(rendered, d)
			}
		}
		for i, d := range rendered {
			// The n-th object rendered is taken to come from the template's n-th
			// document when the counts agree (no range or if emitting documents);
			// otherwise the template's first line is the best place to show.
			line := 1
			if len(starts) == len(rendered) {
				line = starts[i]
			}
			out = append(out, Document{File: file, Line: line, Data: d})
		}
	}
	return out, nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// documentStarts are the first content lines of a YAML stream's non-blank documents.
func documentStarts(src []byte) []int {
	var out []int
	line := 1
	for _, d := range splitYAML(src) {
		if !blankYAML(d) {
			out = append(out, line+leadingSkip(d))
		}
		line += bytes.Count(d, []byte("\n")) + 2 // the document and its separator line
	}
	return out
}

// blankYAML reports whether a document holds only blank lines and comments.
func blankYAML(d []byte) bool {
	for _, l := range strings.Split(string(d), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// checkChartFiles refuses a chart holding non-regular files or more bytes than the
// budget before Helm's loader reads it whole.
func checkChartFiles(dir string, max int64) error {
	var total int64
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if err := fileinput.Regular(st.Mode()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if total += st.Size(); total > max {
			return fmt.Errorf("%s: the chart exceeds the budget of %d bytes for one root", dir, max)
		}
		return nil
	})
}
