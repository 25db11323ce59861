package prometheus

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

var update = flag.Bool("update", false, "rewrite the golden exposition files in testdata")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	metaDeny = auditor.RuleMeta{ID: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh}
	metaGPU  = auditor.RuleMeta{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh}
	metaWI   = auditor.RuleMeta{ID: "waiver-invalid", Control: auditor.SR1, Severity: auditor.SeverityMedium}
)

func obj(kind, ns, name string) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: kind, Namespace: ns, Name: name}
}

func finding(m auditor.RuleMeta, sev auditor.Severity, o *auditor.ObjectRef) auditor.Finding {
	f := m.NewFinding(o, "msg")
	f.Severity = sev
	return f
}

func waived(f auditor.Finding) auditor.Finding {
	until := t0.Add(24 * time.Hour)
	f.Waiver = &auditor.Waiver{Reason: "accepted", Until: &until}
	return f
}

func storeWith(fs ...auditor.Finding) *store.Store {
	s := store.New()
	s.Apply(t0, fs)
	return s
}

type fakeSources struct {
	states map[string]auditor.Availability
	errs   map[string]uint64
	stale  bool
}

func (f fakeSources) ResourceStates() map[string]auditor.Availability { return f.states }
func (f fakeSources) ListWatchErrors() map[string]uint64              { return f.errs }
func (f fakeSources) Stale() bool                                     { return f.stale }

// published is a store that published ev (its findings become the open records).
func published(ev *auditor.Evaluation) *store.Store {
	s := store.New()
	if ev != nil {
		s.Publish(ev)
	}
	return s
}

func compare(t *testing.T, c *Collector, want string, names ...string) {
	t.Helper()
	full := make([]string, len(names))
	for i, n := range names {
		full[i] = Prefix + n
	}
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want), full...))
}

const (
	helpFindings = `# HELP enforcement_auditor_findings Open findings not covered by a waiver, by rule and severity. Every known rule has a series for every severity (0 when none).
# TYPE enforcement_auditor_findings gauge
`
	helpWaived = `# HELP enforcement_auditor_findings_waived Open findings covered by an active waiver, by rule. Every known rule has a series (0 when none).
# TYPE enforcement_auditor_findings_waived gauge
`
	helpFinding = `# HELP enforcement_auditor_finding Open findings per object, rule and severity (usually 1; more when a rule reports several places on one object). Capped at metrics.maxFindingSeries series, worst severity first.
# TYPE enforcement_auditor_finding gauge
`
	helpDropped = `# HELP enforcement_auditor_finding_series_dropped Open findings left out of enforcement_auditor_finding by the series cap now.
# TYPE enforcement_auditor_finding_series_dropped gauge
`
	helpControl = `# HELP enforcement_auditor_control_status State set of each control: 1 for the current state (enforced, violated, unknown, not-applicable), 0 for the others. Unknown before the first evaluation and while the auditor is stale.
# TYPE enforcement_auditor_control_status gauge
`
	helpInconclusive = `# HELP enforcement_auditor_rule_inconclusive 1 when the rule could not fully judge in the last evaluation (an input not visible, unexpected input); 1 for every rule before the first evaluation.
# TYPE enforcement_auditor_rule_inconclusive gauge
`
	helpFactsSkipped = `# HELP enforcement_auditor_facts_skipped Facts of the last evaluation not exported because of an invalid name or labels, label names inconsistent with the first fact of the metric, or a duplicate label set.
# TYPE enforcement_auditor_facts_skipped gauge
`
)

func TestFindingsCounts(t *testing.T) {
	gpuPod := obj("Pod", "team-a", "trainer")
	cases := map[string]struct {
		rules    []auditor.RuleMeta
		findings []auditor.Finding
		want     string
	}{
		"clean rule exports zero for every severity": {
			rules: []auditor.RuleMeta{metaGPU},
			want: helpFindings + `
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="critical"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="high"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="medium"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="low"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="info"} 0
` + helpWaived + `
enforcement_auditor_findings_waived{control="SR2",rule="gpu-pod-missing-queue-name"} 0
`,
		},
		"findings counted at their own severity, waived ones apart": {
			rules: []auditor.RuleMeta{metaGPU},
			findings: []auditor.Finding{
				finding(metaGPU, auditor.SeverityHigh, gpuPod),
				finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "eval")),
				finding(metaGPU, auditor.SeverityInfo, obj("Namespace", "", "team-b")),
				waived(finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-c", "bench"))),
			},
			want: helpFindings + `
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="critical"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="high"} 2
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="medium"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="low"} 0
enforcement_auditor_findings{control="SR2",rule="gpu-pod-missing-queue-name",severity="info"} 1
` + helpWaived + `
enforcement_auditor_findings_waived{control="SR2",rule="gpu-pod-missing-queue-name"} 1
`,
		},
		"finding under another control than its rule adds that control's series": {
			rules: []auditor.RuleMeta{metaWI},
			findings: []auditor.Finding{func() auditor.Finding {
				f := finding(metaWI, auditor.SeverityMedium, gpuPod)
				f.Control = auditor.SR2
				return f
			}()},
			want: helpFindings + `
enforcement_auditor_findings{control="SR1",rule="waiver-invalid",severity="critical"} 0
enforcement_auditor_findings{control="SR1",rule="waiver-invalid",severity="high"} 0
enforcement_auditor_findings{control="SR1",rule="waiver-invalid",severity="medium"} 0
enforcement_auditor_findings{control="SR1",rule="waiver-invalid",severity="low"} 0
enforcement_auditor_findings{control="SR1",rule="waiver-invalid",severity="info"} 0
enforcement_auditor_findings{control="SR2",rule="waiver-invalid",severity="critical"} 0
enforcement_auditor_findings{control="SR2",rule="waiver-invalid",severity="high"} 0
enforcement_auditor_findings{control="SR2",rule="waiver-invalid",severity="medium"} 1
enforcement_auditor_findings{control="SR2",rule="waiver-invalid",severity="low"} 0
enforcement_auditor_findings{control="SR2",rule="waiver-invalid",severity="info"} 0
` + helpWaived + `
enforcement_auditor_findings_waived{control="SR1",rule="waiver-invalid"} 0
enforcement_auditor_findings_waived{control="SR2",rule="waiver-invalid"} 0
`,
		},
		"finding of a rule missing from the catalogue is still exported": {
			rules:    nil,
			findings: []auditor.Finding{waived(finding(metaDeny, auditor.SeverityCritical, obj("Namespace", "", "serving")))},
			want: helpFindings + `
enforcement_auditor_findings{control="SR1",rule="netpol-default-deny-missing",severity="critical"} 0
enforcement_auditor_findings{control="SR1",rule="netpol-default-deny-missing",severity="high"} 0
enforcement_auditor_findings{control="SR1",rule="netpol-default-deny-missing",severity="medium"} 0
enforcement_auditor_findings{control="SR1",rule="netpol-default-deny-missing",severity="low"} 0
enforcement_auditor_findings{control="SR1",rule="netpol-default-deny-missing",severity="info"} 0
` + helpWaived + `
enforcement_auditor_findings_waived{control="SR1",rule="netpol-default-deny-missing"} 1
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := New(Options{Store: storeWith(tc.findings...), Rules: tc.rules, MaxFindingSeries: 10})
			compare(t, c, tc.want, "findings", "findings_waived")
		})
	}
}

func TestFindingSeries(t *testing.T) {
	crit := finding(metaDeny, auditor.SeverityCritical, obj("Namespace", "", "serving"))
	high := finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "trainer"))
	highWaived := waived(finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "bench")))
	info := finding(metaDeny, auditor.SeverityInfo, obj("Namespace", "", "inference"))
	np0 := finding(metaDeny, auditor.SeverityHigh, &auditor.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "serving", Name: "allow"})
	np0.Discriminator = "ingress[0]"
	np1 := np0
	np1.Discriminator = "ingress[1]"
	cluster := finding(metaDeny, auditor.SeverityHigh, nil)

	cases := map[string]struct {
		findings []auditor.Finding
		max      int
		want     string
	}{
		"no findings: no series, nothing dropped": {
			max:  10,
			want: helpFinding + helpDropped + "enforcement_auditor_finding_series_dropped 0\n",
		},
		"one series per finding with waived label, under the cap": {
			findings: []auditor.Finding{high, highWaived, crit},
			max:      3,
			want: helpFinding + `
enforcement_auditor_finding{control="SR1",kind="Namespace",name="serving",namespace="",rule="netpol-default-deny-missing",severity="critical",waived="false"} 1
enforcement_auditor_finding{control="SR2",kind="Pod",name="bench",namespace="team-a",rule="gpu-pod-missing-queue-name",severity="high",waived="true"} 1
enforcement_auditor_finding{control="SR2",kind="Pod",name="trainer",namespace="team-a",rule="gpu-pod-missing-queue-name",severity="high",waived="false"} 1
` + helpDropped + "enforcement_auditor_finding_series_dropped 0\n",
		},
		"cap keeps the worst severity, unwaived before waived": {
			findings: []auditor.Finding{info, highWaived, high, crit},
			max:      2,
			want: helpFinding + `
enforcement_auditor_finding{control="SR1",kind="Namespace",name="serving",namespace="",rule="netpol-default-deny-missing",severity="critical",waived="false"} 1
enforcement_auditor_finding{control="SR2",kind="Pod",name="trainer",namespace="team-a",rule="gpu-pod-missing-queue-name",severity="high",waived="false"} 1
` + helpDropped + "enforcement_auditor_finding_series_dropped 2\n",
		},
		"zero cap exports no series and counts every finding": {
			findings: []auditor.Finding{high, crit},
			max:      0,
			want:     helpFinding + helpDropped + "enforcement_auditor_finding_series_dropped 2\n",
		},
		"discriminated findings on one object share a series counting them": {
			findings: []auditor.Finding{np0, np1},
			max:      1,
			want: helpFinding + `
enforcement_auditor_finding{control="SR1",kind="NetworkPolicy",name="allow",namespace="serving",rule="netpol-default-deny-missing",severity="high",waived="false"} 2
` + helpDropped + "enforcement_auditor_finding_series_dropped 0\n",
		},
		"finding without an object has empty object labels": {
			findings: []auditor.Finding{cluster},
			max:      1,
			want: helpFinding + `
enforcement_auditor_finding{control="SR1",kind="",name="",namespace="",rule="netpol-default-deny-missing",severity="high",waived="false"} 1
` + helpDropped + "enforcement_auditor_finding_series_dropped 0\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := New(Options{Store: storeWith(tc.findings...), Rules: []auditor.RuleMeta{metaDeny, metaGPU}, MaxFindingSeries: tc.max})
			compare(t, c, tc.want, "finding", "finding_series_dropped")
		})
	}
}

func controlText(sr1, sr2, sr3 auditor.ControlState) string {
	var b strings.Builder
	b.WriteString(helpControl)
	for _, c := range []struct {
		ctl string
		cur auditor.ControlState
	}{{"SR1", sr1}, {"SR2", sr2}, {"SR3", sr3}} {
		for _, st := range auditor.ControlStates {
			v := "0"
			if st == c.cur {
				v = "1"
			}
			b.WriteString(`enforcement_auditor_control_status{control="` + c.ctl + `",state="` + string(st) + `"} ` + v + "\n")
		}
	}
	return b.String()
}

func TestControlStatus(t *testing.T) {
	ev := &auditor.Evaluation{At: t0, Controls: map[auditor.Control]auditor.ControlState{
		auditor.SR1: auditor.Violated, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Unknown}}
	partial := &auditor.Evaluation{At: t0, Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced}}
	cases := map[string]struct {
		ev      *auditor.Evaluation
		sources SourceStatus
		want    string
	}{
		"before the first evaluation every control is unknown": {
			want: controlText(auditor.Unknown, auditor.Unknown, auditor.Unknown),
		},
		"evaluation states are exported as a state set": {
			ev: ev, sources: fakeSources{},
			// literal for one case, so the helper itself is checked once
			want: helpControl + `
enforcement_auditor_control_status{control="SR1",state="enforced"} 0
enforcement_auditor_control_status{control="SR1",state="violated"} 1
enforcement_auditor_control_status{control="SR1",state="unknown"} 0
enforcement_auditor_control_status{control="SR1",state="not-applicable"} 0
enforcement_auditor_control_status{control="SR2",state="enforced"} 1
enforcement_auditor_control_status{control="SR2",state="violated"} 0
enforcement_auditor_control_status{control="SR2",state="unknown"} 0
enforcement_auditor_control_status{control="SR2",state="not-applicable"} 0
enforcement_auditor_control_status{control="SR3",state="enforced"} 0
enforcement_auditor_control_status{control="SR3",state="violated"} 0
enforcement_auditor_control_status{control="SR3",state="unknown"} 1
enforcement_auditor_control_status{control="SR3",state="not-applicable"} 0
`,
		},
		"stale sources make every control unknown": {
			ev: ev, sources: fakeSources{stale: true},
			want: controlText(auditor.Unknown, auditor.Unknown, auditor.Unknown),
		},
		"control missing from the evaluation is unknown": {
			ev:   partial,
			want: controlText(auditor.Enforced, auditor.Unknown, auditor.Unknown),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := New(Options{Store: published(tc.ev), Sources: tc.sources})
			compare(t, c, tc.want, "control_status")
		})
	}
}

func TestRuleInconclusive(t *testing.T) {
	rules := []auditor.RuleMeta{metaGPU, metaDeny, metaDeny}
	cases := map[string]struct {
		ev   *auditor.Evaluation
		want string
	}{
		"before the first evaluation no rule has judged": {
			want: helpInconclusive + `
enforcement_auditor_rule_inconclusive{control="SR1",rule="netpol-default-deny-missing"} 1
enforcement_auditor_rule_inconclusive{control="SR2",rule="gpu-pod-missing-queue-name"} 1
`,
		},
		"rule with reasons is 1, others 0, unknown rule IDs ignored": {
			ev: &auditor.Evaluation{At: t0, Inconclusive: map[string][]string{
				metaGPU.ID: {"pods is forbidden"}, "retired-rule": {"x"}}},
			want: helpInconclusive + `
enforcement_auditor_rule_inconclusive{control="SR1",rule="netpol-default-deny-missing"} 0
enforcement_auditor_rule_inconclusive{control="SR2",rule="gpu-pod-missing-queue-name"} 1
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := New(Options{Store: published(tc.ev), Rules: rules})
			compare(t, c, tc.want, "rule_inconclusive")
		})
	}
}

func fact(metric, help string, v float64, kv ...string) auditor.Fact {
	f := auditor.Fact{Metric: metric, Help: help, Value: v}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Labels = append(f.Labels, auditor.Label{Name: kv[i], Value: kv[i+1]})
	}
	return f
}

func TestFacts(t *testing.T) {
	cases := map[string]struct {
		facts []auditor.Fact
		names []string
		want  string
	}{
		"facts grouped by metric with the first help": {
			facts: []auditor.Fact{
				fact("gpu_pods", "GPU pods by coverage.", 3, "coverage", "queued"),
				fact("cni_info", "Detected CNI.", 1, "cni", "cilium", "enforces", "true"),
				fact("gpu_pods", "other help", 1, "coverage", "bypassing"),
			},
			names: []string{"gpu_pods", "cni_info", "facts_skipped"},
			want: `
# HELP enforcement_auditor_gpu_pods GPU pods by coverage.
# TYPE enforcement_auditor_gpu_pods gauge
enforcement_auditor_gpu_pods{coverage="queued"} 3
enforcement_auditor_gpu_pods{coverage="bypassing"} 1
# HELP enforcement_auditor_cni_info Detected CNI.
# TYPE enforcement_auditor_cni_info gauge
enforcement_auditor_cni_info{cni="cilium",enforces="true"} 1
` + helpFactsSkipped + "enforcement_auditor_facts_skipped 0\n",
		},
		"same label names in another order are matched by name": {
			facts: []auditor.Fact{
				fact("pods", "Pods.", 1, "namespace", "a", "coverage", "queued"),
				fact("pods", "Pods.", 2, "coverage", "bypassing", "namespace", "b"),
			},
			names: []string{"pods", "facts_skipped"},
			want: `
# HELP enforcement_auditor_pods Pods.
# TYPE enforcement_auditor_pods gauge
enforcement_auditor_pods{coverage="queued",namespace="a"} 1
enforcement_auditor_pods{coverage="bypassing",namespace="b"} 2
` + helpFactsSkipped + "enforcement_auditor_facts_skipped 0\n",
		},
		"inconsistent label names are skipped and counted": {
			facts: []auditor.Fact{
				fact("pods", "Pods.", 1, "coverage", "queued"),
				fact("pods", "Pods.", 2, "coverage", "bypassing", "namespace", "b"),
				fact("pods", "Pods.", 3, "kind", "x"),
				fact("pods", "Pods.", 4),
			},
			names: []string{"pods", "facts_skipped"},
			want: `
# HELP enforcement_auditor_pods Pods.
# TYPE enforcement_auditor_pods gauge
enforcement_auditor_pods{coverage="queued"} 1
` + helpFactsSkipped + "enforcement_auditor_facts_skipped 3\n",
		},
		"invalid, reserved and duplicate facts are skipped and counted": {
			facts: []auditor.Fact{
				fact("", "", 1),
				fact("gpu-pods", "", 1),
				fact("findings", "", 1, "rule", "x"),
				fact("evaluation_duration_seconds_bucket", "", 1),
				fact("ok", "", 1, "bad-label", "x"),
				fact("ok", "", 1, "__reserved", "x"),
				fact("ok", "", 1, "a", "x", "a", "y"),
				fact("ok", "", 5, "a", "x"),
				fact("ok", "", 6, "a", "x"),
			},
			names: []string{"ok", "findings", "facts_skipped"},
			want: `
# HELP enforcement_auditor_ok Fact ok published by the auditor's rules.
# TYPE enforcement_auditor_ok gauge
enforcement_auditor_ok{a="x"} 5
` + helpFactsSkipped + "enforcement_auditor_facts_skipped 8\n",
		},
		"invalid UTF-8 label values are repaired, not fatal": {
			facts: []auditor.Fact{fact("cni_info", "CNI.", 1, "cni", "cil\xffium")},
			names: []string{"cni_info"},
			want: "# HELP enforcement_auditor_cni_info CNI.\n# TYPE enforcement_auditor_cni_info gauge\n" +
				"enforcement_auditor_cni_info{cni=\"cil\uFFFDium\"} 1\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := New(Options{Store: published(&auditor.Evaluation{At: t0, Facts: tc.facts})})
			compare(t, c, tc.want, tc.names...)
		})
	}
}

func TestNoFactsBeforeFirstEvaluation(t *testing.T) {
	c := New(Options{Store: store.New()})
	assert.Equal(t, 0, testutil.CollectAndCount(c, Prefix+"facts_skipped"))
}

func TestSelfObservability(t *testing.T) {
	cases := map[string]struct {
		opts Options
		want string
	}{
		"offline scan: no source metrics, no OTel": {
			opts: Options{Build: BuildInfo{Version: "v0.3.0", Revision: "abc123", GoVersion: "go1.26.8"}},
			want: `
# HELP enforcement_auditor_build_info Build of the auditor; always 1.
# TYPE enforcement_auditor_build_info gauge
enforcement_auditor_build_info{goversion="go1.26.8",revision="abc123",version="v0.3.0"} 1
# HELP enforcement_auditor_stale 1 when the API server is unreachable and the auditor serves the last known findings, else 0.
# TYPE enforcement_auditor_stale gauge
enforcement_auditor_stale 0
`,
		},
		"live source: sync state set, list/watch errors, stale, OTel drops": {
			opts: Options{
				Sources: fakeSources{
					states: map[string]auditor.Availability{
						auditor.ResourcePods:                   {State: auditor.Synced},
						auditor.ResourceKyvernoClusterPolicies: {State: auditor.Forbidden, Message: "RBAC"},
						"weird":                                {State: "exploded"},
					},
					errs:  map[string]uint64{auditor.ResourceKyvernoClusterPolicies: 7},
					stale: true,
				},
				OTelDropped: func() uint64 { return 42 },
			},
			want: `
# HELP enforcement_auditor_build_info Build of the auditor; always 1.
# TYPE enforcement_auditor_build_info gauge
enforcement_auditor_build_info{goversion="",revision="",version=""} 1
# HELP enforcement_auditor_stale 1 when the API server is unreachable and the auditor serves the last known findings, else 0.
# TYPE enforcement_auditor_stale gauge
enforcement_auditor_stale 1
# HELP enforcement_auditor_otel_events_dropped_total OpenTelemetry finding events dropped since start (queue full or export failed).
# TYPE enforcement_auditor_otel_events_dropped_total counter
enforcement_auditor_otel_events_dropped_total 42
# HELP enforcement_auditor_list_watch_errors_total List and watch errors per resource since start.
# TYPE enforcement_auditor_list_watch_errors_total counter
enforcement_auditor_list_watch_errors_total{resource="clusterpolicies.kyverno.io"} 7
# HELP enforcement_auditor_resource_sync_state State set of each watched resource: 1 for the current state (synced, not_served, forbidden, pending, failing), 0 for the others.
# TYPE enforcement_auditor_resource_sync_state gauge
enforcement_auditor_resource_sync_state{resource="clusterpolicies.kyverno.io",state="synced"} 0
enforcement_auditor_resource_sync_state{resource="clusterpolicies.kyverno.io",state="not_served"} 0
enforcement_auditor_resource_sync_state{resource="clusterpolicies.kyverno.io",state="forbidden"} 1
enforcement_auditor_resource_sync_state{resource="clusterpolicies.kyverno.io",state="pending"} 0
enforcement_auditor_resource_sync_state{resource="clusterpolicies.kyverno.io",state="failing"} 0
enforcement_auditor_resource_sync_state{resource="pods",state="synced"} 1
enforcement_auditor_resource_sync_state{resource="pods",state="not_served"} 0
enforcement_auditor_resource_sync_state{resource="pods",state="forbidden"} 0
enforcement_auditor_resource_sync_state{resource="pods",state="pending"} 0
enforcement_auditor_resource_sync_state{resource="pods",state="failing"} 0
enforcement_auditor_resource_sync_state{resource="weird",state="synced"} 0
enforcement_auditor_resource_sync_state{resource="weird",state="not_served"} 0
enforcement_auditor_resource_sync_state{resource="weird",state="forbidden"} 0
enforcement_auditor_resource_sync_state{resource="weird",state="pending"} 0
enforcement_auditor_resource_sync_state{resource="weird",state="failing"} 0
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			compare(t, New(tc.opts), tc.want, "build_info", "stale", "otel_events_dropped_total", "list_watch_errors_total", "resource_sync_state")
		})
	}
}

// TestPublishedStatesSkipped: a consumer that falls behind skips to the newest state;
// the count is exported per consumer.
func TestPublishedStatesSkipped(t *testing.T) {
	st := store.New()
	sub := st.Subscribe("emitter")
	for i := 0; i < 4; i++ {
		st.Publish(&auditor.Evaluation{At: t0.Add(time.Duration(i) * time.Second)})
	}
	c := New(Options{Store: st, Consumers: []*store.Subscription{sub}})
	compare(t, c, `
# HELP enforcement_auditor_published_states_skipped_total Published evaluations a consumer skipped because a newer one replaced it before it was taken (the consumer then works from the newer, complete state: nothing is lost, transitions are coalesced).
# TYPE enforcement_auditor_published_states_skipped_total counter
enforcement_auditor_published_states_skipped_total{consumer="emitter"} 3
`, "published_states_skipped_total")
}

func TestObserveEvaluation(t *testing.T) {
	c := New(Options{Store: store.New()})
	compare(t, c, `
# HELP enforcement_auditor_evaluation_errors_total Evaluations that could not run (no snapshot); the last findings are kept.
# TYPE enforcement_auditor_evaluation_errors_total counter
enforcement_auditor_evaluation_errors_total 0
`, "evaluation_errors_total", "last_evaluation_success_timestamp_seconds")

	// durations that are exact binary fractions, so the sum is exact
	c.ObserveEvaluation(&auditor.Evaluation{At: t0, Duration: 31250 * time.Microsecond}, nil)
	c.ObserveEvaluation(&auditor.Evaluation{At: t0.Add(time.Minute), Duration: 2 * time.Second}, nil)
	c.ObserveEvaluation(&auditor.Evaluation{At: t0, Duration: 1953125 * time.Nanosecond}, nil) // out of order: timestamp keeps the latest
	c.ObserveEvaluation(nil, errors.New("snapshot failed"))
	c.ObserveEvaluation(nil, nil) // nothing to observe

	compare(t, c, `
# HELP enforcement_auditor_evaluation_errors_total Evaluations that could not run (no snapshot); the last findings are kept.
# TYPE enforcement_auditor_evaluation_errors_total counter
enforcement_auditor_evaluation_errors_total 1
# HELP enforcement_auditor_last_evaluation_success_timestamp_seconds Unix time when the last successful evaluation completed; absent before the first.
# TYPE enforcement_auditor_last_evaluation_success_timestamp_seconds gauge
enforcement_auditor_last_evaluation_success_timestamp_seconds 1.772366462e+09
# HELP enforcement_auditor_evaluation_duration_seconds Time to evaluate every rule over one snapshot.
# TYPE enforcement_auditor_evaluation_duration_seconds histogram
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.001"} 0
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.005"} 1
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.01"} 1
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.025"} 1
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.05"} 2
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.1"} 2
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.25"} 2
enforcement_auditor_evaluation_duration_seconds_bucket{le="0.5"} 2
enforcement_auditor_evaluation_duration_seconds_bucket{le="1"} 2
enforcement_auditor_evaluation_duration_seconds_bucket{le="2.5"} 3
enforcement_auditor_evaluation_duration_seconds_bucket{le="5"} 3
enforcement_auditor_evaluation_duration_seconds_bucket{le="10"} 3
enforcement_auditor_evaluation_duration_seconds_bucket{le="30"} 3
enforcement_auditor_evaluation_duration_seconds_bucket{le="+Inf"} 3
enforcement_auditor_evaluation_duration_seconds_sum 2.033203125
enforcement_auditor_evaluation_duration_seconds_count 3
`, "evaluation_errors_total", "last_evaluation_success_timestamp_seconds", "evaluation_duration_seconds")
}

// goldenState is a realistic daemon state: a waived and an open finding, a waiver-invalid
// finding on SR2, an inconclusive rule, facts, a live source with one forbidden CRD.
func goldenState() *Collector {
	gpuWaived := waived(finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "bench")))
	gpuOpen := finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "trainer"))
	wi := finding(metaWI, auditor.SeverityMedium, obj("Pod", "team-a", "bench"))
	wi.Control, wi.Discriminator = auditor.SR2, metaGPU.ID
	ev := &auditor.Evaluation{
		At: t0, Duration: 40 * time.Millisecond, Findings: []auditor.Finding{gpuWaived, gpuOpen, wi},
		Inconclusive: map[string][]string{metaDeny.ID: {"networkpolicies.networking.k8s.io is pending"}},
		Controls:     map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Enforced},
		Facts: []auditor.Fact{
			fact("gpu_pods", "GPU pods in Kueue-managed namespaces by queue coverage.", 1, "coverage", "bypassing"),
			fact("gpu_pods", "GPU pods in Kueue-managed namespaces by queue coverage.", 4, "coverage", "queued"),
		},
	}
	c := New(Options{
		Store: published(ev), Rules: []auditor.RuleMeta{metaDeny, metaGPU, metaWI},
		Sources: fakeSources{
			states: map[string]auditor.Availability{auditor.ResourcePods: {State: auditor.Synced}, auditor.ResourceKueueWorkloads: {State: auditor.NotServed}},
			errs:   map[string]uint64{auditor.ResourcePods: 0},
		},
		OTelDropped:      func() uint64 { return 0 },
		MaxFindingSeries: 2,
		Build:            BuildInfo{Version: "v0.1.0", Revision: "0123abc", GoVersion: "go1.26.8"},
	})
	c.ObserveEvaluation(ev, nil)
	return c
}

// TestGoldenExposition compares everything the collector exports for goldenState with
// testdata/golden.prom (go test -run TestGoldenExposition -update rewrites it).
func TestGoldenExposition(t *testing.T) {
	path := filepath.Join("testdata", "golden.prom")
	if *update {
		reg := prom.NewPedanticRegistry()
		require.NoError(t, reg.Register(goldenState()))
		mfs, err := reg.Gather()
		require.NoError(t, err)
		var b bytes.Buffer
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			require.NoError(t, enc.Encode(mf))
		}
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, testutil.CollectAndCompare(goldenState(), f))
}

// TestLint runs promlint over the golden state: names, units, help and counters follow
// Prometheus conventions.
func TestLint(t *testing.T) {
	problems, err := testutil.CollectAndLint(goldenState())
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestRegistryAndHandler(t *testing.T) {
	c := goldenState()
	reg := NewRegistry(c)
	h := Handler(reg)
	_ = Handler(reg) // a second handler on the same registry reuses promhttp's metrics

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	for _, want := range []string{
		`enforcement_auditor_build_info{goversion="go1.26.8",revision="0123abc",version="v0.1.0"} 1`,
		`enforcement_auditor_control_status{control="SR2",state="violated"} 1`,
		"go_goroutines ",
		"promhttp_metric_handler_requests_total",
	} {
		assert.Contains(t, body, want)
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		assert.Contains(t, body, "process_cpu_seconds_total")
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	assert.NotEmpty(t, mfs)
}

// TestConcurrentScrapes runs scrapes while the engine applies evaluations (go test -race).
func TestConcurrentScrapes(t *testing.T) {
	st := store.New()
	c := New(Options{Store: st, Rules: []auditor.RuleMeta{metaGPU}, MaxFindingSeries: 5})
	reg := NewRegistry(c)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			now := t0.Add(time.Duration(i) * time.Second)
			fs := []auditor.Finding{finding(metaGPU, auditor.SeverityHigh, obj("Pod", "team-a", "p"+string(rune('a'+i%26))))}
			ev := &auditor.Evaluation{At: now, Duration: time.Millisecond, Findings: fs,
				Controls: map[auditor.Control]auditor.ControlState{auditor.SR2: auditor.Violated},
				Facts:    []auditor.Fact{fact("gpu_pods", "h", float64(i), "coverage", "bypassing")}}
			st.Publish(ev)
			c.ObserveEvaluation(ev, nil)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			_, err := reg.Gather()
			assert.NoError(t, err)
		}
	}()
	wg.Wait()
}

type fakeReports struct {
	writes, errs uint64
	last         time.Time
	served       bool
}

func (f fakeReports) Writes() uint64         { return f.writes }
func (f fakeReports) Errors() uint64         { return f.errs }
func (f fakeReports) LastSuccess() time.Time { return f.last }
func (f fakeReports) Served() bool           { return f.served }

// TestReportsStatus: the report writer's health, absent when --reports is off.
func TestReportsStatus(t *testing.T) {
	names := []string{"reports_writes_total", "reports_write_errors_total", "reports_last_sync_success_timestamp_seconds", "reports_api_served"}
	compare(t, New(Options{}), "", names...)
	compare(t, New(Options{Reports: fakeReports{writes: 7, errs: 2, last: time.Unix(1700000000, 500000000), served: true}}), `
# HELP enforcement_auditor_reports_api_served 1 when the API server serves the report resources --reports writes, else 0 (the writer waits for the CRDs).
# TYPE enforcement_auditor_reports_api_served gauge
enforcement_auditor_reports_api_served 1
# HELP enforcement_auditor_reports_last_sync_success_timestamp_seconds When the policy reports were last fully in step with the findings (0 before the first time).
# TYPE enforcement_auditor_reports_last_sync_success_timestamp_seconds gauge
enforcement_auditor_reports_last_sync_success_timestamp_seconds 1.7000000005e+09
# HELP enforcement_auditor_reports_write_errors_total Policy report applies and deletes that failed since start.
# TYPE enforcement_auditor_reports_write_errors_total counter
enforcement_auditor_reports_write_errors_total 2
# HELP enforcement_auditor_reports_writes_total Policy reports applied or deleted since start.
# TYPE enforcement_auditor_reports_writes_total counter
enforcement_auditor_reports_writes_total 7
`, names...)
	compare(t, New(Options{Reports: fakeReports{}}), `
# HELP enforcement_auditor_reports_api_served 1 when the API server serves the report resources --reports writes, else 0 (the writer waits for the CRDs).
# TYPE enforcement_auditor_reports_api_served gauge
enforcement_auditor_reports_api_served 0
# HELP enforcement_auditor_reports_last_sync_success_timestamp_seconds When the policy reports were last fully in step with the findings (0 before the first time).
# TYPE enforcement_auditor_reports_last_sync_success_timestamp_seconds gauge
enforcement_auditor_reports_last_sync_success_timestamp_seconds 0
# HELP enforcement_auditor_reports_write_errors_total Policy report applies and deletes that failed since start.
# TYPE enforcement_auditor_reports_write_errors_total counter
enforcement_auditor_reports_write_errors_total 0
# HELP enforcement_auditor_reports_writes_total Policy reports applied or deleted since start.
# TYPE enforcement_auditor_reports_writes_total counter
enforcement_auditor_reports_writes_total 0
`, names...)
}
