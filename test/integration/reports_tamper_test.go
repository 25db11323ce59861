package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
)

// saRESTConfig returns a client config authenticated with a fresh token of a ServiceAccount.
func saRESTConfig(t *testing.T, namespace, name string) *rest.Config {
	t.Helper()
	tr, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := rest.AnonymousClientConfig(restConfig)
	cfg.BearerToken = tr.Status.Token
	return cfg
}

// applyReportsRBAC applies the reports component's ClusterRole and binding (the file as
// shipped) and the auditor's ServiceAccount, and removes the grant at the end.
func applyReportsRBAC(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "components", "reports", "rbac.yaml"))
	require.NoError(t, err)
	objs := decodeObjects(b)
	require.Len(t, objs, 2, "the reports component's ClusterRole and ClusterRoleBinding")
	ensureNamespace(t, "enforcement-auditor")
	_, err = client.CoreV1().ServiceAccounts("enforcement-auditor").Create(context.Background(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "enforcement-auditor"}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	apply(t, objs, false)
	t.Cleanup(func() { deleteObjects(t, objs) })
}

// tenantDynamic returns a dynamic client acting as a tenant user that may do anything
// with the reports of its namespace (what a platform may well grant a team).
func tenantDynamic(t *testing.T, ns, user string) dynamic.Interface {
	t.Helper()
	ctx := context.Background()
	_, err := client.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "report-editor"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"openreports.io"}, Resources: []string{"reports"},
			Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = client.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "report-editor"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "report-editor"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: "rbac.authorization.k8s.io", Name: user}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := rest.CopyConfig(restConfig)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return dynamic.NewForConfigOrDie(cfg)
}

// TestReportWriterRestoresTampering: the report writer, running as the auditor's
// ServiceAccount under the reports component's RBAC, undoes within its resync period a
// tenant's edit of its namespace's report (results, summary, an added label), the
// removal of the managed-by label, and a deletion, and deletes a report a tenant forged
// under the auditor's name and label. The same RBAC lets the auditor touch no other
// report: not another report in the namespace, not a report of another name, not a
// list of every report.
func TestReportWriterRestoresTampering(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nsA, nsB := "it-reports-tamper-a", "it-reports-tamper-b"
	createNamespace(t, nsA, nil)
	createNamespace(t, nsB, nil)
	crds := installCRDs(t, openReportsModule, reportCRDs[policyreport.OpenReports].files...)
	t.Cleanup(func() { uninstallCRDs(t, crds) })
	applyReportsRBAC(t)
	saCfg := saRESTConfig(t, "enforcement-auditor", "enforcement-auditor")
	saDyn := dynamic.NewForConfigOrDie(saCfg)

	const resync = time.Second
	rules := []auditor.RuleMeta{{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh}}
	w := writer.New(writer.Options{API: policyreport.OpenReports, Dynamic: saDyn,
		Discovery: discovery.NewDiscoveryClientForConfigOrDie(saCfg), Rules: rules,
		QPS: 50, Burst: 50, Retry: resync, Resync: resync})
	st := store.New()
	sub := st.Subscribe("reports")
	st.Publish(&auditor.Evaluation{At: time.Now(), Controls: map[auditor.Control]auditor.ControlState{auditor.SR2: auditor.Violated},
		Findings: []auditor.Finding{{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: nsA, Name: "p1"}, Message: "no queue name"}}})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, st, sub) }()
	t.Cleanup(func() { cancel(); <-done })

	nsRes, _ := policyreport.OpenReports.Resources()
	admin := dynamic.NewForConfigOrDie(restConfig).Resource(nsRes)
	tenantA := tenantDynamic(t, nsA, "tenant-a").Resource(nsRes).Namespace(nsA)
	tenantB := tenantDynamic(t, nsB, "tenant-b").Resource(nsRes).Namespace(nsB)

	// intact reports whether team a's report says what the auditor wrote.
	intact := func() (bool, *unstructured.Unstructured) {
		r, err := admin.Namespace(nsA).Get(ctx, policyreport.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		results, _, _ := unstructured.NestedSlice(r.Object, "results")
		fail, _, _ := unstructured.NestedInt64(r.Object, "summary", "fail")
		pass, _, _ := unstructured.NestedInt64(r.Object, "summary", "pass")
		_, tampered := r.GetLabels()["tampered"]
		ok := len(results) == 1 && results[0].(map[string]any)["result"] == "fail" && fail == 1 && pass == 0 &&
			!tampered && r.GetLabels()[policyreport.ManagedByLabel] == policyreport.Source
		return ok, r
	}
	// restoredWithin polls until the report is intact again and returns how long it took.
	restoredWithin := func(what string) time.Duration {
		t.Helper()
		start := time.Now()
		deadline := start.Add(3*resync + 5*time.Second)
		for {
			if ok, _ := intact(); ok {
				return time.Since(start)
			}
			require.True(t, time.Now().Before(deadline), "%s not undone by %s", what, deadline.Sub(start))
			time.Sleep(50 * time.Millisecond)
		}
	}
	restoredWithin("the first write")
	_, orig := intact()

	// A tenant turns its failure into a pass and adds a label.
	edited := orig.DeepCopy()
	results, _, _ := unstructured.NestedSlice(edited.Object, "results")
	results[0].(map[string]any)["result"] = "pass"
	require.NoError(t, unstructured.SetNestedSlice(edited.Object, results, "results"))
	require.NoError(t, unstructured.SetNestedField(edited.Object, map[string]any{"pass": int64(1), "fail": int64(0)}, "summary"))
	labels := edited.GetLabels()
	labels["tampered"] = "yes"
	edited.SetLabels(labels)
	_, err := tenantA.Update(ctx, edited, metav1.UpdateOptions{FieldManager: "tenant-edit"})
	require.NoError(t, err)
	if ok, _ := intact(); ok {
		t.Fatal("the tenant's edit did not take: the test would prove nothing")
	}
	t.Logf("edit undone in %s (resync %s)", restoredWithin("the tenant's edit"), resync)

	// A tenant strips the managed-by label (so the writer's list no longer finds it).
	_, err = tenantA.Patch(ctx, policyreport.Name, types.JSONPatchType,
		[]byte(`[{"op":"remove","path":"/metadata/labels/app.kubernetes.io~1managed-by"}]`), metav1.PatchOptions{})
	require.NoError(t, err)
	t.Logf("label removal undone in %s", restoredWithin("the removal of the managed-by label"))

	// A tenant deletes the report.
	require.NoError(t, tenantA.Delete(ctx, policyreport.Name, metav1.DeleteOptions{}))
	t.Logf("deletion undone in %s", restoredWithin("the tenant's deletion"))
	_, now := intact()
	assert.NotEqual(t, orig.GetUID(), now.GetUID(), "the deleted report was created again")

	// A tenant forges a report under the auditor's name and label where it has none.
	forged := orig.DeepCopy()
	forged.SetNamespace(nsB)
	for _, f := range []string{"uid", "resourceVersion", "managedFields", "creationTimestamp"} {
		unstructured.RemoveNestedField(forged.Object, "metadata", f)
	}
	_, err = tenantB.Create(ctx, forged, metav1.CreateOptions{})
	require.NoError(t, err)
	deadline := time.Now().Add(3*resync + 5*time.Second)
	for {
		_, err := admin.Namespace(nsB).Get(ctx, policyreport.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the forged report is still there: %v", err)
		time.Sleep(50 * time.Millisecond)
	}

	assert.Zero(t, w.Errors(), "every write allowed by the component's RBAC")
	assert.GreaterOrEqual(t, w.Restores(), uint64(4), "edit, label removal, deletion, forgery")

	// The grant is the auditor's own reports, nothing else.
	other := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "openreports.io/v1alpha1", "kind": "Report",
		"metadata": map[string]any{"name": "kyverno-polr", "namespace": nsA}, "source": "kyverno"}}
	_, err = admin.Namespace(nsA).Create(ctx, other, metav1.CreateOptions{})
	require.NoError(t, err)
	sa := saDyn.Resource(nsRes)
	_, err = sa.Namespace(nsA).Patch(ctx, "kyverno-polr", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	assert.True(t, apierrors.IsForbidden(err), "patch another report: %v", err)
	err = sa.Namespace(nsA).Delete(ctx, "kyverno-polr", metav1.DeleteOptions{})
	assert.True(t, apierrors.IsForbidden(err), "delete another report: %v", err)
	_, err = sa.Namespace(nsA).Get(ctx, "kyverno-polr", metav1.GetOptions{})
	assert.True(t, apierrors.IsForbidden(err), "read another report: %v", err)
	_, err = sa.List(ctx, metav1.ListOptions{})
	assert.True(t, apierrors.IsForbidden(err), "list every report: %v", err)
	fake := other.DeepCopy()
	fake.SetName("not-the-auditors")
	_, err = sa.Namespace(nsA).Create(ctx, fake, metav1.CreateOptions{})
	assert.True(t, apierrors.IsForbidden(err), "create a report of another name: %v", err)
	body, err := fake.MarshalJSON()
	require.NoError(t, err)
	_, err = sa.Namespace(nsA).Patch(ctx, "not-the-auditors", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "x"})
	assert.True(t, apierrors.IsForbidden(err), "apply-create a report of another name: %v", err)
	_, err = admin.Namespace(nsA).Get(ctx, "kyverno-polr", metav1.GetOptions{})
	assert.NoError(t, err, "the other report is untouched")
}

// TestDaemonReportsResync: `run --reports openreports --reports-resync 1s` puts back a
// report deleted behind its back, with no finding changing.
func TestDaemonReportsResync(t *testing.T) {
	ctx := context.Background()
	ns := "it-daemon-reports-resync"
	createNamespace(t, ns, map[string]string{"llm-platform/kueue-managed": "true"})
	crds := installCRDs(t, openReportsModule, reportCRDs[policyreport.OpenReports].files...)
	t.Cleanup(func() { uninstallCRDs(t, crds) })
	_, err := client.CoreV1().Pods(ns).Create(ctx, gpuPod(ns, "unlabelled", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.CoreV1().Pods(ns).Delete(ctx, "unlabelled", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	})
	a := startAuditor(t, "--reports", "openreports", "--reports-resync", "1s")

	nsRes, _ := policyreport.OpenReports.Resources()
	reports := dynamic.NewForConfigOrDie(restConfig).Resource(nsRes).Namespace(ns)
	var uid types.UID
	require.Eventually(t, func() bool {
		r, err := reports.Get(ctx, policyreport.Name, metav1.GetOptions{})
		if err == nil {
			uid = r.GetUID()
		}
		return err == nil
	}, 60*time.Second, 100*time.Millisecond, "the report of %s; logs:\n%s", ns, a.Logs())
	require.NoError(t, reports.Delete(ctx, policyreport.Name, metav1.DeleteOptions{}))
	start := time.Now()
	require.Eventually(t, func() bool {
		r, err := reports.Get(ctx, policyreport.Name, metav1.GetOptions{})
		return err == nil && r.GetUID() != uid
	}, 10*time.Second, 50*time.Millisecond, "the deleted report is not back; logs:\n%s", a.Logs())
	t.Logf("deleted report back in %s (resync 1s)", time.Since(start))
	assert.Contains(t, a.Logs(), "policy report deleted by someone else; restoring it")
	a.waitMetric(t, 5*time.Second, `enforcement_auditor_reports_write_errors_total 0`)
}
