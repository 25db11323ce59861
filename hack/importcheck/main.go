// Command importcheck fails when the package graph stops flowing one way:
//
//	sources ──► Snapshot ──► rules ──► findings store ──► exporters
//
// auditor/ (vocabulary, engine, store, sources) imports neither rules/ nor exporters/
// nor the app; sources and exporters do not import the engine; rules import no source,
// engine, store or exporter; exporters import no rule and no source; only
// cmd/enforcement-auditor (the composition root) imports the app. It reads `go list`
// output, so what it checks is what the compiler sees. Run it with `make lint`.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/llm-platform/enforcement-auditor/"

// forbidden: a package whose path (relative to the module) starts with the key may not
// import a package starting with any of the values.
var forbidden = map[string][]string{
	"auditor":                     {"rules", "exporters", "probe", "cmd"},
	"auditor/live":                {"auditor/engine"},
	"auditor/manifests":           {"auditor/engine", "auditor/store", "auditor/live"},
	"auditor/store":               {"auditor/engine", "auditor/live", "auditor/manifests"},
	"auditor/engine":              {"auditor/live", "auditor/manifests"},
	"exporters":                   {"auditor/engine", "auditor/live", "auditor/manifests", "rules", "probe", "cmd"},
	"rules":                       {"auditor/engine", "auditor/store", "auditor/live", "auditor/manifests", "exporters", "probe", "cmd"},
	"probe":                       {"auditor/engine", "auditor/store", "auditor/live", "exporters", "rules", "cmd"},
	"hack":                        {"cmd/enforcement-auditor/app"},
	"test":                        {},
	"cmd/enforcement-auditor/app": {"cmd/enforcement-auditor/app/"}, // no sub-packages reaching back
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func main() {
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
		fmt.Fprintf(os.Stderr, "importcheck: %d imports against the one-way package graph (see hack/importcheck)\n", len(problems))
		os.Exit(1)
	}
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
		from := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			for prefix, bans := range forbidden {
				if !under(from, prefix) {
					continue
				}
				for _, ban := range bans {
					if under(to, ban) {
						problems = append(problems, fmt.Sprintf("%s imports %s", from, to))
					}
				}
			}
		}
	}
	return problems
}

// under reports whether path is prefix or inside it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}
