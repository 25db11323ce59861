package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// pagingRules are the failure modes that page: the budget path bypassable, NetworkPolicy
// not enforced, GPU quota bypassed, the admission gate not enforcing, prod budgets
// failing open. Every other rule tickets.
var pagingRules = []string{
	"netpol-ingress-outside-allowlist", "netpol-default-deny-missing", "serving-reachable-from-untrusted",
	"serving-host-network", "tenant-host-network-pod",
	"cni-not-enforcing",
	"gpu-pod-missing-queue-name", "gpu-pod-not-admitted", "gpu-gate-bypassed",
	"gpu-gate-policy-missing", "gpu-gate-policy-not-enforcing", "gpu-gate-policy-exception",
	"budget-fail-open-in-prod",
}

const runbookPrefix = "https://github.com/llm-platform/enforcement-auditor/blob/main/docs/"

var urlRE = regexp.MustCompile(`https?://[^\s{"]+`)

// TestPromtool: promtool accepts the rules file and its unit tests pass.
func TestPromtool(t *testing.T) {
	out := run(t, nil, "promtool", "check", "rules", "deploy/alerts/rules.yaml")
	assert.Contains(t, string(out), "SUCCESS")
	out = run(t, nil, "promtool", "test", "rules", "deploy/alerts/tests.yaml")
	assert.Contains(t, string(out), "SUCCESS")
	t.Logf("promtool test rules:\n%s", out)
}

// alertTests is deploy/alerts/tests.yaml, as far as this test reads it.
type alertTests struct {
	Tests []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			Alertname string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestAlertRules: every alert routes (critical pages, warning tickets), waits before firing, explains
// itself and links a runbook; every alert has a unit test where it fires and one where
// it does not; control alerts cover the catalogue (paging exactly pagingRules, ticketing
// the rest), never page on waived or info findings, and link the rule's own runbook.
func TestAlertRules(t *testing.T) {
	var f alertFile
	readYAML(t, "deploy/alerts/rules.yaml", &f)
	var tests alertTests
	readYAMLPart(t, "deploy/alerts/tests.yaml", &tests)
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				silent[a.Alertname] = true
			}
		}
	}

	catalogue := map[string]auditor.RuleMeta{}
	for _, m := range rules.Catalogue() {
		catalogue[m.ID] = m
	}
	for _, id := range pagingRules {
		require.Contains(t, catalogue, id, "pagingRules names a rule that does not exist")
	}

	qs := alertQueries(t)
	parsedAlerts := parsePromQL(t, qs)
	paged, ticketed := map[string]bool{}, map[string]bool{}
	names := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: recording rules belong elsewhere", g.Name)
			assert.False(t, names[r.Alert], "alert %s defined twice", r.Alert)
			names[r.Alert] = true
			sev := r.Labels["severity"]
			assert.Contains(t, []string{"critical", "warning", "info"}, sev, "%s: severity label routes the alert (kube-prometheus values)", r.Alert)
			d, err := model.ParseDuration(r.For)
			if assert.NoError(t, err, "%s: for", r.Alert) {
				assert.GreaterOrEqual(t, time.Duration(d), 5*time.Minute, "%s: a for: of 5m or more keeps it from flapping", r.Alert)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				assert.NotEmpty(t, r.Annotations[a], "%s: annotation %s", r.Alert, a)
			}
			urls := urlRE.FindAllString(r.Annotations["runbook_url"], -1)
			assert.NotEmpty(t, urls, "%s: runbook_url", r.Alert)
			for _, u := range urls { // a templated runbook_url may hold several
				assert.True(t, strings.HasPrefix(u, runbookPrefix), "%s: runbook_url %s is not in the repository's docs", r.Alert, u)
			}
			assert.True(t, fires[r.Alert], "%s: tests.yaml has no case where it fires", r.Alert)
			assert.True(t, silent[r.Alert], "%s: tests.yaml has no case where it does not fire", r.Alert)

			p := parsedAlerts["deploy/alerts/rules.yaml: "+r.Alert]
			require.Empty(t, p.Error, r.Alert)
			covered := findingRules(t, r.Alert, p.Selectors, catalogue)
			if len(covered) == 0 {
				continue
			}
			for _, id := range covered {
				if sev == "critical" {
					paged[id] = true
				} else {
					ticketed[id] = true
				}
			}
			if sev == "critical" {
				assertRunbook(t, r.Alert, r.Annotations["runbook_url"], covered, catalogue)
			}
		}
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range catalogue {
			if !yield(id) {
				return
			}
		}
	}) {
		assert.Equal(t, slices.Contains(pagingRules, id), paged[id], "rule %s: pages?", id)
		assert.True(t, paged[id] || ticketed[id], "rule %s: no alert reports its findings", id)
	}
	for a := range fires {
		assert.True(t, names[a], "tests.yaml tests %s, which rules.yaml does not define", a)
	}
}

// findingRules returns the catalogue rules whose findings an alert selects through its
// first enforcement_auditor_finding selector (the one that fires; a later one is the
// `unless` side). A paging selector must exclude waived and info findings.
func findingRules(t *testing.T, alert string, sels []selector, catalogue map[string]auditor.RuleMeta) []string {
	t.Helper()
	var s *selector
	for i := range sels {
		if sels[i].Name == "enforcement_auditor_finding" {
			s = &sels[i]
			break
		}
	}
	if s == nil {
		return nil
	}
	ruleMatch := func(string) bool { return true }
	waivedFalse, infoExcluded := false, false
	for _, m := range s.Matchers {
		switch {
		case m.Name == "rule" && m.Type == "=":
			v := m.Value
			ruleMatch = func(id string) bool { return id == v }
		case m.Name == "rule" && m.Type == "=~":
			re := regexp.MustCompile("^(?:" + m.Value + ")$")
			ruleMatch = re.MatchString
		case m.Name == "waived" && m.Type == "=" && m.Value == "false":
			waivedFalse = true
		case m.Name == "severity" && m.Type == "=~":
			infoExcluded = !regexp.MustCompile("^(?:" + m.Value + ")$").MatchString("info")
		}
	}
	assert.True(t, waivedFalse, "%s: waived findings must not alert (waived=\"false\")", alert)
	assert.True(t, infoExcluded, "%s: info findings must not alert", alert)
	var out []string
	for id := range catalogue {
		if ruleMatch(id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

var rulesRunbook = regexp.MustCompile(`^` + regexp.QuoteMeta(runbookPrefix) + `rules/(sr[123])\.md#(.+)$`)

// assertRunbook: a paging alert links docs/rules/<control>.md#<rule-id> of each rule it
// covers (templated with {{ $labels.rule }} when it covers several), and the heading
// exists once docs/rules/<control>.md does.
func assertRunbook(t *testing.T, alert, url string, covered []string, catalogue map[string]auditor.RuleMeta) {
	t.Helper()
	for _, id := range covered {
		u := strings.ReplaceAll(url, "{{ $labels.rule }}", id)
		m := rulesRunbook.FindStringSubmatch(u)
		if !assert.NotNil(t, m, "%s: runbook_url %s is not docs/rules/<control>.md#<rule-id>", alert, u) {
			continue
		}
		assert.Equal(t, id, m[2], "%s: runbook anchor", alert)
		assert.Equal(t, strings.ToLower(string(catalogue[id].Control)), m[1], "%s: %s is documented with its control", alert, id)
		doc := filepath.Join(repoRoot(t), "docs", "rules", m[1]+".md")
		b, err := os.ReadFile(doc)
		if os.IsNotExist(err) {
			t.Logf("%s: %s does not exist yet; cannot check its heading for %s", alert, doc, id)
			continue
		}
		require.NoError(t, err)
		assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(`(?m)^### %s\s*$`, regexp.QuoteMeta(id))), string(b),
			"%s: docs/rules/%s.md has no `### %s` heading for the runbook link", alert, m[1], id)
	}
}

// TestAlertDocs: every alert is listed in docs/operate.md with its severity, and every
// runbook link into docs/operate.md or docs/telemetry-metrics.md names a heading that
// exists (GitHub's anchor of it).
func TestAlertDocs(t *testing.T) {
	var f alertFile
	readYAML(t, "deploy/alerts/rules.yaml", &f)
	operate, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operate.md"))
	require.NoError(t, err)
	anchors := map[string]map[string]bool{}
	for _, doc := range []string{"operate.md", "telemetry-metrics.md"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", doc))
		require.NoError(t, err)
		anchors[doc] = headingAnchors(string(b))
	}
	linked := regexp.MustCompile(regexp.QuoteMeta(runbookPrefix) + `(operate\.md|telemetry-metrics\.md)#([a-z0-9_-]+)`)
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			row := regexp.MustCompile(fmt.Sprintf("(?m)^\\| `%s` \\| %s \\| %s \\|", regexp.QuoteMeta(r.Alert), r.Labels["severity"], regexp.QuoteMeta(r.For)))
			assert.Regexp(t, row, string(operate), "docs/operate.md: the alert table lacks %s (%s, for %s)", r.Alert, r.Labels["severity"], r.For)
			for _, m := range linked.FindAllStringSubmatch(r.Annotations["runbook_url"], -1) {
				assert.True(t, anchors[m[1]][m[2]], "%s: runbook_url anchor #%s is not a heading of docs/%s", r.Alert, m[2], m[1])
			}
		}
	}
}

// headingAnchors returns GitHub's anchors for the Markdown headings of a document:
// lower case, punctuation other than - and _ dropped, spaces turned into dashes.
func headingAnchors(doc string) map[string]bool {
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
	}
	return out
}

var (
	groupingRE    = regexp.MustCompile(`\b(by|on)\s*\(([^)]*)\)`)
	ungroupedAggr = regexp.MustCompile(`\b(sum|min|max|avg|count|group|topk|bottomk|quantile|stddev|stdvar|count_values)\s*\(`)
)

// TestAlertsKeepCluster: a fleet's global ruler (Thanos, Mimir) evaluates these rules
// over every cluster's series: each aggregation groups by cluster, each vector match
// matches on it, and no aggregation drops every label, so two clusters are never merged.
func TestAlertsKeepCluster(t *testing.T) {
	var f alertFile
	readYAML(t, "deploy/alerts/rules.yaml", &f)
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			for _, m := range groupingRE.FindAllStringSubmatch(r.Expr, -1) {
				labels := strings.Split(strings.ReplaceAll(m[2], " ", ""), ",")
				assert.Contains(t, labels, "cluster", "%s: %s keeps no cluster label", r.Alert, m[0])
			}
			assert.Empty(t, ungroupedAggr.FindAllString(r.Expr, -1), "%s: an aggregation without `by (cluster, ...)` merges clusters", r.Alert)
		}
	}
}
