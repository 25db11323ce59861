package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/llm-platform/enforcement-auditor/probe"
)

// renderOverlay writes a kustomize overlay (kustomization.yaml) into a temporary
// directory, its paths relative to the repository root, and renders it.
func renderOverlay(t *testing.T, bin, kustomization string) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, repoRoot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(strings.ReplaceAll(kustomization, "ROOT", rel)), 0o600))
	out, err := exec.Command(filepath.Join(bin, "kustomize"), "build", dir).Output()
	var stderr string
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = string(ee.Stderr)
	}
	require.NoError(t, err, "kustomize build: %s", stderr)
	objs := decodeObjects(out)
	return objs
}

// saKubeconfig writes a kubeconfig that authenticates with a fresh token of a ServiceAccount.
func saKubeconfig(t *testing.T, namespace, name string) string {
	t.Helper()
	cfg := saRESTConfig(t, namespace, name)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["it"] = &clientcmdapi.Cluster{Server: restConfig.Host, CertificateAuthorityData: restConfig.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["it"] = &clientcmdapi.Context{Cluster: "it", AuthInfo: "sa"}
	kc.CurrentContext = "it"
	path := filepath.Join(t.TempDir(), "sa.kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, path))
	return path
}

// TestProbeGuardFollowsNamespace: an overlay that installs the auditor in another
// namespace (`namespace: security-tools`) with the probes component, rendered by the
// pinned kustomize and applied for real: the guard's binding names the ServiceAccount
// where it now lives, a real pod create by that account is denied and its dry run
// passes. The daemon, running as that account with --probe-admission, finds its guard
// and probes; with the guard's binding deleted it refuses to probe and says so (the
// probe's rule inconclusive, the namespace's probe result "error"); with the binding
// back it probes again; so too when the policy itself goes and comes back.
func TestProbeGuardFollowsNamespace(t *testing.T) {
	bin := toolsBin(t)
	ctx := context.Background()
	const ns, sa = "security-tools", "enforcement-auditor"
	objs := renderOverlay(t, bin, `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: security-tools
resources:
  - ROOT/deploy/base
components:
  - ROOT/deploy/components/probes
`)
	var setup, rbac, policy []*unstructured.Unstructured
	var binding *unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "Namespace", "ServiceAccount":
			setup = append(setup, o)
		case "ClusterRole", "ClusterRoleBinding":
			rbac = append(rbac, o)
		case "ValidatingAdmissionPolicy":
			policy = append(policy, o)
		case "ValidatingAdmissionPolicyBinding":
			policy = append(policy, o)
			binding = o
		}
	}
	require.Len(t, policy, 2, "the probes component ships the guard policy and its binding")
	paramNS, _, _ := unstructured.NestedString(binding.Object, "spec", "paramRef", "namespace")
	paramName, _, _ := unstructured.NestedString(binding.Object, "spec", "paramRef", "name")
	assert.Equal(t, [2]string{ns, sa}, [2]string{paramNS, paramName}, "the guard names the ServiceAccount where the overlay put it")
	for _, o := range rbac {
		if o.GetKind() != "ClusterRoleBinding" {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		require.Len(t, subjects, 1, o.GetName())
		assert.Equal(t, ns, subjects[0].(map[string]any)["namespace"], "%s follows the ServiceAccount", o.GetName())
	}

	apply(t, setup, false)
	apply(t, rbac, false)
	defer deleteObjects(t, append(rbac, policy...))
	target := "it-guard-target"
	createNamespace(t, target, map[string]string{"llm-platform/kueue-managed": "true"})

	as := clientAs(t, ns, sa)
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: target},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}
	}
	// Before the policy the grant is a real create (so the denial below is the policy's).
	_, err := as.CoreV1().Pods(target).Create(ctx, pod("before-policy"), metav1.CreateOptions{})
	require.NoError(t, err, "without the policy the RBAC grant is a real create")
	require.NoError(t, client.CoreV1().Pods(target).Delete(ctx, "before-policy", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))

	apply(t, policy, false)
	// The API server loads a new policy (and its parameter) asynchronously: poll.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = as.CoreV1().Pods(target).Create(ctx, pod("real"), metav1.CreateOptions{})
		if err != nil || time.Now().After(deadline) {
			break
		}
		require.NoError(t, client.CoreV1().Pods(target).Delete(ctx, "real", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))
		time.Sleep(200 * time.Millisecond)
	}
	require.Error(t, err, "a real pod create by system:serviceaccount:%s:%s must be denied", ns, sa)
	assert.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "denied by admission: %v", err)
	assert.Contains(t, err.Error(), probe.GuardPolicyName)
	_, err = as.CoreV1().Pods(target).Create(ctx, pod("dry-run"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err, "the admission probe's dry run passes")
	// Another account is not affected.
	_, err = client.CoreV1().Pods(target).Create(ctx, pod("admin"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, client.CoreV1().Pods(target).Delete(ctx, "admin", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))

	// The daemon as that account: it finds its guard and probes.
	a := startAuditor(t, "--kubeconfig", saKubeconfig(t, ns, sa), "--probe-admission", "--probe-interval", "1s")
	result := func(r string) string {
		return fmt.Sprintf(`enforcement_auditor_admission_probe_result\{namespace="%s",result="%s"\} 1`, target, r)
	}
	a.waitMetric(t, 60*time.Second, result("(admitted|denied)"))
	assert.NotContains(t, a.Logs(), "admission probe refused")

	// The guard's binding goes: the daemon refuses to probe and says so.
	require.NoError(t, client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, binding.GetName(), metav1.DeleteOptions{}))
	a.waitMetric(t, 30*time.Second, result("error"))
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_rule_inconclusive\{control="SR2",rule="gpu-gate-bypassed"\} 1`)
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_findings\{control="SR2",rule="admission-probe-unguarded",severity="high"\} 1`)
	assert.Contains(t, a.Logs(), "admission probe refused")
	assert.Contains(t, a.Logs(), "guard ValidatingAdmissionPolicy "+probe.GuardPolicyName+" has no binding")

	// The binding is back: the daemon probes again.
	apply(t, []*unstructured.Unstructured{binding}, false)
	a.waitMetric(t, 30*time.Second, result("(admitted|denied)"))
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_rule_inconclusive\{control="SR2",rule="gpu-gate-bypassed"\} 0`)
	a.waitMetric(t, 10*time.Second, `enforcement_auditor_findings\{control="SR2",rule="admission-probe-unguarded",severity="high"\} 0`)

	// The policy goes (the binding stays, pointing at nothing): refused again, then back.
	require.NoError(t, client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, probe.GuardPolicyName, metav1.DeleteOptions{}))
	a.waitMetric(t, 30*time.Second, result("error"))
	assert.Contains(t, a.Logs(), "guard ValidatingAdmissionPolicy "+probe.GuardPolicyName+" not found")
	apply(t, policy, false)
	a.waitMetric(t, 30*time.Second, result("(admitted|denied)"))
	a.stop(t, 15*time.Second)
}
