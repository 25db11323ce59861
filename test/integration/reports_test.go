package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
)

// The upstream report CRDs: openreports.io from the module its Go types come from (the
// one Policy Reporter reads them with), wgpolicyk8s.io from the Kyverno module the
// other tests pin.
const openReportsModule = "github.com/openreports/reports-api@v0.2.1"

var reportCRDs = map[policyreport.API]struct {
	module string
	files  []string
}{
	policyreport.OpenReports: {openReportsModule, []string{"config/crd/openreports.io_reports.yaml", "config/crd/openreports.io_clusterreports.yaml"}},
	policyreport.WGPolicy:    {kyvernoModule, []string{"config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml", "config/crds/policyreport/wgpolicyk8s.io_clusterpolicyreports.yaml"}},
}

// TestReportWriter: the writer waits while the report CRDs are absent, picks them up
// when they appear, and its reports pass the upstream CRDs' validation on a real API
// server; they are created, updated when a finding changes, left alone when nothing
// did, and deleted when their namespace has no result left.
func TestReportWriter(t *testing.T) {
	for _, api := range policyreport.APIs {
		t.Run(string(api), func(t *testing.T) { testReportWriter(t, api) })
	}
}

func testReportWriter(t *testing.T, api policyreport.API) {
	ctx := context.Background()
	nsA, nsB := "it-reports-a-"+string(api), "it-reports-b-"+string(api)
	createNamespace(t, nsA, nil)
	createNamespace(t, nsB, nil)
	dyn := dynamic.NewForConfigOrDie(restConfig)
	disc := discovery.NewDiscoveryClientForConfigOrDie(restConfig)
	rules := []auditor.RuleMeta{
		{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh},
		{ID: "budget-db-not-ha-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh},
	}
	w := writer.New(writer.Options{API: api, Dynamic: dyn, Discovery: disc, Rules: rules, QPS: 50, Burst: 50})
	st := store.New()
	publish := func(findings ...auditor.Finding) *store.State {
		st.Publish(&auditor.Evaluation{At: time.Now(), Findings: findings,
			Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Enforced}})
		return st.State()
	}
	pod := func(ns, name, msg string) auditor.Finding {
		return auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}, Message: msg, Remediation: "Add kueue.x-k8s.io/queue-name."}
	}
	nsRes, clRes := api.Resources()
	get := func(ns string) (*unstructured.Unstructured, error) {
		if ns == "" {
			return dyn.Resource(clRes).Get(ctx, policyreport.Name, metav1.GetOptions{})
		}
		return dyn.Resource(nsRes).Namespace(ns).Get(ctx, policyreport.Name, metav1.GetOptions{})
	}

	// No CRDs: the writer waits, says so, and writes nothing.
	s1 := publish(pod(nsA, "p1", "no queue name"), pod(nsB, "p2", "no queue name"))
	require.ErrorContains(t, w.Sync(ctx, s1), "not served: waiting for the report CRDs")
	assert.False(t, w.Served())
	assert.Zero(t, w.Writes())

	// The CRDs appear: the next sync finds them and writes every report.
	crds := installCRDs(t, reportCRDs[api].module, reportCRDs[api].files...)
	t.Cleanup(func() { uninstallCRDs(t, crds) })
	require.NoError(t, w.Sync(ctx, s1))
	assert.True(t, w.Served())
	assert.EqualValues(t, 3, w.Writes(), "two namespace reports and the cluster report")
	assert.False(t, w.LastSuccess().IsZero())

	a, err := get(nsA)
	require.NoError(t, err)
	results, _, _ := unstructured.NestedSlice(a.Object, "results")
	require.Len(t, results, 1)
	r := results[0].(map[string]any)
	assert.Equal(t, "fail", r["result"])
	assert.Equal(t, "SR2", r["policy"])
	assert.Equal(t, "gpu-pod-missing-queue-name", r["rule"])
	assert.Equal(t, "high", r["severity"])
	assert.Equal(t, "no queue name", r["message"])
	assert.Equal(t, "enforcement-auditor", r["source"])
	assert.Equal(t, []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "namespace": nsA, "name": "p1"}}, r["resources"])
	props := r["properties"].(map[string]any)
	assert.Equal(t, s1.Open[0].Fingerprint(), props["fingerprint"])
	assert.Equal(t, "Add kueue.x-k8s.io/queue-name.", props["remediation"])
	fail, _, _ := unstructured.NestedInt64(a.Object, "summary", "fail")
	assert.EqualValues(t, 1, fail)
	var managers []string
	for _, m := range a.GetManagedFields() {
		managers = append(managers, m.Manager+" "+string(m.Operation))
	}
	assert.Equal(t, []string{"enforcement-auditor-reports Apply"}, managers, "server-side apply under the writer's own field manager")

	cl, err := get("")
	require.NoError(t, err)
	clResults, _, _ := unstructured.NestedSlice(cl.Object, "results")
	require.Len(t, clResults, 1, "SR3 is enforced: its rule passes")
	assert.Equal(t, "pass", clResults[0].(map[string]any)["result"])
	assert.Equal(t, "budget-db-not-ha-in-prod", clResults[0].(map[string]any)["rule"])

	// Nothing changed (a new evaluation, pass timestamps aside): nothing is written.
	require.NoError(t, w.Sync(ctx, publish(pod(nsA, "p1", "no queue name"), pod(nsB, "p2", "no queue name"))))
	assert.EqualValues(t, 3, w.Writes())

	// A finding changes: its report is updated, in place.
	require.NoError(t, w.Sync(ctx, publish(pod(nsA, "p1", "still no queue name"), pod(nsB, "p2", "no queue name"))))
	assert.EqualValues(t, 4, w.Writes(), "only team a's report")
	a2, err := get(nsA)
	require.NoError(t, err)
	assert.Equal(t, a.GetUID(), a2.GetUID())
	results, _, _ = unstructured.NestedSlice(a2.Object, "results")
	assert.Equal(t, "still no queue name", results[0].(map[string]any)["message"])

	// Namespace b has no finding left: its report goes.
	require.NoError(t, w.Sync(ctx, publish(pod(nsA, "p1", "still no queue name"))))
	_, err = get(nsB)
	assert.True(t, apierrors.IsNotFound(err), "the report of a namespace without results is deleted: %v", err)
	_, err = get(nsA)
	assert.NoError(t, err)

	// A new leader (or a restart) finds the reports it owns and removes those that have no
	// results any more.
	w2 := writer.New(writer.Options{API: api, Dynamic: dyn, Discovery: disc, Rules: rules, QPS: 50, Burst: 50})
	require.NoError(t, w2.Sync(ctx, publish(pod(nsB, "p2", "back"))))
	_, err = get(nsA)
	assert.True(t, apierrors.IsNotFound(err), "a predecessor's report without results is deleted: %v", err)
	_, err = get(nsB)
	assert.NoError(t, err)
	assert.Zero(t, w2.Errors())
	assert.Zero(t, w.Errors())

	// SR3's scope judged a prod config in namespace a: its passing rule is a pass result
	// there, the config as resource, which the upstream CRD accepts.
	judged := &auditor.Evaluation{At: time.Now(), Findings: []auditor.Finding{pod(nsB, "p2", "back")},
		Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Enforced},
		Judged:   map[auditor.Control][]auditor.ObjectRef{auditor.SR3: {{APIVersion: "v1", Kind: "ConfigMap", Namespace: nsA, Name: "litellm-config"}}}}
	st.Publish(judged)
	require.NoError(t, w2.Sync(ctx, st.State()))
	a3, err := get(nsA)
	require.NoError(t, err)
	results, _, _ = unstructured.NestedSlice(a3.Object, "results")
	require.Len(t, results, 1)
	p := results[0].(map[string]any)
	assert.Equal(t, "pass", p["result"])
	assert.Equal(t, "budget-db-not-ha-in-prod", p["rule"])
	assert.Equal(t, []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "namespace": nsA, "name": "litellm-config"}}, p["resources"])
	assert.Zero(t, w2.Errors())
}

// TestDaemonReports: `run --reports openreports` started before the CRDs exist picks
// them up, a GPU pod's finding appears in its namespace's report and the report goes
// when the pod does; the writer's health is on /metrics.
func TestDaemonReports(t *testing.T) {
	ctx := context.Background()
	ns := "it-daemon-reports"
	createNamespace(t, ns, map[string]string{"llm-platform/kueue-managed": "true"})
	a := startAuditor(t, "--reports", "openreports", "--reports-qps", "20")
	a.waitMetric(t, 30*time.Second, `enforcement_auditor_reports_api_served 0`)

	crds := installCRDs(t, openReportsModule, reportCRDs[policyreport.OpenReports].files...)
	t.Cleanup(func() { uninstallCRDs(t, crds) })
	_, err := client.CoreV1().Pods(ns).Create(ctx, gpuPod(ns, "unlabelled", nil), metav1.CreateOptions{})
	require.NoError(t, err)

	nsRes, _ := policyreport.OpenReports.Resources()
	reports := dynamic.NewForConfigOrDie(restConfig).Resource(nsRes).Namespace(ns)
	var rules []string
	require.Eventually(t, func() bool {
		r, err := reports.Get(ctx, policyreport.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		results, _, _ := unstructured.NestedSlice(r.Object, "results")
		rules = rules[:0]
		for _, res := range results {
			rules = append(rules, res.(map[string]any)["rule"].(string))
		}
		return len(rules) > 0
	}, 60*time.Second, 200*time.Millisecond, "the report of %s; logs:\n%s", ns, a.Logs())
	assert.Contains(t, rules, "gpu-pod-missing-queue-name")
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_reports_api_served 1`)
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_reports_writes_total [1-9]`)

	require.NoError(t, client.CoreV1().Pods(ns).Delete(ctx, "unlabelled", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	require.Eventually(t, func() bool {
		_, err := reports.Get(ctx, policyreport.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 30*time.Second, 200*time.Millisecond, "the report of a namespace without findings goes")
	a.waitMetric(t, 5*time.Second, `enforcement_auditor_reports_write_errors_total 0`)
}
