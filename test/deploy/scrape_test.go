package deploy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// family is what one scraped metric family offers a query: its label names and, per
// label, the values seen.
type family struct {
	labels map[string]map[string]bool
}

// exportedMetrics scrapes the real collector over HTTP (loopback) with a state that
// makes every family appear: one open finding of every rule in the catalogue, waived and
// not, and an evaluation of the real rules over a snapshot that produces every fact
// (a Kueue-managed namespace with a GPU pod around quota, network and admission probe
// results), with sources reporting a resource in every sync state and OTel export on.
// Sample names of histograms get their _bucket, _sum and _count series.
func exportedMetrics(t *testing.T) map[string]*family {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := auditor.DefaultConfig()
	all := rules.All(cfg)
	metas := make([]auditor.RuleMeta, 0, len(all))
	var findings []auditor.Finding
	for i, r := range all {
		m := r.Meta()
		metas = append(metas, m)
		f := m.NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "pod-" + m.ID}, "fixture")
		if i%2 == 1 {
			until := now.Add(24 * time.Hour)
			f.Waiver = &auditor.Waiver{Reason: "fixture", Until: &until}
		}
		findings = append(findings, f)
		g := m.NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "ns-" + m.ID}, "fixture")
		findings = append(findings, g)
	}
	// Every severity on the per-object series: alerts and dashboards select by it.
	for _, sev := range auditor.Severities {
		f := metas[0].NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "sev-" + sev.String()}, "fixture")
		f.Severity = sev
		findings = append(findings, f)
	}

	snap := &auditor.Snapshot{
		Now: now,
		Namespaces: []*corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"llm-platform/kueue-managed": "true"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "serving"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "inference"}},
		},
		Pods: []*corev1.Pod{{
			ObjectMeta: metav1.ObjectMeta{Name: "trainer-0", Namespace: "team-a", UID: "uid-trainer-0"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("2")},
			}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning},
		}},
		NetworkProbes: []auditor.NetworkProbeResult{{
			Namespace: "serving", Target: auditor.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "serving", Name: "vllm"},
			Address: "10.96.0.10:8000", Port: 8000, Outcome: "timeout", At: now,
		}},
		AdmissionProbes: []auditor.AdmissionProbeResult{{Namespace: "team-a", Error: "forbidden", At: now}},
	}
	snap.Index()
	ev := engine.Evaluate(all, snap, 0)
	// The store publishes the fixture's findings with the evaluation's control states.
	published := *ev
	published.At, published.Findings = now, findings
	st := store.New()
	st.Publish(&published)

	c := promexp.New(promexp.Options{
		Store:            st,
		Rules:            metas,
		Sources:          fixtureSources{},
		OTelDropped:      func() uint64 { return 0 },
		MaxFindingSeries: 1000,
		Build:            promexp.BuildInfo{Version: "v0.0.0-test", Revision: "test", GoVersion: "go"},
		Evidence:         fixtureWriter{},
		Reports:          fixtureWriter{},
	})
	c.ObserveEvaluation(ev, nil)
	c.ObserveEvaluation(nil, errors.New("no snapshot"))

	srv := httptest.NewServer(promexp.Handler(promexp.NewRegistry(c)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)

	out := map[string]*family{}
	add := func(name string, lbls map[string]string) {
		f := out[name]
		if f == nil {
			f = &family{labels: map[string]map[string]bool{}}
			out[name] = f
		}
		for k, v := range lbls {
			if f.labels[k] == nil {
				f.labels[k] = map[string]bool{}
			}
			f.labels[k][v] = true
		}
	}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			lbls := map[string]string{}
			for _, lp := range m.GetLabel() {
				lbls[lp.GetName()] = lp.GetValue()
			}
			if m.GetHistogram() != nil {
				add(name+"_sum", lbls)
				add(name+"_count", lbls)
				lbls["le"] = "+Inf"
				add(name+"_bucket", lbls)
				continue
			}
			add(name, lbls)
		}
	}
	return out
}

// fixtureSources reports one resource in each sync state.
type fixtureSources struct{}

func (fixtureSources) ResourceStates() map[string]auditor.Availability {
	return map[string]auditor.Availability{
		auditor.ResourcePods:                   {State: auditor.Synced},
		auditor.ResourceKyvernoClusterPolicies: {State: auditor.Forbidden},
		auditor.ResourceKueueWorkloads:         {State: auditor.Pending},
		auditor.ResourceCNPGClusters:           {State: auditor.Failing},
		"rayjobs.ray.io":                       {State: auditor.NotServed},
	}
}

func (fixtureSources) ListWatchErrors() map[string]uint64 {
	return map[string]uint64{auditor.ResourcePods: 1}
}

func (fixtureSources) Stale() bool { return false }

// fixtureWriter stands for the evidence and report writers (--evidence-dir, --reports),
// whose health series the alerts read.
type fixtureWriter struct{}

func (fixtureWriter) Writes() uint64         { return 3 }
func (fixtureWriter) Errors() uint64         { return 1 }
func (fixtureWriter) LastSuccess() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
func (fixtureWriter) Served() bool           { return true }
func (fixtureWriter) Unsigned() bool         { return true }

// TestExportedMetricsFixture guards the fixture itself: if it stopped producing a
// family the dashboards and alerts use, the name check would report the dashboards, not
// the fixture.
func TestExportedMetricsFixture(t *testing.T) {
	got := exportedMetrics(t)
	for _, name := range []string{
		"enforcement_auditor_control_status", "enforcement_auditor_findings", "enforcement_auditor_findings_waived",
		"enforcement_auditor_finding", "enforcement_auditor_finding_series_dropped", "enforcement_auditor_rule_inconclusive",
		"enforcement_auditor_facts_skipped", "enforcement_auditor_build_info", "enforcement_auditor_evaluation_duration_seconds_bucket",
		"enforcement_auditor_last_evaluation_success_timestamp_seconds", "enforcement_auditor_evaluation_errors_total",
		"enforcement_auditor_resource_sync_state", "enforcement_auditor_list_watch_errors_total", "enforcement_auditor_stale",
		"enforcement_auditor_otel_events_dropped_total", "enforcement_auditor_cni_info", "enforcement_auditor_gpu_requested",
		"enforcement_auditor_network_probe_targets", "enforcement_auditor_network_probe_last_run_timestamp_seconds",
		"enforcement_auditor_admission_probe_result", "enforcement_auditor_admission_probe_last_run_timestamp_seconds",
	} {
		require.Contains(t, got, name, "the fixture no longer exports %s", name)
	}
	require.True(t, got["enforcement_auditor_gpu_requested"].labels["coverage"]["bypassing"])
	require.Len(t, got["enforcement_auditor_finding"].labels["rule"], len(rules.Catalogue()), "one finding series per rule")
	require.Len(t, got["enforcement_auditor_finding"].labels["severity"], len(auditor.Severities), "every severity")
}
