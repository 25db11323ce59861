package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/probe"
	"github.com/llm-platform/enforcement-auditor/rules/sr2"
)

// gateVAP is a ValidatingAdmissionPolicy on pod creates in Kueue-managed namespaces with
// one validation.
func gateVAP(name, validation string) *admissionv1.ValidatingAdmissionPolicy {
	return scopedVAP(name, "llm-platform/kueue-managed", validation)
}

// scopedVAP is gateVAP matching namespaces labelled key=true.
func scopedVAP(name, key, validation string) *admissionv1.ValidatingAdmissionPolicy {
	fail := admissionv1.Fail
	return &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "true"}},
				ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				}}},
			},
			Validations: []admissionv1.Validation{{Expression: validation, Message: "GPU pods need a queue"}},
		},
	}
}

const (
	gpuContainers = "(object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : []))"
	isGPU         = "(r.startsWith('nvidia.com/') || r == 'amd.com/gpu')"
	queued        = "(has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels && object.metadata.labels['kueue.x-k8s.io/queue-name'] != '')"
)

// The gate variants of the differential test: the documented one, the same inverted,
// thresholded, and one that lets a label any tenant sets through.
var gateVariants = map[string]string{
	"documented":   "!" + gpuContainers + ".exists(c, has(c.resources.limits) && c.resources.limits.exists(r, " + isGPU + ")) || " + queued,
	"inverted":     "!" + gpuContainers + ".exists(c, has(c.resources.limits) && c.resources.limits.exists(r, " + isGPU + ")) || !" + queued,
	"thresholded":  "!" + gpuContainers + ".exists(c, has(c.resources.limits) && c.resources.limits.exists(r, " + isGPU + " && int(c.resources.limits[r]) > 1000000)) || " + queued,
	"tenant-label": "!" + gpuContainers + ".exists(c, has(c.resources.limits) && c.resources.limits.exists(r, " + isGPU + ")) || " + queued + " || (has(object.metadata.labels) && 'gpu.example.com/skip-queue' in object.metadata.labels)",
}

// TestGateBatteryDifferential sends every request of the battery as a dry-run create
// through kube-apiserver's own admission (a ValidatingAdmissionPolicy gate and its Deny
// binding) into a Kueue-managed namespace, and requires the same allow/deny per request
// as the auditor's offline evaluation, for each gate variant. Requests the battery marks
// invalid must be rejected by the API server's validation (422), before admission.
func TestGateBatteryDifferential(t *testing.T) {
	ctx := context.Background()
	cfg := auditor.DefaultConfig()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "battery-gpu", Labels: map[string]string{"llm-platform/kueue-managed": "true"}}}
	_, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}) })
	ns, err = client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
	require.NoError(t, err)
	waitDefaultServiceAccount(t, ns.Name)

	for _, variant := range []string{"documented", "inverted", "thresholded", "tenant-label"} {
		t.Run(variant, func(t *testing.T) {
			vap := gateVAP("battery-gate-"+variant, gateVariants[variant])
			_, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, vap, metav1.CreateOptions{})
			require.NoError(t, err)
			binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: vap.Name},
				Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: vap.Name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
			_, err = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{})
			require.NoError(t, err)
			t.Cleanup(func() {
				_ = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
				_ = client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, vap.Name, metav1.DeleteOptions{})
			})
			cases := sr2.EvaluateAdmissionPolicy(cfg, vap, ns)
			waitPolicyActive(t, ns.Name, vap.Name, cases)

			var checked, denied, invalid int
			for _, c := range cases {
				pod := c.Pod.DeepCopy()
				_, err := client.CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
				if c.Invalid != "" {
					require.Error(t, err, "%s: the battery says the API server rejects it in validation", c.Description)
					assert.True(t, apierrors.IsInvalid(err), "%s: want a validation error (422), got %v", c.Description, err)
					t.Logf("%s: %v", c.ID, err)
					invalid++
					continue
				}
				require.Empty(t, c.Unjudged, c.Description)
				gotDenied := err != nil
				if err != nil {
					require.Contains(t, err.Error(), "ValidatingAdmissionPolicy '"+vap.Name+"'", "%s: denied by something else: %v", c.Description, err)
					denied++
				}
				assert.Equal(t, c.Denied, gotDenied, "%s: offline %v (%s), API server denied=%v (%v)", c.Description, c.Denied, c.Why, gotDenied, err)
				checked++
			}
			t.Logf("%s: %d requests agree (%d denied), %d rejected by validation", variant, checked, denied, invalid)
			require.NotZero(t, checked)
		})
	}
}

// waitPolicyActive waits until the API server enforces the policy: its answer on the
// first valid battery request matches the offline one (a new policy takes a moment to
// reach the admission plugin).
func waitPolicyActive(t *testing.T, ns, name string, cases []sr2.BatteryCase) {
	t.Helper()
	for _, c := range cases {
		if c.Invalid != "" || !c.Denied {
			continue
		}
		require.Eventually(t, func() bool {
			_, err := client.CoreV1().Pods(ns).Create(context.Background(), c.Pod.DeepCopy(), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err != nil && strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+name+"'")
		}, 30*time.Second, 200*time.Millisecond, "policy %s never denied %s", name, c.Description)
		return
	}
	// The variant denies nothing the battery holds: give the plugin time to load it.
	time.Sleep(3 * time.Second)
}

func waitDefaultServiceAccount(t *testing.T, ns string) {
	t.Helper()
	// No controller-manager runs: the ServiceAccount admission plugin would reject pods
	// waiting for "default", so create it.
	_, err := client.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// TestAdmissionProbeSeesTheGatesOwnDenial: the prober on a real API server. A probe pod
// denied only by an unrelated ValidatingAdmissionPolicy (an image-registry rule) leaves
// the gate unverified ("inconclusive: denied by ..."); denied by the gate, it verifies.
func TestAdmissionProbeSeesTheGatesOwnDenial(t *testing.T) {
	ctx := context.Background()
	// Its own namespace label keeps the differential test's policies out of its way.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "probe-gpu", Labels: map[string]string{"probe-test": "true"}}}
	_, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}) })
	waitDefaultServiceAccount(t, ns.Name)

	bind := func(vap *admissionv1.ValidatingAdmissionPolicy) func() {
		_, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, vap, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: vap.Name},
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: vap.Name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}, metav1.CreateOptions{})
		require.NoError(t, err)
		return func() {
			_ = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, vap.Name, metav1.DeleteOptions{})
			_ = client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, vap.Name, metav1.DeleteOptions{})
		}
	}
	prober, err := probe.NewAdmissionProber(probe.AdmissionProberOptions{Client: client, GatePolicies: []string{"probe-gate"},
		Namespaces: func(context.Context) ([]string, error) { return []string{ns.Name}, nil }})
	require.NoError(t, err)
	probeOnce := func(want func(auditor.AdmissionProbeResult) bool) auditor.AdmissionProbeResult {
		var last auditor.AdmissionProbeResult
		require.Eventually(t, func() bool {
			res, err := prober.Probe(ctx)
			if err != nil || len(res) != 1 {
				return false
			}
			last = res[0]
			return want(last)
		}, 30*time.Second, 200*time.Millisecond, "last result: %+v", last)
		return last
	}

	// Only an unrelated policy: pods must come from registry.internal.
	unbind := bind(scopedVAP("image-registries", "probe-test", "object.spec.containers.all(c, c.image.startsWith('registry.internal/'))"))
	r := probeOnce(func(r auditor.AdmissionProbeResult) bool {
		return strings.Contains(r.Error, "image-registries") || r.DeniedBy != ""
	})
	assert.Empty(t, r.DeniedBy)
	assert.True(t, strings.HasPrefix(r.Error, probe.Inconclusive+"denied by ValidatingAdmissionPolicy image-registries (binding image-registries), not by the gate (probe-gate)"), r.Error)
	unbind()

	// The gate itself.
	defer bind(scopedVAP("probe-gate", "probe-test", gateVariants["documented"]))()
	r = probeOnce(func(r auditor.AdmissionProbeResult) bool { return r.DeniedBy != "" || r.Admitted })
	assert.Empty(t, r.Error)
	assert.Contains(t, r.DeniedBy, "ValidatingAdmissionPolicy 'probe-gate' with binding 'probe-gate' denied request")
}
