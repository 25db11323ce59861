package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// query is one PromQL expression and where it comes from.
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

type parsed struct {
	ID        string     `json:"id"`
	Error     string     `json:"error"`
	Selectors []selector `json:"selectors"`
}

// parsePromQL parses expressions with Prometheus' own parser (tools/promtool's
// promql-names) and returns the selectors of each, by ID.
func parsePromQL(t *testing.T, qs []query) map[string]parsed {
	t.Helper()
	in, err := json.Marshal(qs)
	require.NoError(t, err)
	var out []parsed
	require.NoError(t, json.Unmarshal(run(t, bytes.NewReader(in), "promql-names"), &out))
	require.Len(t, out, len(qs))
	m := map[string]parsed{}
	for _, p := range out {
		m[p.ID] = p
	}
	return m
}

// alertFile is deploy/alerts/rules.yaml.
type alertFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

func alertQueries(t *testing.T) []query {
	t.Helper()
	var f alertFile
	readYAML(t, "deploy/alerts/rules.yaml", &f)
	var qs []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			qs = append(qs, query{ID: "deploy/alerts/rules.yaml: " + r.Alert, Expr: r.Expr})
		}
	}
	require.NotEmpty(t, qs)
	return qs
}

// grafanaBuiltins are Grafana's own variables, replaced by values of the right type.
var grafanaBuiltins = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__range_s": "3600", "__range_ms": "3600000",
}

var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// labelValues is a query variable's query: label_values(metric, label) or label_values(label).
var labelValues = regexp.MustCompile(`^label_values\(\s*(?:([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$`)

// dashboardQueries collects every PromQL expression of dashboards/*.json with Grafana's
// variables substituted (a variable the dashboard does not define is an error, it would
// reach Prometheus verbatim), and every label_values() variable query as a selector.
func dashboardQueries(t *testing.T) (qs []query, variableSelectors map[string]selector) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 2, "the security posture and GPU dashboards")
	variableSelectors = map[string]selector{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var d map[string]any
		require.NoError(t, json.Unmarshal(b, &d))
		base := filepath.Base(file)
		defined := map[string]bool{}
		tmpl, _ := d["templating"].(map[string]any)
		list, _ := tmpl["list"].([]any)
		for _, v := range list {
			vm := v.(map[string]any)
			name, _ := vm["name"].(string)
			defined[name] = true
			if vm["type"] != "query" {
				continue
			}
			q, _ := vm["query"].(string)
			m := labelValues.FindStringSubmatch(q)
			require.NotNil(t, m, "%s: variable %s: query %q is not label_values(metric, label)", base, name, q)
			require.NotEmpty(t, m[1], "%s: variable %s: name the metric in label_values", base, name)
			variableSelectors[fmt.Sprintf("%s: variable %s", base, name)] = selector{Name: m[1], Matchers: []matcher{{Name: m[2], Type: "!=", Value: ""}}}
		}
		n := 0
		walk(d, func(expr string) {
			n++
			sub := grafanaVar.ReplaceAllStringFunc(expr, func(v string) string {
				m := grafanaVar.FindStringSubmatch(v)
				name := m[1] + m[2]
				if val, ok := grafanaBuiltins[name]; ok {
					return val
				}
				assert.True(t, defined[name], "%s: %q uses undefined variable $%s", base, expr, name)
				return ".*" // every dashboard variable sits inside a regex label matcher
			})
			qs = append(qs, query{ID: fmt.Sprintf("%s: query %d: %s", base, n, expr), Expr: sub})
		})
		require.NotZero(t, n, base)
	}
	return qs, variableSelectors
}

// walk calls f with the value of every "expr" key in a decoded JSON document.
func walk(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok && k == "expr" {
				f(s)
				continue
			}
			walk(x[k], f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

// targetLabels are added by Prometheus to every scraped series; cluster is the external
// label a fleet's global view (Thanos, Mimir) adds (docs/operate.md "Many clusters").
var targetLabels = map[string]bool{"job": true, "instance": true, "cluster": true}

// literalAlternation is a regex that only lists values: a|b|c.
var literalAlternation = regexp.MustCompile(`^[A-Za-z0-9_.:/-]+(\|[A-Za-z0-9_.:/-]+)*$`)

// TestPromQLNamesExportedMetrics: every expression of the alert rules and the dashboards
// parses, and every series it selects is one the auditor exports (scraped from the real
// collector), with label names the family has and, for equality and literal-alternation
// matchers, label values the collector produces. A renamed metric, a label typo or a
// misspelled rule ID fails here, not silently in production as an empty panel or an
// alert that can never fire.
func TestPromQLNamesExportedMetrics(t *testing.T) {
	qs := alertQueries(t)
	dq, vars := dashboardQueries(t)
	qs = append(qs, dq...)
	res := parsePromQL(t, qs)
	exported := exportedMetrics(t)

	check := func(id string, s selector) {
		if s.Name == "up" {
			for _, m := range s.Matchers {
				assert.True(t, targetLabels[m.Name], "%s: up has no label %s", id, m.Name)
			}
			return
		}
		fam, ok := exported[s.Name]
		if !assert.True(t, ok, "%s: metric %s is not exported by the auditor", id, s.Name) {
			return
		}
		for _, m := range s.Matchers {
			if targetLabels[m.Name] {
				continue
			}
			values, ok := fam.labels[m.Name]
			if !assert.True(t, ok, "%s: %s has no label %s (labels: %v)", id, s.Name, m.Name, sortedKeys(fam.labels)) {
				continue
			}
			var want []string
			switch {
			case m.Type == "=" && m.Value != "":
				want = []string{m.Value}
			case m.Type == "=~" && literalAlternation.MatchString(m.Value):
				want = strings.Split(m.Value, "|")
			}
			for _, w := range want {
				assert.True(t, values[w], "%s: %s{%s} never takes the value %q (seen: %v)", id, s.Name, m.Name, w, sortedKeys(values))
			}
		}
	}
	for _, q := range qs {
		p := res[q.ID]
		if !assert.Empty(t, p.Error, "%s: does not parse:\n%s", q.ID, q.Expr) {
			continue
		}
		assert.NotEmpty(t, p.Selectors, "%s selects nothing", q.ID)
		for _, s := range p.Selectors {
			require.NotEmpty(t, s.Name, "%s: select metrics by name", q.ID)
			check(q.ID, s)
		}
	}
	for id, s := range vars {
		check(id, s)
	}
}

// TestPromQLNamesRejects keeps the parser honest: invalid PromQL is reported, and a
// valid expression's selectors come back with their matchers.
func TestPromQLNamesRejects(t *testing.T) {
	res := parsePromQL(t, []query{
		{ID: "bad", Expr: `sum by (rule (enforcement_auditor_findings)`},
		{ID: "good", Expr: `max by (control) (enforcement_auditor_control_status{state="violated", job=~"a.*"}) * on () up`},
	})
	assert.NotEmpty(t, res["bad"].Error)
	assert.Empty(t, res["good"].Error)
	assert.Equal(t, []selector{
		{Name: "enforcement_auditor_control_status", Matchers: []matcher{{Name: "state", Type: "=", Value: "violated"}, {Name: "job", Type: "=~", Value: "a.*"}}},
		{Name: "up", Matchers: []matcher{}},
	}, res["good"].Selectors)
}
