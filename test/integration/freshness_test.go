package integration

// Freshness after faults: no window in which the daemon says ready (/readyz 200, stale
// 0) while its findings are older than the cluster by more than its evaluation delay,
// and a custom resource whose served version changes in place (Kueue v1beta1 to
// v1beta2) read in the new version without a restart.

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestFreshnessRecoveryWindow: the auditor's connections are refused long enough for
// client-go's watch backoff to grow (it reaches 30 s, and a refused watch is retried
// without a relist or an error to the informer's handler), the cluster changes behind
// its back, then connections are restored. Discovery answers within a second; the
// informers' watches resume later. The daemon must not say ready before its findings
// caught up: from the first /readyz 200 (or stale 0) the findings are right within the
// auditor's max delay (1 s here: debounce 100 ms, max delay 1 s).
func TestFreshnessRecoveryWindow(t *testing.T) {
	const ns = "it-fresh-recovery"
	u, err := url.Parse(restConfig.Host)
	require.NoError(t, err)
	proxy := faultsStartProxy(t, u.Host)
	a := faultsStartAuditor(t, faultsAuditorOpts{kubeconfig: faultsWriteKubeconfig(t, "https://"+proxy.addr)})
	faultsCreateNamespace(t, client, ns, faultsManaged)
	faultsCreatePod(t, client, ns, "before", nil)
	faultsWaitExactly(t, a, 10*time.Second, ns, faultsPodSeries(ns, "before"))

	proxy.Cut(true)
	a.waitMetric(t, 10*time.Second, `(?m)^enforcement_auditor_stale 1$`)
	faultsDeletePod(t, client, ns, "before")
	faultsCreatePod(t, client, ns, "after", nil)
	// Refused retries back off 0.8, 1.6, 3.2, 6.4 s...: after 12 s the next watch
	// attempt can be up to ~13 s away.
	time.Sleep(12 * time.Second)
	proxy.Restore(t)
	restored := time.Now()

	want := faultsPodSeries(ns, "after")
	var firstReady, findingsRight time.Time
	var readyWithOld []string
	require.True(t, assertEventually(90*time.Second, func() bool {
		code, _ := a.get("/readyz")
		m := a.metrics(t)
		right := faultsExactly(m, ns, want)
		fresh := code == http.StatusOK || regexp.MustCompile(`(?m)^enforcement_auditor_stale 0$`).MatchString(m)
		now := time.Now()
		if fresh && firstReady.IsZero() {
			firstReady = now
		}
		if right && findingsRight.IsZero() {
			findingsRight = now
		}
		if fresh && !right && len(readyWithOld) < 3 {
			readyWithOld = append(readyWithOld, strings.Join(faultsFindingLines(m, ns), "\n"))
		}
		return !firstReady.IsZero() && !findingsRight.IsZero()
	}), "the daemon did not recover within 90 s")
	t.Logf("after the restore: ready after %s, findings right after %s",
		firstReady.Sub(restored).Round(time.Millisecond), findingsRight.Sub(restored).Round(time.Millisecond))
	require.False(t, findingsRight.After(firstReady.Add(time.Second)),
		"ready (stale 0 or /readyz 200) %s before the findings caught up; findings while ready:\n%s",
		findingsRight.Sub(firstReady).Round(time.Millisecond), strings.Join(readyWithOld, "\n--\n"))
	faultsWaitReady(t, a, 10*time.Second, http.StatusOK)
	require.Contains(t, a.Logs(), "every informer's watch resumed")
	a.stop(t, 20*time.Second)
}

// freshnessWorkloadCRD is a Workload CRD with two versions of the same schema (no
// conversion webhook runs here), served as the caller says.
func freshnessWorkloadCRD(v1beta1Served, v1beta2Served bool) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	schema := &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
		Type: "object", XPreserveUnknownFields: &preserve}}
	version := func(name string, served, storage bool) apiextensionsv1.CustomResourceDefinitionVersion {
		return apiextensionsv1.CustomResourceDefinitionVersion{Name: name, Served: served, Storage: storage, Schema: schema,
			Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}}}
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "workloads.kueue.x-k8s.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "kueue.x-k8s.io", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "workloads", Singular: "workload", Kind: "Workload", ListKind: "WorkloadList"},
			// v1beta1 is the storage version while served, as in Kueue v0.15 (v1beta2 served
			// beside it); then v1beta2, as from v0.16.
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{version("v1beta1", v1beta1Served, v1beta1Served), version("v1beta2", v1beta2Served, !v1beta1Served)},
		},
	}
}

// TestFreshnessKueueVersionSwitch: Kueue's Workloads are served as v1beta1, then v1beta2
// is served beside it (Kueue v0.15), then v1beta1 is no longer served. The auditor
// reads the preferred served version each time without a restart, and its findings
// follow a Workload evicted after the switch.
func TestFreshnessKueueVersionSwitch(t *testing.T) {
	const ns = "it-fresh-kueue"
	c := faultsStartCluster(t)
	cfg := c.env.Config
	ctx := context.Background()
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{freshnessWorkloadCRD(true, false)}, MaxTime: time.Minute})
	require.NoError(t, err)
	a := faultsStartAuditor(t, faultsAuditorOpts{kubeconfig: c.kubeconfig})
	a.waitMetric(t, 20*time.Second, `(?m)^enforcement_auditor_resource_sync_state\{resource="workloads.kueue.x-k8s.io",state="synced"\} 1$`)

	faultsCreateNamespace(t, c.client, ns, faultsManaged)
	pod, err := c.client.CoreV1().Pods(ns).Create(ctx, gpuPod(ns, "trainer", map[string]string{"kueue.x-k8s.io/queue-name": "team"}), metav1.CreateOptions{})
	require.NoError(t, err)
	dyn := dynamic.NewForConfigOrDie(cfg)
	workloads := func(version string) dynamic.ResourceInterface {
		return dyn.Resource(schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: version, Resource: "workloads"}).Namespace(ns)
	}
	setAdmitted := func(version, status string) {
		t.Helper()
		w, err := workloads(version).Get(ctx, "pod-trainer", metav1.GetOptions{})
		require.NoError(t, err)
		w.Object["status"] = map[string]any{
			"admission":  map[string]any{"clusterQueue": "cq"},
			"conditions": []any{map[string]any{"type": "Admitted", "status": status, "reason": "Test", "message": "set by the test", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}},
		}
		_, err = workloads(version).UpdateStatus(ctx, w, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload",
		"metadata": map[string]any{"name": "pod-trainer", "namespace": ns,
			"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID), "controller": true}}},
		"spec": map[string]any{"queueName": "team"},
	}}
	_, err = workloads("v1beta1").Create(ctx, w, metav1.CreateOptions{})
	require.NoError(t, err)
	setAdmitted("v1beta1", "True")
	notAdmitted := findingSeries("gpu-pod-not-admitted", ns, "Pod", "trainer")
	faultsWaitExactly(t, a, 15*time.Second, ns) // admitted: no finding

	// v1beta2 served beside v1beta1: discovery prefers it, and the informer follows.
	switchTo := func(v1beta1Served bool) {
		t.Helper()
		crds := dyn.Resource(apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
		u, err := crds.Get(ctx, "workloads.kueue.x-k8s.io", metav1.GetOptions{})
		require.NoError(t, err)
		crd := &apiextensionsv1.CustomResourceDefinition{}
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, crd))
		crd.Spec.Versions = freshnessWorkloadCRD(v1beta1Served, true).Spec.Versions
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
		require.NoError(t, err)
		_, err = crds.Update(ctx, &unstructured.Unstructured{Object: obj}, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	switchTo(true)
	require.True(t, assertEventually(30*time.Second, func() bool {
		return strings.Contains(a.Logs(), `"to":"v1beta2"`)
	}), "the informer did not move to v1beta2")

	// v1beta1 no longer served; the Workload is evicted through v1beta2.
	switchTo(false)
	require.True(t, assertEventually(20*time.Second, func() bool {
		_, err := workloads("v1beta1").Get(ctx, "pod-trainer", metav1.GetOptions{})
		return err != nil
	}), "v1beta1 still served")
	// Past a discovery or two: an informer left on v1beta1 would now be failing.
	time.Sleep(3 * time.Second)
	setAdmitted("v1beta2", "False")
	faultsWaitExactly(t, a, 20*time.Second, ns, notAdmitted)
	a.waitNoMetric(t, 10*time.Second, `(?m)^enforcement_auditor_resource_sync_state\{resource="workloads.kueue.x-k8s.io",state="(failing|pending)"\} 1$`)

	// And back: admitted again, the finding resolves.
	setAdmitted("v1beta2", "True")
	faultsWaitExactly(t, a, 20*time.Second, ns)
	a.stop(t, 20*time.Second)
}
