// Command promql-names parses PromQL expressions with Prometheus' own parser and prints,
// for each, the series selectors it contains (metric name and label matchers), so that
// tests in the main module can check dashboards and alert rules against the metrics the
// auditor really exports without importing Prometheus into the main go.mod.
//
// Input (stdin): a JSON array of {"id": "...", "expr": "..."}.
// Output (stdout): a JSON array of {"id", "error", "selectors": [{"name", "matchers": [{"name", "type", "value"}]}]}.
// An expression that does not parse gets "error" set; the exit status is 0 unless the
// input itself cannot be read.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type query struct {
	ID   string `json:"id"`
	Expr string `json:"expr"`
}

type matcher struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type selector struct {
	Name     string    `json:"name"`
	Matchers []matcher `json:"matchers"`
}

type result struct {
	ID        string     `json:"id"`
	Error     string     `json:"error,omitempty"`
	Selectors []selector `json:"selectors"`
}

func main() {
	var in []query
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "promql-names: reading input:", err)
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	out := make([]result, 0, len(in))
	for _, q := range in {
		out = append(out, parse(p, q))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "promql-names:", err)
		os.Exit(2)
	}
}

func parse(p parser.Parser, q query) result {
	r := result{ID: q.ID, Selectors: []selector{}}
	expr, err := p.ParseExpr(q.Expr)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := selector{Name: vs.Name, Matchers: []matcher{}}
		for _, m := range vs.LabelMatchers {
			if m.Name == "__name__" && m.Type.String() == "=" && m.Value == vs.Name {
				continue // the name, already in Name
			}
			s.Matchers = append(s.Matchers, matcher{Name: m.Name, Type: m.Type.String(), Value: m.Value})
		}
		r.Selectors = append(r.Selectors, s)
		return nil
	})
	return r
}
