package integration

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// SR2 walk-through on a real API server: Kyverno's and Kueue's CRDs from their upstream
// modules, the gate as Kyverno would leave it (policy Ready, webhook configuration,
// health lease), a Job-owned GPU pod under an admitted Workload, then one defect at a
// time, the active admission probe against a real validating webhook, and Kueue/Kyverno
// downgraded or removed under a running daemon.

const (
	sr2NS           = "it-sr2-gpu"
	sr2KyvernoNS    = "it-sr2-kyverno"
	sr2ManagedLabel = "it-sr2/kueue-managed"
	sr2Policy       = "it-sr2-require-kueue-queue"
	sr2QueueLabel   = "kueue.x-k8s.io/queue-name"
	sr2GateWebhook  = "it-sr2-gpu-gate"
	sr2KyvernoHooks = "kyverno-resource-validating-webhook-cfg"
	sr2ProbePrefix  = "enforcement-auditor-probe-"
	sr2Wait         = 10 * time.Second
	// sr2CRDWait bounds waits on CRDs coming and going: the API server takes a few seconds
	// (3-6s observed) to drop a deleted CRD from discovery, which the auditor polls every second.
	sr2CRDWait = 30 * time.Second
)

var (
	sr2PolicyGVR   = schema.GroupVersionResource{Group: "kyverno.io", Version: "v1", Resource: "clusterpolicies"}
	sr2KyvernoCRDs = []string{"config/crds/kyverno/kyverno.io_clusterpolicies.yaml", "config/crds/kyverno/kyverno.io_policies.yaml"}
	sr2KueueCRD    = "config/components/crd/bases/kueue.x-k8s.io_workloads.yaml"
)

func sr2WorkloadGVR(version string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: version, Resource: "workloads"}
}

// sr2Config narrows the auditor to this test's namespaces, gate name and Kyverno namespace.
const sr2Config = `apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
sr2:
  kueueManagedNamespaceSelector:
    matchLabels: {"it-sr2/kueue-managed": "true"}
  gpuResources: [nvidia.com/gpu]
  gatePolicyNames: [it-sr2-require-kueue-queue]
  kyvernoNamespace: it-sr2-kyverno
`

// sr2NamespaceLabels label the managed namespace. LoadConfig decodes the file over the
// defaults and merges matchLabels into the default map instead of replacing it, so the
// effective selector is it-sr2/kueue-managed=true AND llm-platform/kueue-managed=true:
// the namespace carries both (they are removed at cleanup).
var sr2NamespaceLabels = map[string]string{sr2ManagedLabel: "true", "llm-platform/kueue-managed": "true"}

func TestSR2GPUQuotaWalkthrough(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(restConfig)

	kyvernoCRDs := installCRDs(t, kyvernoModule, sr2KyvernoCRDs...)
	t.Cleanup(func() { uninstallCRDs(t, kyvernoCRDs) })
	kueueCRDs := installCRDs(t, kueueModule, sr2KueueCRD)
	t.Cleanup(func() { uninstallCRDs(t, kueueCRDs) })

	createNamespace(t, sr2NS, sr2NamespaceLabels)
	createNamespace(t, sr2KyvernoNS, nil)
	t.Cleanup(func() { sr2Unmanage(t, sr2NS) })

	cfgFile := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(sr2Config), 0o600))

	// Kyverno as it runs: a fresh health lease, its resource webhook, the gate Ready.
	lease := sr2StartLeaseKeeper(t)
	sr2CreateKyvernoWebhooks(t)
	sr2CreatePolicy(t, dyn)

	// A compliant Job: labelled with its queue, its pod owned by it, admitted by Kueue.
	train := sr2CreateJob(t, "train")
	sr2CreateOwnedPod(t, "train-0", train)
	sr2CreateWorkload(t, dyn, "v1beta2", "job-train", train, metav1.ConditionTrue)

	a := startAuditor(t, "--config", cfgFile)
	allocated := func(cov string, n int) string {
		return fmt.Sprintf(`enforcement_auditor_gpu_requested\{coverage="%s",namespace="%s"\} %d\n`, cov, sr2NS, n)
	}
	enforced := `enforcement_auditor_control_status\{control="SR2",state="enforced"\} 1`

	if !t.Run("1 compliant setup has no SR2 finding", func(t *testing.T) {
		// Enforced means no SR2 finding and no inconclusive SR2 rule: the webhook, the lease and
		// the Workload were judged. The GPU is counted admitted, so the pod and Workload were seen.
		sr2WaitFindings(t, a, sr2Wait, nil, enforced, allocated("admitted", 1), allocated("bypassing", 0))
	}) {
		return
	}

	if !t.Run("2 unlabelled GPU pod", func(t *testing.T) {
		_, err := client.CoreV1().Pods(sr2NS).Create(ctx, gpuPod(sr2NS, "unlabelled", nil), metav1.CreateOptions{})
		require.NoError(t, err)
		sr2WaitFindings(t, a, sr2Wait, []string{sr2Key("gpu-pod-missing-queue-name", "high", sr2NS, "Pod", "unlabelled", 1)},
			allocated("bypassing", 1), allocated("admitted", 1))
		require.NoError(t, client.CoreV1().Pods(sr2NS).Delete(ctx, "unlabelled", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
		sr2WaitFindings(t, a, sr2Wait, nil, enforced, allocated("bypassing", 0))
	}) {
		return
	}

	if !t.Run("3 gate only audits", func(t *testing.T) {
		sr2SetFailureAction(t, dyn, "Audit")
		sr2WaitFindings(t, a, sr2Wait, []string{sr2Key("gpu-gate-policy-not-enforcing", "critical", "", "ClusterPolicy", sr2Policy, 1)})
		require.Contains(t, a.metrics(t), `enforcement_auditor_findings{control="SR2",rule="gpu-gate-policy-not-enforcing",severity="critical"} 1`)
		sr2SetFailureAction(t, dyn, "Enforce")
		sr2WaitFindings(t, a, sr2Wait, nil, enforced)

		// Kyverno's watchdog strips its webhooks once the health lease is older than 100s.
		lease.setStale(t, true)
		sr2WaitFindings(t, a, sr2Wait, []string{sr2Key("gpu-gate-policy-not-enforcing", "high", "", "ClusterPolicy", sr2Policy, 1)})
		lease.setStale(t, false)
		sr2WaitFindings(t, a, sr2Wait, nil, enforced)
	}) {
		return
	}

	var waiting *batchv1.Job
	if !t.Run("4 labelled pod whose Workload is not admitted", func(t *testing.T) {
		waiting = sr2CreateJob(t, "waiting")
		sr2CreateWorkload(t, dyn, "v1beta2", "job-waiting", waiting, metav1.ConditionFalse)
		sr2CreateOwnedPod(t, "waiting-0", waiting)
		sr2WaitFindings(t, a, sr2Wait, []string{sr2Key("gpu-pod-not-admitted", "high", sr2NS, "Pod", "waiting-0", 1)},
			allocated("bypassing", 1), allocated("admitted", 1))
		sr2SetAdmitted(t, dyn, "v1beta2", "job-waiting", metav1.ConditionTrue)
		sr2WaitFindings(t, a, sr2Wait, nil, enforced, allocated("admitted", 2), allocated("bypassing", 0))
	}) {
		return
	}

	if !t.Run("4b side doors through owners: a plain owner reference, another pod's Workload by label", func(t *testing.T) {
		// Any client may name the admitted Job train as a plain (non-controller) owner of its
		// own pod, or label it with the prebuilt name of train's Workload: Kueue follows
		// only the controller, and the Workload stays controlled by the Job.
		plain := gpuPod(sr2NS, "plain-owner", map[string]string{sr2QueueLabel: "research"})
		plain.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: train.Name, UID: train.UID}}
		prebuilt := gpuPod(sr2NS, "prebuilt-label", map[string]string{sr2QueueLabel: "research", "kueue.x-k8s.io/prebuilt-workload-name": "job-train"})
		for _, p := range []*corev1.Pod{plain, prebuilt} {
			_, err := client.CoreV1().Pods(sr2NS).Create(ctx, p, metav1.CreateOptions{})
			require.NoError(t, err)
		}
		sr2WaitFindings(t, a, sr2Wait, []string{
			sr2Key("gpu-pod-not-admitted", "high", sr2NS, "Pod", "plain-owner", 1),
			sr2Key("gpu-pod-not-admitted", "high", sr2NS, "Pod", "prebuilt-label", 1),
		}, allocated("bypassing", 2))
		for _, p := range []*corev1.Pod{plain, prebuilt} {
			require.NoError(t, client.CoreV1().Pods(sr2NS).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
		}
		sr2WaitFindings(t, a, sr2Wait, nil, enforced, allocated("bypassing", 0))
	}) {
		return
	}

	if !t.Run("5 admission probe with and without a denying webhook", func(t *testing.T) {
		gate := sr2StartGate(t)
		// Wait until the API server calls the webhook: a dry-run create is denied.
		require.Eventually(t, func() bool {
			_, err := client.CoreV1().Pods(sr2NS).Create(ctx, gpuPod(sr2NS, "check", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err != nil && strings.Contains(err.Error(), "denied the request")
		}, sr2Wait, 100*time.Millisecond, "the API server never called the test's gate webhook")
		// The webhook lets labelled GPU pods through.
		labelled := gpuPod(sr2NS, "check", map[string]string{sr2QueueLabel: "research"})
		_, err := client.CoreV1().Pods(sr2NS).Create(ctx, labelled, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		require.NoError(t, err)

		p := startAuditor(t, "--config", cfgFile, "--probe-admission", "--probe-interval", "2s")
		result := func(r string) string {
			return fmt.Sprintf(`enforcement_auditor_admission_probe_result\{namespace="%s",result="%s"\} 1`, sr2NS, r)
		}
		sr2WaitFindings(t, p, sr2Wait, nil, result("denied"), enforced)
		require.NotEmpty(t, gate.probeReviews(), "no probe request reached the webhook")
		// And still after the next probe run.
		lastRun := regexp.MustCompile(`enforcement_auditor_admission_probe_last_run_timestamp_seconds\{namespace="` + sr2NS + `"\} (\S+)`)
		first := lastRun.FindStringSubmatch(p.metrics(t))
		require.NotNil(t, first, "no admission_probe_last_run_timestamp_seconds for %s", sr2NS)
		denied := regexp.MustCompile(result("denied"))
		var body string
		require.True(t, assertEventually(sr2Wait, func() bool {
			body = p.metrics(t)
			m := lastRun.FindStringSubmatch(body)
			return m != nil && m[1] != first[1] && len(sr2Findings(body)) == 0 && denied.MatchString(body)
		}), "the next probe run did not stay denied without findings:\n%s", grepLines(body, "enforcement_auditor_"))

		require.NoError(t, client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, sr2GateWebhook, metav1.DeleteOptions{}))
		sr2WaitFindings(t, p, sr2Wait, []string{sr2Key("gpu-gate-bypassed", "critical", "", "Namespace", sr2NS, 1)}, result("admitted"))

		// Every probe was a dry run, and none was persisted, admitted or not.
		for _, r := range gate.probeReviews() {
			require.True(t, r.dryRun, "probe request without dryRun: %+v", r)
			require.False(t, r.allowed, "the gate webhook allowed a probe: %+v", r)
		}
		pods, err := client.CoreV1().Pods(sr2NS).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		for _, pod := range pods.Items {
			require.False(t, strings.HasPrefix(pod.Name, sr2ProbePrefix) || pod.GenerateName == sr2ProbePrefix, "probe pod persisted: %s", pod.Name)
		}
		require.Len(t, pods.Items, 2, "only train-0 and waiting-0")
		p.stop(t, 15*time.Second)
	}) {
		return
	}

	t.Run("6 Kueue v1beta1 only, then no Kueue and no Kyverno", func(t *testing.T) {
		ready := sr2WatchReadiness(t, a)

		uninstallCRDs(t, kueueCRDs)
		sr2WaitFindings(t, a, sr2CRDWait, nil,
			`enforcement_auditor_resource_sync_state\{resource="workloads.kueue.x-k8s.io",state="not_served"\} 1`,
			`enforcement_auditor_rule_inconclusive\{control="SR2",rule="gpu-pod-not-admitted"\} 1`,
			`enforcement_auditor_control_status\{control="SR2",state="unknown"\} 1`)

		kueueCRDs = installCRDs(t, kueueV1beta1Module, sr2KueueCRD)
		sr2CreateWorkload(t, dyn, "v1beta1", "job-train", train, metav1.ConditionTrue)
		sr2CreateWorkload(t, dyn, "v1beta1", "job-waiting", waiting, metav1.ConditionFalse)
		sr2WaitFindings(t, a, sr2CRDWait, []string{sr2Key("gpu-pod-not-admitted", "high", sr2NS, "Pod", "waiting-0", 1)},
			`enforcement_auditor_resource_sync_state\{resource="workloads.kueue.x-k8s.io",state="synced"\} 1`)
		require.Contains(t, a.Logs(), `"resource":"workloads.kueue.x-k8s.io","version":"v1beta1"`)
		sr2SetAdmitted(t, dyn, "v1beta1", "job-waiting", metav1.ConditionTrue)
		sr2WaitFindings(t, a, sr2Wait, nil, enforced, allocated("admitted", 2))

		uninstallCRDs(t, kueueCRDs)
		uninstallCRDs(t, kyvernoCRDs)
		sr2WaitFindings(t, a, sr2CRDWait, []string{sr2Key("gpu-gate-policy-missing", "critical", "", "", "", 1)},
			`enforcement_auditor_resource_sync_state\{resource="clusterpolicies.kyverno.io",state="not_served"\} 1`,
			`enforcement_auditor_control_status\{control="SR2",state="violated"\} 1`)

		ready.stop()
		require.Empty(t, ready.failures(), "/readyz was not 200 while CRDs came and went")
		require.Greater(t, ready.polls(), 10)
		code, _ := a.get("/healthz")
		require.Equal(t, http.StatusOK, code)
		a.stop(t, 15*time.Second)
	})
}

// sr2Key names one open SR2 finding series as sr2Findings reports it.
func sr2Key(rule, severity, ns, kind, name string, n int) string {
	return fmt.Sprintf("%s %s %s/%s/%s = %d", rule, severity, ns, kind, name, n)
}

var (
	sr2FindingLine = regexp.MustCompile(`(?m)^enforcement_auditor_finding\{([^}]*)\} (\S+)$`)
	sr2LabelPair   = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
)

// sr2Findings lists the open SR2 finding series of a /metrics body, sorted.
func sr2Findings(body string) []string {
	var out []string
	for _, m := range sr2FindingLine.FindAllStringSubmatch(body, -1) {
		l := map[string]string{}
		for _, p := range sr2LabelPair.FindAllStringSubmatch(m[1], -1) {
			l[p[1]] = p[2]
		}
		if l["control"] != "SR2" || m[2] == "0" {
			continue
		}
		var n int
		_, _ = fmt.Sscan(m[2], &n)
		out = append(out, sr2Key(l["rule"], l["severity"], l["namespace"], l["kind"], l["name"], n))
	}
	sort.Strings(out)
	return out
}

// sr2WaitFindings polls /metrics until, in one scrape, the open SR2 findings are exactly
// want and every pattern matches. The auditor's config makes every SR2 finding one about
// this test's objects.
func sr2WaitFindings(t *testing.T, a *auditorProcess, d time.Duration, want []string, patterns ...string) {
	t.Helper()
	sort.Strings(want)
	res := make([]*regexp.Regexp, 0, len(patterns))
	for _, p := range patterns {
		res = append(res, regexp.MustCompile(p))
	}
	start := time.Now()
	var body string
	var got []string
	ok := assertEventually(d, func() bool {
		body = a.metrics(t)
		got = sr2Findings(body)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			return false
		}
		for _, re := range res {
			if !re.MatchString(body) {
				return false
			}
		}
		return true
	})
	if !ok {
		var missing []string
		for _, re := range res {
			if !re.MatchString(body) {
				missing = append(missing, re.String())
			}
		}
		t.Fatalf("within %s: SR2 findings\n  got  %q\n  want %q\nunmatched patterns %q\nmetrics:\n%s",
			d, got, want, missing, grepLines(body, "enforcement_auditor_"))
	}
	t.Logf("state reached in %s: %q", time.Since(start).Round(10*time.Millisecond), want)
}

// sr2Unmanage takes the managed labels off the namespace and deletes its pods at the end,
// so later tests (with the default selector) do not see them.
func sr2Unmanage(t *testing.T, ns string) { sr2UnmanageLabels(t, ns, sr2NamespaceLabels) }

// sr2UnmanageLabels deletes the namespace's pods and takes the labels off it.
func sr2UnmanageLabels(t *testing.T, ns string, labels map[string]string) {
	ctx := context.Background()
	_ = client.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{})
	n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Errorf("namespace %s: %v", ns, err)
		return
	}
	for k := range labels {
		delete(n.Labels, k)
	}
	if _, err := client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Errorf("unlabelling namespace %s: %v", ns, err)
	}
}

// sr2LeaseKeeper renews Kyverno's health lease every few seconds, as Kyverno does, or keeps
// it stale on demand.
type sr2LeaseKeeper struct {
	mu    sync.Mutex
	stale bool
}

func sr2StartLeaseKeeper(t *testing.T) *sr2LeaseKeeper {
	k := &sr2LeaseKeeper{}
	_, err := client.CoordinationV1().Leases(sr2KyvernoNS).Create(context.Background(), &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "kyverno-health", Namespace: sr2KyvernoNS,
			Annotations: map[string]string{"kyverno.io/last-request-time": time.Now().UTC().Format(time.RFC3339)}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: sr2Ptr("kyverno-admission-controller")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = k.renew(ctx)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

func (k *sr2LeaseKeeper) renew(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	at := time.Now().UTC()
	if k.stale {
		at = at.Add(-5 * time.Minute)
	}
	l, err := client.CoordinationV1().Leases(sr2KyvernoNS).Get(ctx, "kyverno-health", metav1.GetOptions{})
	if err != nil {
		return err
	}
	l.Annotations["kyverno.io/last-request-time"] = at.Format(time.RFC3339)
	_, err = client.CoordinationV1().Leases(sr2KyvernoNS).Update(ctx, l, metav1.UpdateOptions{})
	return err
}

func (k *sr2LeaseKeeper) setStale(t *testing.T, stale bool) {
	t.Helper()
	k.mu.Lock()
	k.stale = stale
	k.mu.Unlock()
	require.NoError(t, k.renew(context.Background()))
}

// sr2CreateKyvernoWebhooks creates the webhook configuration Kyverno maintains, pointing at
// a Service that does not exist. Its rules must receive pod CREATE (the gate rule checks
// that), so a match condition that is always false keeps the API server from calling it.
func sr2CreateKyvernoWebhooks(t *testing.T) {
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	_, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: sr2KyvernoHooks},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.kyverno.svc-fail",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
				Namespace: sr2KyvernoNS, Name: "kyverno-svc", Path: sr2Ptr("/validate/fail"), Port: sr2Ptr(int32(443))}},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{sr2ManagedLabel: "true"}},
			// No Kyverno serves this webhook: the test's own requests (as the envtest admin)
			// never reach it, while a tenant's, from a ServiceAccount, would; the auditor
			// evaluates matchConditions on a tenant's GPU pod.
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "it-sr2-tenants-only",
				Expression: "request.userInfo.username.startsWith('system:serviceaccount:')"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          sr2Ptr(int32(10)),
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { sr2DeleteWebhookConfig(t, sr2KyvernoHooks) })
}

func sr2DeleteWebhookConfig(t *testing.T, name string) {
	err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting ValidatingWebhookConfiguration %s: %v", name, err)
	}
}

// sr2CreatePolicy creates the gate ClusterPolicy (Enforce, Fail) and marks it Ready
// through the status subresource, as Kyverno does once it has compiled it.
func sr2CreatePolicy(t *testing.T, dyn dynamic.Interface) {
	ctx := context.Background()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v1",
		"kind":       "ClusterPolicy",
		"metadata":   map[string]any{"name": sr2Policy},
		"spec": map[string]any{
			"background":           false,
			"webhookConfiguration": map[string]any{"failurePolicy": "Fail"},
			"rules": []any{map[string]any{
				"name": "gpu-pods-need-a-queue",
				"match": map[string]any{"any": []any{map[string]any{"resources": map[string]any{
					"kinds":             []any{"Pod"},
					"operations":        []any{"CREATE"},
					"namespaceSelector": map[string]any{"matchLabels": map[string]any{sr2ManagedLabel: "true"}},
				}}}},
				"validate": map[string]any{
					"failureAction": "Enforce",
					"message":       "GPU pods need the label kueue.x-k8s.io/queue-name.",
					// A GPU in a container's resources or devices taken through DRA claims,
					// without a queue name (the example platform's gate).
					"deny": map[string]any{"conditions": map[string]any{"any": []any{
						map[string]any{
							"key":      "{{ request.object.spec.[containers, initContainers][][].resources.[requests, limits][].\"nvidia.com/gpu\" || `[]` | length(@) }}",
							"operator": "GreaterThan",
							"value":    0,
						},
						map[string]any{
							"key":      "{{ request.object.spec.resourceClaims || `[]` | length(@) }}",
							"operator": "GreaterThan",
							"value":    0,
						},
					}, "all": []any{
						map[string]any{
							"key":      "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}",
							"operator": "Equals",
							"value":    "",
						},
					}}},
				},
			}},
		},
	}}
	created, err := dyn.Resource(sr2PolicyGVR).Create(ctx, u, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedSlice(created.Object, []any{map[string]any{
		"type": "Ready", "status": "True", "reason": "Succeeded", "message": "Ready",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions"))
	_, err = dyn.Resource(sr2PolicyGVR).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
}

func sr2SetFailureAction(t *testing.T, dyn dynamic.Interface, action string) {
	t.Helper()
	ctx := context.Background()
	p, err := dyn.Resource(sr2PolicyGVR).Get(ctx, sr2Policy, metav1.GetOptions{})
	require.NoError(t, err)
	rules, _, _ := unstructured.NestedSlice(p.Object, "spec", "rules")
	require.Len(t, rules, 1)
	require.NoError(t, unstructured.SetNestedField(rules[0].(map[string]any), action, "validate", "failureAction"))
	require.NoError(t, unstructured.SetNestedSlice(p.Object, rules, "spec", "rules"))
	_, err = dyn.Resource(sr2PolicyGVR).Update(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
}

func sr2GPUContainer() corev1.Container {
	return corev1.Container{Name: "trainer", Image: "registry.example/trainer:1",
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}}
}

// sr2CreateJob creates a suspended Job carrying the queue label (nothing runs it here).
func sr2CreateJob(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	j, err := client.BatchV1().Jobs(sr2NS).Create(context.Background(), &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sr2NS, Labels: map[string]string{sr2QueueLabel: "research"}},
		Spec: batchv1.JobSpec{
			Suspend: sr2Ptr(true),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{sr2GPUContainer()},
			}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return j
}

// sr2CreateOwnedPod creates the Job's pod, as the Job controller would: no queue label of
// its own, a controller owner reference to the Job.
func sr2CreateOwnedPod(t *testing.T, name string, job *batchv1.Job) {
	t.Helper()
	p := gpuPod(sr2NS, name, map[string]string{"batch.kubernetes.io/job-name": job.Name})
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: sr2Ptr(true)}}
	_, err := client.CoreV1().Pods(sr2NS).Create(context.Background(), p, metav1.CreateOptions{})
	require.NoError(t, err)
}

// sr2CreateWorkload creates the Workload Kueue would create for the Job and sets its
// Admitted condition through the status subresource.
func sr2CreateWorkload(t *testing.T, dyn dynamic.Interface, version, name string, job *batchv1.Job, admitted metav1.ConditionStatus) {
	t.Helper()
	c := sr2GPUContainer()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/" + version,
		"kind":       "Workload",
		"metadata": map[string]any{
			"name": name, "namespace": sr2NS,
			"ownerReferences": []any{map[string]any{"apiVersion": "batch/v1", "kind": "Job", "name": job.Name, "uid": string(job.UID), "controller": true}},
		},
		"spec": map[string]any{
			"queueName": "research",
			"podSets": []any{map[string]any{"name": "main", "count": int64(1), "template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers": []any{map[string]any{"name": c.Name, "image": c.Image,
					"resources": map[string]any{"limits": map[string]any{"nvidia.com/gpu": "1"}}}},
			}}}},
		},
	}}
	_, err := dyn.Resource(sr2WorkloadGVR(version)).Namespace(sr2NS).Create(context.Background(), u, metav1.CreateOptions{})
	require.NoError(t, err)
	sr2SetAdmitted(t, dyn, version, name, admitted)
}

func sr2SetAdmitted(t *testing.T, dyn dynamic.Interface, version, name string, admitted metav1.ConditionStatus) {
	t.Helper()
	ctx := context.Background()
	r := dyn.Resource(sr2WorkloadGVR(version)).Namespace(sr2NS)
	w, err := r.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	reason, msg := "Admitted", "The workload is admitted"
	if admitted != metav1.ConditionTrue {
		reason, msg = "Pending", "couldn't assign flavors to pod set main: insufficient quota for nvidia.com/gpu"
	}
	require.NoError(t, unstructured.SetNestedSlice(w.Object, []any{map[string]any{
		"type": "Admitted", "status": string(admitted), "reason": reason, "message": msg,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions"))
	_, err = r.UpdateStatus(ctx, w, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// sr2Gate is a validating admission webhook served by the test, standing in for Kyverno
// enforcing the gate's ClusterPolicy: it denies pods that request nvidia.com/gpu without a
// queue label, with Kyverno's message naming the policy and rule, and records what it was
// asked.
type sr2Gate struct {
	mu      sync.Mutex
	reviews []sr2Review
}

type sr2Review struct {
	name, generateName string
	probe              bool
	dryRun             bool
	allowed            bool
}

func (g *sr2Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	var pod corev1.Pod
	if err := json.Unmarshal(review.Request.Object.Raw, &pod); err != nil {
		http.Error(w, "not a pod", http.StatusBadRequest)
		return
	}
	gpus := false
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
			if q, ok := l["nvidia.com/gpu"]; ok && !q.IsZero() {
				gpus = true
			}
		}
	}
	allowed := !gpus || strings.TrimSpace(pod.Labels[sr2QueueLabel]) != ""
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: allowed}
	if !allowed {
		// Denied as Kyverno denies for the gate's ClusterPolicy (pkg/webhooks/utils/block.go
		// GetBlockedMessages): the admission probe counts only a denial naming the gate.
		name := pod.Name
		if name == "" {
			name = pod.GenerateName
		}
		resp.Result = &metav1.Status{Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden,
			Message: "\n\nresource Pod/" + review.Request.Namespace + "/" + name + " was blocked due to the following policies \n\n" +
				sr2Policy + ":\n  gpu-pods-need-a-queue: 'validation error: GPU pods need the label " + sr2QueueLabel +
				". rule gpu-pods-need-a-queue failed at path /metadata/labels/'\n"}
	}
	g.mu.Lock()
	g.reviews = append(g.reviews, sr2Review{name: pod.Name, generateName: pod.GenerateName,
		probe:  pod.Labels["enforcement-auditor.llm-platform.io/probe"] != "",
		dryRun: review.Request.DryRun != nil && *review.Request.DryRun, allowed: allowed})
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp})
}

func (g *sr2Gate) probeReviews() []sr2Review {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []sr2Review
	for _, r := range g.reviews {
		if r.probe {
			out = append(out, r)
		}
	}
	return out
}

// sr2StartGate serves the gate on 127.0.0.1 (httptest's self-signed certificate) and
// registers it for pod creates in the managed namespaces, failurePolicy Fail.
func sr2StartGate(t *testing.T) *sr2Gate {
	g := &sr2Gate{}
	mux := http.NewServeMux()
	mux.Handle("/validate", g)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close) // after the configuration is gone (cleanups run last first)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	fail, none := admissionregistrationv1.Fail, admissionregistrationv1.SideEffectClassNone
	_, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(context.Background(), &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: sr2GateWebhook},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "gpu-gate.it-sr2.example.com",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: sr2Ptr(srv.URL + "/validate"), CABundle: ca},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{sr2ManagedLabel: "true"}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          sr2Ptr(int32(5)),
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { sr2DeleteWebhookConfig(t, sr2GateWebhook) })
	return g
}

// sr2Readiness polls /readyz in the background and records every answer that is not 200.
type sr2Readiness struct {
	mu    sync.Mutex
	bad   []string
	count int
	stop  func()
}

func sr2WatchReadiness(t *testing.T, a *auditorProcess) *sr2Readiness {
	r := &sr2Readiness{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			code, body := a.get("/readyz")
			r.mu.Lock()
			r.count++
			if code != http.StatusOK {
				r.bad = append(r.bad, fmt.Sprintf("%s: %d %s", time.Now().Format(time.StampMilli), code, strings.TrimSpace(body)))
			}
			r.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	r.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(r.stop)
	return r
}

func (r *sr2Readiness) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func (r *sr2Readiness) polls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

func sr2Ptr[T any](v T) *T { return &v }
