package manifests_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// mixedCorpus writes a directory of manifests mixing everything a read orders: good
// objects of many kinds and sizes (so workers finish out of order), duplicates within
// and across files, YAML and JSON documents, Lists, Secrets, blank documents, documents
// that are not objects, syntax errors, objects that do not fit their kind's schema, a
// file with no object, a file of values a GitOps walk skips, a non-manifest file.
func mixedCorpus(t *testing.T) (dir string, lenient string) {
	t.Helper()
	dir = t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	pod := func(ns, name string, gpu bool, extra int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {app: a%d}\n", name, ns, extra)
		if extra%3 == 0 {
			b.WriteString("  annotations:\n")
			for i := range extra * 5 {
				fmt.Fprintf(&b, "    note-%d: \"%s\"\n", i, strings.Repeat("x", i))
			}
		}
		b.WriteString("spec:\n  containers:\n  - name: c\n    image: busybox\n")
		if gpu {
			b.WriteString("    resources: {limits: {nvidia.com/gpu: 1}}\n")
		}
		return b.String()
	}
	for f := range 6 {
		var docs []string
		for i := range 40 {
			ns := fmt.Sprintf("team-%d", i%4)
			switch i % 10 {
			case 3:
				docs = append(docs, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: hunter2}\n")
			case 5:
				docs = append(docs, "# only a comment\n")
			case 7:
				docs = append(docs, fmt.Sprintf(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":%q,"labels":{"f":"%d"}}}`, ns, f))
			case 9:
				docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm-%d, namespace: %s}, data: {a: b}}\n- {apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: rs-%d, namespace: %s}}\n", i, ns, i%3, ns))
			default:
				// The same pod names in every file: each later file's copy wins.
				docs = append(docs, pod(ns, fmt.Sprintf("p-%d", i), i%2 == 0, i+f))
			}
		}
		switch f {
		case 1:
			docs = append(docs, "apiVersion: v1\nkind: Pod\nmetadata: {name: bad\nspec: [\n")                                // syntax
			docs = append(docs, "apiVersion: v1\nkind: Pod\nmetadata: {name: typed, namespace: x}\nspec: {containers: 3}\n") // schema
			docs = append(docs, "- just\n- a list\n")                                                                        // not a mapping
		case 2:
			docs = append(docs, "kind: Pod\nmetadata: {name: noversion}\n")
			docs = append(docs, "apiVersion: v1\nkind: List\nitems: [1]\n")
		case 4:
			docs = append(docs, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: !!int hunter2}\n")
		}
		write(fmt.Sprintf("m%d.yaml", f), strings.Join(docs, "\n---\n"))
	}
	write("empty.yaml", "# nothing\n---\n")
	write("values.yaml", "replicas: 3\n---\nimage: {tag: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: from-values}\n")
	write("notes.txt", "not read")
	return dir, filepath.Join(dir, "values.yaml")
}

type readResult struct {
	objs     []manifests.Object
	err      string
	warnings []string
	skipped  []string
}

func readCorpus(t *testing.T, dir, lenient string, o manifests.Options) readResult {
	t.Helper()
	var res readResult
	o.Warn = func(msg string) { res.warnings = append(res.warnings, msg) }
	o.SkipNotObjects = func(file string) bool { return file == lenient }
	o.Skipped = func(file string) { res.skipped = append(res.skipped, file) }
	objs, err := manifests.ReadWith([]string{dir, "-"}, strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: stdin}\n"), o)
	res.objs = objs
	if err != nil {
		res.err = err.Error()
	}
	return res
}

// TestParallelDecodeEqualsSequential: decoding documents on many workers gives the same
// objects (values, files, documents, lines, order), errors, warnings, callbacks,
// snapshot (locations included) and findings as one worker, with and without budgets.
func TestParallelDecodeEqualsSequential(t *testing.T) {
	dir, lenient := mixedCorpus(t)
	cfg := auditor.DefaultConfig()
	rs := rules.All(cfg)
	cases := map[string]manifests.Options{
		"no budget":              {},
		"projected":              {Projection: auditor.NewProjection(cfg, auditor.PodsRead(rs))},
		"object budget":          {MaxObjects: 97},
		"object budget, tight":   {MaxObjects: 3},
		"byte budget":            {MaxBytes: 9000},
		"raw":                    {Raw: true},
		"sensitive ConfigMaps":   {SensitiveKinds: []schema.GroupKind{{Kind: "ConfigMap"}}},
		"object budget at stdin": {MaxObjects: 200},
	}
	for name, o := range cases {
		t.Run(name, func(t *testing.T) {
			o.Workers = 1
			want := readCorpus(t, dir, lenient, o)
			require.NotEmpty(t, want.objs)
			require.NotEmpty(t, want.err, "the corpus holds bad documents")
			for _, workers := range []int{2, 3, 8, 32} {
				for range 3 {
					o.Workers = workers
					got := readCorpus(t, dir, lenient, o)
					require.Equal(t, want.err, got.err, "workers %d", workers)
					require.Equal(t, want.warnings, got.warnings, "workers %d", workers)
					require.Equal(t, want.skipped, got.skipped, "workers %d", workers)
					require.Equal(t, want.objs, got.objs, "workers %d", workers)
					if o.Raw {
						continue
					}
					ws, werr := manifests.Snapshot(want.objs)
					gs, gerr := manifests.Snapshot(got.objs)
					require.Equal(t, fmt.Sprint(werr), fmt.Sprint(gerr))
					require.Equal(t, ws.Locations, gs.Locations)
					we := engine.Evaluate(rs, ws, 90*24*time.Hour)
					ge := engine.Evaluate(rs, gs, 90*24*time.Hour)
					require.Equal(t, we.Findings, ge.Findings)
					require.Equal(t, we.Facts, ge.Facts)
				}
			}
		})
	}
}

// TestParallelDecodeSources: DecodeSources (the evidence path, rendered sources
// included) is the same on one worker and on many.
func TestParallelDecodeSources(t *testing.T) {
	dir, _ := mixedCorpus(t)
	srcs, err := manifests.Load([]string{dir}, nil, manifests.Options{})
	require.NoError(t, err)
	srcs = append(srcs, manifests.Source{Name: "kustomization.yaml", Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: rendered}\n"), Rendered: true, Line: 7})
	for _, max := range []int{0, 50} {
		one, err1 := manifests.DecodeSources(srcs, manifests.Options{Workers: 1, MaxObjects: max})
		for _, w := range []int{2, 8} {
			many, errN := manifests.DecodeSources(srcs, manifests.Options{Workers: w, MaxObjects: max})
			require.Equal(t, fmt.Sprint(err1), fmt.Sprint(errN))
			require.Equal(t, one, many)
		}
		if max == 0 {
			last := one[len(one)-1]
			assert.Equal(t, "rendered", last.Name)
			assert.Equal(t, [2]int{0, 7}, [2]int{last.Doc, last.Line})
		}
	}
}
