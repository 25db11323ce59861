// Command dashboards generates the enforcement auditor's Grafana dashboards as JSON, one
// file per dashboard, from Go code built with Grafana's foundation SDK. The output is
// deterministic (same code, same bytes), so hack/verify-generated.sh can diff it.
//
//	cd tools/dashboards && go run . -out ../../dashboards
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// generated lists the dashboards and their file names under -out.
var generated = []struct {
	file  string
	build func() *dashboard.DashboardBuilder
}{
	{"security-posture.json", securityPosture},
	{"gpu-quota-and-spend.json", gpuQuotaAndSpend},
}

func main() {
	out := flag.String("out", "dashboards", "directory to write the dashboard JSON files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "dashboards:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, g := range generated {
		d, err := g.build().Build()
		if err != nil {
			return fmt.Errorf("%s: %w", g.file, err)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // PromQL's <, > and & stay readable in the committed JSON
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("%s: %w", g.file, err)
		}
		if err := os.WriteFile(filepath.Join(out, g.file), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
