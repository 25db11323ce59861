// Package manifests is the offline source: it reads Kubernetes manifests from files,
// directories and stdin into a Snapshot, so the same rules run in GitOps CI as in the
// cluster.
package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// InputError names the file and document that could not be read as Kubernetes objects.
type InputError struct {
	File string
	// Doc is the 1-based document index within the file (0: the file as a whole).
	Doc int
	// Line is the 1-based line where the document starts (0 when unknown).
	Line int
	Err  error
}

func (e *InputError) Error() string {
	switch {
	case e.Doc == 0:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d): %v", e.File, e.Doc, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: document %d: %v", e.File, e.Doc, e.Err)
	}
}

func (e *InputError) Unwrap() error { return e.Err }

// Object is one decoded manifest with where it came from.
type Object struct {
	*unstructured.Unstructured
	File string
	Doc  int
}

// Source is one input read whole, once: the bytes decoded are the bytes evidence hashes,
// so a file changed during a scan cannot be fingerprinted with content that was not read.
type Source struct {
	// Name is the file path, or "<stdin>".
	Name string
	Data []byte
}

// maxInput bounds one input (a file or stdin) held in memory.
const maxInput = 256 << 20

// Load reads every path (a file, a directory read recursively for .yaml, .yml and .json,
// or "-" for stdin) whole. All errors are returned joined, with the inputs that could
// be read.
func Load(paths []string, stdin io.Reader) ([]Source, error) {
	var srcs []Source
	var errs []error
	read := func(name string, r io.Reader) {
		b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
		switch {
		case err != nil:
			errs = append(errs, &InputError{File: name, Err: err})
		case len(b) > maxInput:
			errs = append(errs, &InputError{File: name, Err: fmt.Errorf("larger than %d MiB", maxInput>>20)})
		default:
			srcs = append(srcs, Source{Name: name, Data: b})
		}
	}
	for _, p := range paths {
		if p == "-" {
			read("<stdin>", stdin)
			continue
		}
		files, err := expand(p)
		if err != nil {
			errs = append(errs, &InputError{File: p, Err: err})
			continue
		}
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				errs = append(errs, &InputError{File: f, Err: err})
				continue
			}
			read(f, fh)
			fh.Close()
		}
	}
	return srcs, errors.Join(errs...)
}

// DecodeSources decodes inputs Load read. All input errors are returned joined;
// objects from readable documents are returned as well.
func DecodeSources(srcs []Source) ([]Object, error) {
	var objs []Object
	var errs []error
	for _, s := range srcs {
		o, err := Decode(s.Name, bytes.NewReader(s.Data))
		objs = append(objs, o...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return objs, errors.Join(errs...)
}

// Read loads and decodes every path (see Load).
func Read(paths []string, stdin io.Reader) ([]Object, error) {
	srcs, lerr := Load(paths, stdin)
	objs, derr := DecodeSources(srcs)
	return objs, errors.Join(lerr, derr)
}

func expand(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("directory holds no .yaml, .yml or .json file")
	}
	sort.Strings(files)
	return files, nil
}

// maxDocument bounds one document so a huge or endless input cannot exhaust memory.
const maxDocument = 32 << 20

type document struct {
	data []byte
	line int
}

// splitDocuments splits a YAML stream on `---` separator lines, remembering where each
// document starts so errors can point at absolute lines.
func splitDocuments(r io.Reader) ([]document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxDocument)
	var docs []document
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func() {
		docs = append(docs, document{data: append([]byte(nil), cur.Bytes()...), line: start})
		cur.Reset()
	}
	for sc.Scan() {
		line++
		t := sc.Bytes()
		if bytes.Equal(bytes.TrimRight(t, " \t\r"), []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			flush()
			start = line + 1
			continue
		}
		if cur.Len()+len(t) > maxDocument {
			return docs, fmt.Errorf("document starting at line %d is larger than %d MiB", start, maxDocument>>20)
		}
		cur.Write(t)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return docs, err
	}
	flush()
	return docs, nil
}

// Decode reads one stream of YAML documents or JSON.
func Decode(name string, r io.Reader) ([]Object, error) {
	docs, err := splitDocuments(r)
	if err != nil {
		return nil, &InputError{File: name, Err: err}
	}
	var objs []Object
	var errs []error
	n := 0
	for _, d := range docs {
		if len(bytes.TrimSpace(stripComments(d.data))) == 0 {
			continue
		}
		n++
		o, err := decodeDocument(d.data)
		if err != nil {
			errs = append(errs, &InputError{File: name, Doc: n, Line: d.line, Err: err})
			continue
		}
		for _, u := range o {
			objs = append(objs, Object{Unstructured: u, File: name, Doc: n})
		}
	}
	if n == 0 && len(errs) == 0 {
		errs = append(errs, &InputError{File: name, Err: errors.New("no Kubernetes object in file")})
	}
	return objs, errors.Join(errs...)
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}

func decodeDocument(b []byte) ([]*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(j, &m); err != nil || m == nil {
		return nil, errors.New("not a Kubernetes object: the document is not a mapping")
	}
	return toObjects(m, "")
}

func toObjects(m map[string]any, where string) ([]*unstructured.Unstructured, error) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, fmt.Errorf("not a Kubernetes object%s: apiVersion and kind are required", where)
	}
	if strings.HasSuffix(kind, "List") {
		if items, ok := m["items"]; ok || kind == "List" {
			list, ok := items.([]any)
			if !ok && items != nil {
				return nil, fmt.Errorf("%s%s: items is not a list", kind, where)
			}
			var out []*unstructured.Unstructured
			for i, it := range list {
				im, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s%s: items[%d] is not an object", kind, where, i)
				}
				o, err := toObjects(im, fmt.Sprintf(" (items[%d])", i))
				if err != nil {
					return nil, err
				}
				out = append(out, o...)
			}
			return out, nil
		}
	}
	u := &unstructured.Unstructured{Object: m}
	if md, ok := m["metadata"]; ok {
		if _, ok := md.(map[string]any); !ok {
			return nil, fmt.Errorf("%s%s: metadata is not an object", kind, where)
		}
	}
	if u.GetName() == "" && u.GetGenerateName() == "" {
		return nil, fmt.Errorf("%s%s: metadata.name is required", kind, where)
	}
	return []*unstructured.Unstructured{u}, nil
}

// Snapshot builds a Snapshot from decoded objects. Namespaced objects without a
// namespace land in "default", as `kubectl apply` would put them. Objects of kinds no
// rule reads are kept only as possible pod owners. Secrets are dropped unread.
func Snapshot(objs []Object) (*auditor.Snapshot, error) {
	s := &auditor.Snapshot{
		Custom:       map[schema.GroupKind][]*unstructured.Unstructured{},
		Availability: map[string]auditor.Availability{},
	}
	var errs []error
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Group == "" && gvk.Kind == "Secret" {
			continue
		}
		info, known := auditor.LookupKind(gvk.GroupKind())
		if known && info.Namespaced && o.GetNamespace() == "" {
			o.SetNamespace("default")
		}
		if known {
			v, err := info.Decode(o.Unstructured)
			if err != nil {
				errs = append(errs, &InputError{File: o.File, Doc: o.Doc, Err: fmt.Errorf("%s %q: %w", gvk.Kind, o.GetName(), err)})
				continue
			}
			info.Add(s, v)
			if info.OwnerOnly {
				continue // its Owner is what it decodes to
			}
		}
		s.Owners = append(s.Owners, auditor.OwnerOf(o.Unstructured))
	}
	for _, r := range auditor.KnownResources {
		if r.Custom && r.Len(s) == 0 {
			s.Availability[r.ID] = auditor.Availability{State: auditor.NotServed, Message: "no " + r.Kind + " among the scanned manifests"}
		}
	}
	s.Index()
	return s, errors.Join(errs...)
}
