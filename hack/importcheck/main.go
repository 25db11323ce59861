// Command importcheck fails when the package graph stops flowing one way:
//
//	sources ──► Snapshot ──► rules ──► findings store ──► exporters
//
// It is an allow-list by layer: every package of the module belongs to the first layer
// whose pattern matches its path, and may import, within the module, only what its layer
// lists. Any other import fails, and so does a package no layer matches: a new package
// is placed in the graph on purpose, not by default. A pattern is a path relative to the
// module ("auditor/engine"), or a path followed by /... for the packages strictly under
// it ("rules/..." is every package under rules/, not rules itself). It reads the Imports
// of `go list` (what the compiler links into the package, test files apart: a test may
// use auditor/snapshottest), so what it checks is what ships. Run it with `make lint`;
// `go run ./hack/importcheck -list` prints the layers:
//
//	auditor/version                  (nothing in the module)
//	auditor/fileinput                (nothing in the module)
//	auditor/fileoutput               (nothing in the module)
//	auditor                          auditor/fileinput
//	auditor/store                    auditor
//	auditor/engine                   auditor auditor/store
//	auditor/live                     auditor
//	auditor/manifests                auditor auditor/fileinput
//	auditor/gitops                   auditor/fileinput auditor/manifests
//	auditor/snapshottest             auditor
//	rules/internal/ruletest          auditor auditor/engine auditor/snapshottest rules/...
//	rules                            auditor rules/...
//	rules/...                        auditor rules/...
//	probe                            auditor
//	serving                          (nothing in the module)
//	docs                             (nothing in the module)
//	exporters/...                    auditor auditor/store auditor/version auditor/fileinput auditor/fileoutput exporters/...
//	cmd/enforcement-auditor/app      auditor auditor/engine auditor/live auditor/store auditor/version rules probe serving exporters/... cmd/enforcement-auditor/app/...
//	cmd/enforcement-auditor/app/...  auditor auditor/engine auditor/live auditor/store auditor/version rules probe serving exporters/... cmd/enforcement-auditor/app/...
//	cmd/enforcement-auditor          auditor auditor/engine auditor/fileinput auditor/fileoutput auditor/gitops auditor/live auditor/manifests auditor/store auditor/version rules probe serving docs exporters/... cmd/enforcement-auditor/app cmd/enforcement-auditor/app/...
//	hack/...                         auditor auditor/... rules rules/... probe serving exporters/... hack/...
//	test/...                         auditor auditor/... rules rules/... probe serving exporters/... cmd/enforcement-auditor/app test/...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/llm-platform/enforcement-auditor/"

// layer: the packages matching pattern may import, within the module, what matches allow.
type layer struct {
	pattern string
	allow   []string
}

// The composition roots' imports: the app wires the live source, the engine, the store,
// the rules, the probes, the serving chain and the exporters; the command adds the
// offline pipeline (manifests) and the app.
var (
	appImports = []string{"auditor", "auditor/engine", "auditor/live", "auditor/store", "auditor/version",
		"rules", "probe", "serving", "exporters/...", "cmd/enforcement-auditor/app/..."}
	cmdImports = []string{"auditor", "auditor/engine", "auditor/fileinput", "auditor/fileoutput", "auditor/gitops", "auditor/live", "auditor/manifests", "auditor/store", "auditor/version",
		"rules", "probe", "serving", "docs", "exporters/...", "cmd/enforcement-auditor/app", "cmd/enforcement-auditor/app/..."}
)

// layers, first match wins. auditor/ is the vocabulary (and the table of kinds), the
// engine, the store and the sources; the sources and the store do not import the engine,
// nor one another. Rules import the vocabulary and one another's leaf packages only:
// no source, engine, store, exporter, probe, test builder or command. Probes and
// exporters import the vocabulary (exporters the store too), never a rule, a source or
// the engine. Only the command imports the app, whose sub-packages never reach back.
var layers = []layer{
	{"auditor/version", nil},
	{"auditor/fileinput", nil},
	{"auditor/fileoutput", nil},
	{"auditor", []string{"auditor/fileinput"}},
	{"auditor/store", []string{"auditor"}},
	{"auditor/engine", []string{"auditor", "auditor/store"}},
	{"auditor/live", []string{"auditor"}},
	{"auditor/manifests", []string{"auditor", "auditor/fileinput"}},
	{"auditor/gitops", []string{"auditor/fileinput", "auditor/manifests"}},
	{"auditor/snapshottest", []string{"auditor"}},
	{"rules/internal/ruletest", []string{"auditor", "auditor/engine", "auditor/snapshottest", "rules/..."}},
	{"rules", []string{"auditor", "rules/..."}},
	{"rules/...", []string{"auditor", "rules/..."}},
	{"probe", []string{"auditor"}},
	{"serving", nil},
	{"docs", nil},
	{"exporters/...", []string{"auditor", "auditor/store", "auditor/version", "auditor/fileinput", "auditor/fileoutput", "exporters/..."}},
	{"cmd/enforcement-auditor/app", appImports},
	{"cmd/enforcement-auditor/app/...", appImports},
	{"cmd/enforcement-auditor", cmdImports},
	{"hack/...", []string{"auditor", "auditor/...", "rules", "rules/...", "probe", "serving", "exporters/...", "hack/..."}},
	{"test/...", []string{"auditor", "auditor/...", "rules", "rules/...", "probe", "serving", "exporters/...", "cmd/enforcement-auditor/app", "test/..."}},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func main() {
	list := flag.Bool("list", false, "print the layers (pattern, then what it may import) and exit")
	flag.Parse()
	if *list {
		fmt.Print(listing())
		return
	}
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "importcheck: go list:", err)
		os.Exit(2)
	}
	problems := check(json.NewDecoder(strings.NewReader(string(out))))
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "importcheck: %d packages or imports outside the layers' allow-list (see hack/importcheck, or run it with -list)\n", len(problems))
		os.Exit(1)
	}
}

// listing renders the layers as the package comment shows them.
func listing() string {
	width := 0
	for _, l := range layers {
		width = max(width, len(l.pattern))
	}
	var b strings.Builder
	for _, l := range layers {
		allow := strings.Join(l.allow, " ")
		if allow == "" {
			allow = "(nothing in the module)"
		}
		fmt.Fprintf(&b, "%-*s  %s\n", width, l.pattern, allow)
	}
	return b.String()
}

func check(dec *json.Decoder) []string {
	var problems []string
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return append(problems, "importcheck: "+err.Error())
		}
		from, ok := strings.CutPrefix(p.ImportPath, module)
		if !ok {
			continue // another module's package (go list ./... lists only ours)
		}
		l := layerOf(from)
		if l == nil {
			problems = append(problems, fmt.Sprintf("%s is in no layer: add it to hack/importcheck's layers", from))
			continue
		}
		for _, imp := range p.Imports {
			to, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if !allowed(l.allow, to) {
				problems = append(problems, fmt.Sprintf("%s imports %s: layer %s may import %s", from, to, l.pattern, orNothing(l.allow)))
			} else if allowed(testOnly, to) && !allowed(testOnly, from) && !match("test/...", from) {
				problems = append(problems, fmt.Sprintf("%s imports %s: a test helper, for test files only", from, to))
			}
		}
	}
	return problems
}

// testOnly are the test helpers: tests import them (importcheck reads the imports of
// what ships, test files apart), and so may one another and test/, never a package
// that ships, even one whose layer could import their path.
var testOnly = []string{"auditor/snapshottest", "rules/internal/ruletest"}

// layerOf returns the first layer whose pattern matches path.
func layerOf(path string) *layer {
	for i := range layers {
		if match(layers[i].pattern, path) {
			return &layers[i]
		}
	}
	return nil
}

func allowed(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// match: "x" matches x only, "x/..." the packages strictly under x.
func match(pattern, path string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return strings.HasPrefix(path, dir+"/")
	}
	return path == pattern
}

func orNothing(allow []string) string {
	if len(allow) == 0 {
		return "nothing in the module"
	}
	return strings.Join(allow, ", ")
}
