// Package manifests is the offline source: it reads Kubernetes manifests from files,
// directories and stdin into a Snapshot, so the same rules run in GitOps CI as in the
// cluster.
package manifests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
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

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.place(), e.Err) }

// place is "file", "file: document 2" or "file: document 2 (line 5)".
func (e *InputError) place() string {
	switch {
	case e.Doc == 0:
		return e.File
	case e.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d)", e.File, e.Doc, e.Line)
	default:
		return fmt.Sprintf("%s: document %d", e.File, e.Doc)
	}
}

func (e *InputError) Unwrap() error { return e.Err }

// Object is one manifest, decoded once into what a Snapshot keeps of it, with where it
// came from.
type Object struct {
	GVK schema.GroupVersionKind
	// Namespace is the object's namespace; a namespaced object of a kind in auditor.Kinds
	// written without one is in "default", as `kubectl apply` would put it.
	Namespace string
	Name      string
	// Value is the object as its entry in auditor.Kinds decodes it (ResourceInfo.DecodeJSON):
	// a typed object, an *unstructured.Unstructured, or an *auditor.Owner for owner kinds
	// and kinds no rule reads. Nil when Err is set.
	Value any
	// FromCluster says the object carries metadata.uid, resourceVersion and
	// creationTimestamp, as objects read from a cluster do. The status of any other
	// object (but a Node's) is dropped when decoded: the API server resets it on create,
	// so a manifest is judged as it will run. Raw reads keep every object whole.
	FromCluster bool
	// Err says why the object does not fit its kind's schema; Snapshot reports it.
	Err  error
	File string
	Doc  int
	// Line is the 1-based line where the document starts.
	Line int
}

// GroupVersionKind, GetKind, GetNamespace and GetName identify the object.
func (o Object) GroupVersionKind() schema.GroupVersionKind { return o.GVK }
func (o Object) GetKind() string                           { return o.GVK.Kind }
func (o Object) GetNamespace() string                      { return o.Namespace }
func (o Object) GetName() string                           { return o.Name }

// where names the object's place in the input.
func (o Object) where() string {
	if o.File == "" {
		return "(unknown input)"
	}
	return (&InputError{File: o.File, Doc: o.Doc, Line: o.Line}).place()
}

// Default input budget of one read. A scan's live heap measured about 11 bytes per
// input byte and 2.8 KB per object (docs/benchmarks.md), so either limit keeps it near
// 300 MB: inside the 512Mi of the deploy/ manifests, with room.
const (
	DefaultMaxBytes   = 24 << 20
	DefaultMaxObjects = 75_000
)

// Options bound and direct one read. The zero value means the defaults.
type Options struct {
	// MaxBytes bounds the bytes read from all inputs together (0: DefaultMaxBytes).
	MaxBytes int64
	// MaxObjects bounds the objects decoded, List items included (0: DefaultMaxObjects).
	MaxObjects int
	// SensitiveKinds are dropped unread, recognised from apiVersion and kind before the
	// rest of the document is decoded. Secrets always are.
	SensitiveKinds []schema.GroupKind
	// Warn receives what is skipped (non-regular files found in directories).
	Warn func(msg string)
	// Projection, when set, replaces each decoded object with its kind's projection
	// (auditor.ResourceInfo.Project: what the daemon's caches keep of it); an object the
	// projection drops (a pod no rule reads) still counts as seen. Not applied with Raw.
	Projection *auditor.Projection
	// Raw keeps every object whole as an *unstructured.Unstructured, undecoded and
	// undefaulted (for tools that apply the manifests rather than judge them).
	Raw bool
	// SkipNotObjects says of a file that its documents that are not Kubernetes objects
	// (not a mapping, or no apiVersion and kind) are skipped rather than errors: files
	// found walking a GitOps tree may be values files, CI pipelines or alert rules. Each
	// file with documents skipped is passed to Skipped once.
	SkipNotObjects func(file string) bool
	Skipped        func(file string)
	// Workers is how many documents are decoded at once (0: GOMAXPROCS). The result
	// does not depend on it: objects, errors, warnings and callbacks come in input
	// order whatever it is.
	Workers int
}

// BudgetError says the input went over Options.MaxBytes or MaxObjects.
type BudgetError struct {
	// What is "bytes" or "objects"; Limit the budget.
	What  string
	Limit int64
}

func (e *BudgetError) Error() string {
	if e.What == "bytes" {
		return fmt.Sprintf("the input exceeds the budget of %d bytes (%d MiB) for one scan", e.Limit, e.Limit>>20)
	}
	return fmt.Sprintf("the input exceeds the budget of %d objects for one scan", e.Limit)
}

// Read loads every path (a file, a directory read recursively for .yaml, .yml and .json,
// or "-" for stdin) and returns the objects in them, within the default budget.
func Read(paths []string, stdin io.Reader) ([]Object, error) {
	return ReadWith(paths, stdin, Options{})
}

// Source is one input read whole, once: the bytes decoded are the bytes evidence hashes,
// so a file changed during a scan cannot be fingerprinted with content that was not read.
type Source struct {
	// Name is the file path, or "<stdin>".
	Name string
	Data []byte
	// Rendered: Data is one object a kustomization or chart rendered from Name (see
	// auditor/gitops), not the file itself. Its objects are located at Line of Name
	// (0: unknown) and document 0.
	Rendered bool
	Line     int
}

// Load reads every path (a file, a directory read recursively for .yaml, .yml and .json,
// or "-" for stdin) whole, within the byte budget of opts. Non-regular files are refused
// when named and skipped (with a warning) in directories. All errors are returned
// joined, with the inputs that could be read; going over the budget stops the read (the
// error wraps a *BudgetError).
func Load(paths []string, stdin io.Reader, opts Options) ([]Source, error) {
	r := newReader(opts)
	var srcs []Source
	err := r.eachInput(paths, stdin, func(name string, in io.Reader) error {
		b, err := io.ReadAll(budgetReader{r: in, reader: r})
		if err != nil {
			return &InputError{File: name, Err: err}
		}
		srcs = append(srcs, Source{Name: name, Data: b})
		return nil
	})
	return srcs, err
}

// DecodeSources decodes inputs Load read (evidence keeps their bytes to hash them), within the object budget of opts (their bytes
// were counted when they were read). All input errors are returned joined; objects from
// readable documents are returned as well.
func DecodeSources(srcs []Source, opts Options) ([]Object, error) {
	r := newReader(opts)
	r.bytesLeft = math.MaxInt64 / 2 // counted by Load; halved so budgetReader cannot overflow
	err := r.run(func(p *pipeline) {
		for _, s := range srcs {
			if !p.file(s.Name, bytes.NewReader(s.Data), s.Rendered, s.Line) {
				return
			}
		}
	})
	r.dedupe()
	return r.objs, err
}

// ReadWith is Read with a budget. All input errors are returned joined; objects from
// readable documents are returned as well. Going over the budget stops the read: the
// error wraps a *BudgetError.
func ReadWith(paths []string, stdin io.Reader, opts Options) ([]Object, error) {
	r := newReader(opts)
	err := r.run(func(p *pipeline) { p.inputs(paths, stdin) })
	r.dedupe()
	return r.objs, err
}

// eachInput hands fn every input of paths (a file, a directory walked for .yaml, .yml and
// .json, or "-" for stdin), opening only regular files: a FIFO or a device would block
// or never end. Errors are collected and returned joined; going over the budget stops
// the walk.
func (r *reader) eachInput(paths []string, stdin io.Reader, fn func(name string, in io.Reader) error) error {
	var errs []error
	use := func(name string, open func() (io.ReadCloser, error)) bool {
		in, err := open()
		if err != nil {
			errs = append(errs, &InputError{File: name, Err: err})
			return true
		}
		err = fn(name, in)
		in.Close()
		if err != nil {
			errs = append(errs, err)
		}
		return !isBudget(err)
	}
	for _, p := range paths {
		if p == "-" {
			if !use("<stdin>", func() (io.ReadCloser, error) { return io.NopCloser(stdin), nil }) {
				break
			}
			continue
		}
		files, err := expand(p, r.warn)
		if err != nil {
			errs = append(errs, &InputError{File: p, Err: err})
			continue
		}
		more := true
		for _, f := range files {
			if more = use(f, func() (io.ReadCloser, error) { return fileinput.Open(f) }); !more {
				break
			}
		}
		if !more {
			break
		}
	}
	return errors.Join(errs...)
}

func isBudget(err error) bool {
	var b *BudgetError
	return errors.As(err, &b)
}

// reader holds the state of one read: the budget left and the objects so far.
type reader struct {
	opts      Options
	bytesLeft int64
	objs      []Object
	// bad counts documents that could not be decoded.
	bad int
}

// maxErrors bounds the errors listed for one input.
const maxErrors = 50

func newReader(opts Options) *reader {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxObjects <= 0 {
		opts.MaxObjects = DefaultMaxObjects
	}
	return &reader{opts: opts, bytesLeft: opts.MaxBytes}
}

func (r *reader) warn(msg string) {
	if r.opts.Warn != nil {
		r.opts.Warn(msg)
	}
}

// budgetReader fails a read once the whole read has gone over its byte budget.
type budgetReader struct {
	r io.Reader
	*reader
}

func (b budgetReader) Read(p []byte) (int, error) {
	if b.bytesLeft < 0 {
		return 0, &BudgetError{What: "bytes", Limit: b.opts.MaxBytes}
	}
	if int64(len(p)) > b.bytesLeft+1 {
		p = p[:b.bytesLeft+1]
	}
	n, err := b.r.Read(p)
	if b.bytesLeft -= int64(n); b.bytesLeft < 0 {
		return n, &BudgetError{What: "bytes", Limit: b.opts.MaxBytes}
	}
	return n, err
}

// expand lists the files a path names: itself, or the .yaml, .yml and .json files of a
// directory, sorted; skipped files are passed to warn.
func expand(p string, warn func(string)) ([]string, error) {
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
		default:
			return nil
		}
		// A FIFO named *.yaml would hang the scan; a symlink is followed to what it names.
		st, err := os.Stat(path)
		if err == nil {
			err = fileinput.Regular(st.Mode())
		}
		if err != nil {
			warn(fmt.Sprintf("%s: skipped: %v", path, err))
			return nil
		}
		files = append(files, path)
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

// eachDocument splits a YAML stream on `---` separator lines and hands each document
// to fn as soon as it ends, remembering where it starts so errors can point at
// absolute lines. Only one document is held at a time.
func eachDocument(r io.Reader, fn func(document) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxDocument)
	var cur bytes.Buffer
	start, line := 1, 0
	flush := func() error {
		d := document{data: cur.Bytes(), line: start}
		err := fn(d)
		cur.Reset()
		return err
	}
	for sc.Scan() {
		line++
		t := sc.Bytes()
		if bytes.Equal(bytes.TrimRight(t, " \t\r"), []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			if err := flush(); err != nil {
				return err
			}
			start = line + 1
			continue
		}
		if cur.Len()+len(t) > maxDocument {
			return fmt.Errorf("document starting at line %d is larger than %d MiB", start, maxDocument>>20)
		}
		cur.Write(t)
		cur.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d is longer than %d MiB", line+1, maxDocument>>20)
		}
		return err
	}
	return flush()
}

// Decode reads one stream of YAML documents or JSON, within the default budget.
func Decode(name string, r io.Reader) ([]Object, error) {
	rd := newReader(Options{})
	err := rd.decode(name, r)
	rd.dedupe()
	return rd.objs, err
}

// identity is what `kubectl apply` keys an object by.
type identity struct {
	gk              schema.GroupKind
	namespace, name string
}

// dedupe keeps, of the objects sharing one identity (group, kind, namespace, name), the
// one read last, as applying the inputs in the order they were read would (files sorted,
// documents in order), and warns with both places. Objects without a name (generateName)
// and objects that did not decode are all kept.
func (r *reader) dedupe() {
	last := make(map[identity]int, len(r.objs))
	for i, o := range r.objs {
		if o.Name != "" && o.Err == nil {
			last[identity{o.GVK.GroupKind(), o.Namespace, o.Name}] = i
		}
	}
	kept := r.objs[:0]
	for i, o := range r.objs {
		if o.Name != "" && o.Err == nil {
			if j := last[identity{o.GVK.GroupKind(), o.Namespace, o.Name}]; j != i {
				later := r.objs[j]
				name := o.Name
				if o.Namespace != "" {
					name = o.Namespace + "/" + o.Name
				}
				r.warn(fmt.Sprintf("%s: %s %s is replaced by the later one at %s (the later document wins, as with kubectl apply)",
					o.where(), o.GVK.Kind, name, later.where()))
				continue
			}
		}
		kept = append(kept, o)
	}
	clear(r.objs[len(kept):])
	r.objs = kept
}

var yamlLine = regexp.MustCompile(`\byaml: line (\d+):`)

// absoluteLines turns the YAML decoder's line, counted in the document, into a line of
// the file.
func absoluteLines(err error, start int) error {
	msg := err.Error()
	if start <= 1 || !yamlLine.MatchString(msg) {
		return err
	}
	return errors.New(yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(yamlLine.FindStringSubmatch(m)[1])
		return fmt.Sprintf("yaml: line %d:", n+start-1)
	}))
}

// blank reports whether a document holds nothing but blank lines and comments.
func blank(b []byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// errNotObject marks a document that is not a Kubernetes object at all (Options.SkipNotObjects).
var errNotObject = errors.New("not a Kubernetes object")

// decodeDocument decodes one document. JSON is decoded as JSON, as kubectl does: a YAML
// parser would take a raw NEL (U+0085) inside a JSON string for a line break and fold
// it, changing a LiteLLM config the API server stores verbatim.
func (r *reader) decodeDocument(b []byte) ([]Object, error) {
	isJSON := false
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		isJSON = json.Valid(b)
	}
	// Sensitive objects are recognised from apiVersion and kind and dropped before
	// anything else of them is decoded.
	if r.mentionsSensitive(b) {
		var drop bool
		var err error
		if isJSON {
			b, drop, err = r.dropSensitiveJSON(b)
		} else {
			b, drop, err = r.dropSensitiveYAML(b)
		}
		if err != nil || drop {
			return nil, err
		}
	}
	// YAML is parsed once, into JSON; each object is then decoded from its JSON straight
	// into what the snapshot keeps of it.
	j := b
	var top *head
	if !isJSON {
		var err error
		if j, top, err = yamlToJSON(b); err != nil {
			return nil, scrub(err)
		}
	}
	if !isObject(j) {
		return nil, fmt.Errorf("%w: the document is not a mapping", errNotObject)
	}
	return r.toObjects(j, "", top)
}

// isObject reports whether a JSON value is an object.
func isObject(j []byte) bool {
	t := bytes.TrimLeft(j, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// itemPath names item i of a List inside the place where: " (items[2].items[0])".
func itemPath(where string, i int) string {
	if where == "" {
		return fmt.Sprintf(" (items[%d])", i)
	}
	return fmt.Sprintf("%s.items[%d])", strings.TrimSuffix(where, ")"), i)
}

// str is a decoded JSON value as a string ("" when it is not one), as the unstructured
// accessors read it.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// head is what identifies an object. Decoding it copies only the metadata and a List's
// items; json.RawMessage keeps an explicit null as "null", so a present but null
// metadata is told from an absent one. The decoder is case-sensitive, as map keys are.
type head struct {
	APIVersion any             `json:"apiVersion"`
	Kind       any             `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
	Items      json.RawMessage `json:"items"`
}

type metaHead struct {
	Name              any `json:"name"`
	GenerateName      any `json:"generateName"`
	Namespace         any `json:"namespace"`
	UID               any `json:"uid"`
	ResourceVersion   any `json:"resourceVersion"`
	CreationTimestamp any `json:"creationTimestamp"`
}

// fromCluster reports whether an object was read from a cluster (kubectl get -o yaml, a
// backup): the API server sets metadata.uid, resourceVersion and creationTimestamp on
// every object it stores. A manifest lacking any of them is one to be applied, and the
// API server refuses to create an object that sets resourceVersion
// (k8s.io/apiserver pkg/storage/errors.go ErrResourceVersionSetOnCreate).
func (m metaHead) fromCluster() bool {
	return str(m.UID) != "" && str(m.ResourceVersion) != "" && str(m.CreationTimestamp) != ""
}

// keepsStatusOnCreate are the kinds whose status the API server keeps when the object is
// created: Node (k8s.io/kubernetes pkg/registry/core/node/strategy.go PrepareForCreate
// drops only disabled fields). Every other kind a rule reads status of resets it: Pod to
// phase Pending (pkg/registry/core/pod/strategy.go), DaemonSet and Job to empty
// (pkg/registry/apps/daemonset, batch/job strategy.go), custom resources with a status
// subresource (Kueue Workload, Kyverno ClusterPolicy, CloudNativePG Cluster) delete it
// (k8s.io/apiextensions-apiserver pkg/registry/customresource/strategy.go PrepareForCreate).
var keepsStatusOnCreate = map[schema.GroupKind]bool{{Kind: "Node"}: true}

// dropStatus clears a decoded object's status in place: the typed object's Status field,
// or an unstructured object's "status" key. Owners carry none.
func dropStatus(v any) {
	switch o := v.(type) {
	case nil:
	case *unstructured.Unstructured:
		delete(o.Object, "status")
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
			return
		}
		if f := rv.Elem().FieldByName("Status"); f.IsValid() && f.CanSet() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
}

// toObjects decodes one JSON object, or the items of a List, nested Lists too. top is
// the object's head when the caller has it already (see yamlToJSON), nil otherwise.
func (r *reader) toObjects(j []byte, where string, given *head) ([]Object, error) {
	var top head
	if given != nil {
		top = *given
	} else if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &top); err != nil {
		return nil, err
	}
	apiVersion, kind := str(top.APIVersion), str(top.Kind)
	if apiVersion == "" || kind == "" {
		if where != "" { // an item of a List is an error in a List that is an object
			return nil, fmt.Errorf("not a Kubernetes object%s: apiVersion and kind are required", where)
		}
		return nil, fmt.Errorf("%w: apiVersion and kind are required", errNotObject)
	}
	if strings.HasSuffix(kind, "List") {
		if items := top.Items; items != nil || kind == "List" {
			var list []json.RawMessage
			if len(items) > 0 && !bytes.Equal(items, []byte("null")) {
				if items[0] != '[' || json.Unmarshal(items, &list) != nil {
					return nil, fmt.Errorf("%s%s: items is not a list", kind, where)
				}
			}
			var out []Object
			for i, it := range list {
				if !isObject(it) {
					return nil, fmt.Errorf("%s%s: items[%d] is not an object", kind, where, i)
				}
				o, err := r.toObjects(it, itemPath(where, i), nil)
				if err != nil {
					return nil, err
				}
				out = append(out, o...)
			}
			return out, nil
		}
	}
	var meta metaHead
	if top.Metadata != nil {
		if !isObject(top.Metadata) {
			return nil, fmt.Errorf("%s%s: metadata is not an object", kind, where)
		}
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(top.Metadata, &meta); err != nil {
			return nil, err
		}
	}
	o := Object{GVK: schema.FromAPIVersionAndKind(apiVersion, kind), Name: str(meta.Name), Namespace: str(meta.Namespace)}
	if o.Name == "" && str(meta.GenerateName) == "" {
		if top.Metadata == nil && where == "" {
			// No metadata at all: a document that only looks like an object (a tool's own
			// config or report: kind: ScanReport, kind: Test).
			return nil, fmt.Errorf("%w: %s%s has no metadata.name", errNotObject, kind, where)
		}
		return nil, fmt.Errorf("%s%s: metadata.name is required", kind, where)
	}
	info, known := auditor.LookupKind(o.GVK.GroupKind())
	if r.opts.Raw {
		u := &unstructured.Unstructured{}
		if o.Err = u.UnmarshalJSON(j); o.Err == nil {
			o.Value = u
		}
	} else if known {
		o.Value, o.Err = info.DecodeJSON(j)
		o.FromCluster = meta.fromCluster()
		if o.Err == nil && !o.FromCluster && !keepsStatusOnCreate[o.GVK.GroupKind()] {
			// A manifest is judged as it will run: the API server resets status on
			// create, so a committed status.phase: Succeeded or Admitted=True says nothing.
			dropStatus(o.Value)
		}
		if o.Err == nil && r.opts.Projection != nil {
			o.Value = info.Project(r.opts.Projection, o.Value)
		}
	} else {
		o.Value, o.Err = auditor.OwnerOfJSON(j)
	}
	if known && info.Namespaced && o.Namespace == "" {
		o.Namespace = "default"
		switch v := o.Value.(type) {
		case metav1.Object:
			v.SetNamespace(o.Namespace)
		case *auditor.Owner:
			v.Namespace = o.Namespace
		}
	}
	return []Object{o}, nil
}

// Snapshot builds a Snapshot from decoded objects through the table of kinds
// (auditor.Kinds). Namespaced objects without a namespace land in "default", as
// `kubectl apply` would put them. Objects of kinds no rule reads are kept only as
// possible pod owners. Secrets are dropped unread.
func Snapshot(objs []Object) (*auditor.Snapshot, error) {
	s := &auditor.Snapshot{
		Custom:       map[schema.GroupKind][]*unstructured.Unstructured{},
		Availability: map[string]auditor.Availability{},
		Locations:    map[auditor.ObjectKey]auditor.Location{},
		Seen:         map[string]bool{},
	}
	var errs []error
	for _, o := range objs {
		gk := o.GVK.GroupKind()
		if gk == (schema.GroupKind{Kind: "Secret"}) {
			continue
		}
		if o.Err != nil {
			errs = append(errs, &InputError{File: o.File, Doc: o.Doc, Line: o.Line, Err: fmt.Errorf("%s %q: %w", o.GVK.Kind, o.Name, o.Err)})
			continue
		}
		if o.Value == nil { // dropped by Options.Projection: seen, not kept
			if info, ok := auditor.LookupKind(gk); ok {
				s.Seen[info.ID] = true
			}
			continue
		}
		key := auditor.ObjectKeyOf(gk, o.Namespace, o.Name)
		if _, dup := s.Locations[key]; !dup && o.File != "" {
			s.Locations[key] = auditor.Location{File: o.File, Document: o.Doc, Line: o.Line}
		}
		if owner, ok := o.Value.(*auditor.Owner); ok {
			s.Owners = append(s.Owners, owner) // an owner kind, or a kind no rule reads
			continue
		}
		info, _ := auditor.LookupKind(gk)
		info.Add(s, o.Value)
		if m, ok := o.Value.(metav1.Object); ok {
			s.Owners = append(s.Owners, auditor.OwnerOf(m))
		}
	}
	for _, r := range auditor.Kinds {
		if r.Len(s) > 0 {
			s.Seen[r.ID] = true
		}
	}
	for _, r := range auditor.KnownResources {
		if r.Custom && r.Len(s) == 0 {
			s.Availability[r.ID] = auditor.Availability{State: auditor.NotServed, Message: "no " + r.Kind + " among the scanned manifests"}
		}
	}
	s.Index()
	return s, errors.Join(errs...)
}
