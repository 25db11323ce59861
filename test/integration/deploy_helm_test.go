package integration

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// helmValueCases are the chart's values matrix (test/deploy renders the same cases and
// checks them offline): here every rendering is applied by server-side dry run.
var helmValueCases = map[string][]string{
	"defaults":             nil,
	"namespace":            {"namespace.create=true"},
	"probes":               {"probes.enabled=true"},
	"probes-per-namespace": {"probes.enabled=true", "probes.namespaces={team-a,team-b}"},
	"prometheus-operator":  {"prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true", "prometheusOperator.labels.release=kube-prometheus-stack"},
	"insecure-serving":     {"insecureServing=true", "prometheusOperator.serviceMonitor.enabled=true"},
	"tls-secret":           {"tls.secretName=auditor-tls", "prometheusOperator.serviceMonitor.enabled=true", "evidence.enabled=true"},
	"everything": {"probes.enabled=true", "prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true",
		"dashboards.enabled=true", "evidence.enabled=true", "leaderElection.enabled=true", "kyvernoHealth.enabled=true",
		"otlp.endpoint=http://otel-collector.observability.svc:4317", "networkPolicy.apiServer.cidrs={10.0.0.1/32}",
		"prometheusOperator.prometheusRule.fleetLabels={region,cluster}"},
}

func helmTemplate(t *testing.T, bin string, set []string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", "enforcement-auditor", filepath.Join(repoRoot(), "deploy", "helm", "enforcement-auditor"), "--namespace", "enforcement-auditor"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "helm"), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "helm %s: %s", strings.Join(args, " "), stderr.String())
	objs := decodeObjects(out)
	require.NotEmpty(t, objs)
	return objs
}

// TestHelmRendersAreValid applies every values case of the chart by server-side dry run.
func TestHelmRendersAreValid(t *testing.T) {
	bin := toolsBin(t)
	crds := installCRDs(t, promOperatorModule,
		"example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
		"example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml")
	defer uninstallCRDs(t, crds)
	for _, ns := range []string{"enforcement-auditor", "kyverno", "team-a", "team-b"} {
		ensureNamespace(t, ns)
	}
	for name, set := range helmValueCases {
		t.Run(name, func(t *testing.T) {
			apply(t, helmTemplate(t, bin, set), true)
		})
	}
}

// TestProbeCannotCreatePods: the probes component grants create on pods, and its
// ValidatingAdmissionPolicy takes every real create away from the auditor's account:
// before the policy a real create by that account succeeds (so the denial below is the
// policy's, not RBAC's); with it, the admission probe's dry run still passes and a real
// create is refused.
func TestProbeCannotCreatePods(t *testing.T) {
	bin := toolsBin(t)
	ctx := context.Background()
	ensureNamespace(t, "enforcement-auditor")
	ensureNamespace(t, "probe-target")
	var policy, others []*unstructured.Unstructured
	// Applied for real: the account and the probes' grant (nothing else, so other tests
	// see the cluster as they expect), removed at the end with the policy.
	for _, o := range render(t, bin, "deploy/examples/probes") {
		switch {
		case strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy"):
			policy = append(policy, o)
		case o.GetKind() == "ServiceAccount", o.GetName() == "enforcement-auditor-probes":
			others = append(others, o)
		}
	}
	require.Len(t, policy, 2, "the probes component ships the policy and its binding")
	require.Len(t, others, 3, "the ServiceAccount, the probes' ClusterRole and its binding")
	apply(t, others, false)
	defer deleteObjects(t, append(policy, others...))

	sa := clientAs(t, "enforcement-auditor", "enforcement-auditor")
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "probe-target"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}
	}
	_, err := sa.CoreV1().Pods("probe-target").Create(ctx, pod("before-policy"), metav1.CreateOptions{})
	require.NoError(t, err, "without the policy the RBAC grant is a real create")
	require.NoError(t, client.CoreV1().Pods("probe-target").Delete(ctx, "before-policy", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))

	apply(t, policy, false)
	// The API server loads a new policy asynchronously: poll until a real create is denied.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = sa.CoreV1().Pods("probe-target").Create(ctx, pod("real"), metav1.CreateOptions{})
		if err != nil || time.Now().After(deadline) {
			break
		}
		require.NoError(t, client.CoreV1().Pods("probe-target").Delete(ctx, "real", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))
		time.Sleep(200 * time.Millisecond)
	}
	require.Error(t, err, "a real pod create by the auditor's account must be denied")
	assert.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "denied by admission: %v", err)
	assert.Contains(t, err.Error(), "enforcement-auditor-probe-dry-run-only")

	_, err = sa.CoreV1().Pods("probe-target").Create(ctx, pod("dry-run"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	require.NoError(t, err, "the admission probe's dry run still passes")
	_, err = client.CoreV1().Pods("probe-target").Get(ctx, "dry-run", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "a dry run stores nothing")

	// Another account is not affected by the policy.
	_, err = client.CoreV1().Pods("probe-target").Create(ctx, pod("admin"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, client.CoreV1().Pods("probe-target").Delete(ctx, "admin", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}))
}

// clientAs returns a clientset authenticated with a fresh token of a ServiceAccount.
func clientAs(t *testing.T, namespace, name string) kubernetes.Interface {
	t.Helper()
	tr, err := client.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg := rest.AnonymousClientConfig(restConfig)
	cfg.BearerToken = tr.Status.Token
	return kubernetes.NewForConfigOrDie(cfg)
}

// deleteObjects deletes the cluster-scoped objects a test applied: neither the admission
// policy nor the create grant may outlive it (other tests check what that account can do).
func deleteObjects(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		var err error
		switch o.GetKind() {
		case "ValidatingAdmissionPolicy":
			err = client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
		case "ValidatingAdmissionPolicyBinding":
			err = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
		case "ClusterRole":
			err = client.RbacV1().ClusterRoles().Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
		case "ClusterRoleBinding":
			err = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), o.GetName(), metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}
