package integration

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// The gate's coverage graded by what the cluster's Nodes offer, and Kyverno
// PolicyExceptions (the upstream kyverno.io CRD) honoured as the admission controller's
// flags say, on a real API server.

const (
	gateNS        = "it-gate-gpu"
	gateKyvernoNS = "it-gate-kyverno"
	gatePolicy    = "it-gate-require-queue"
	gateNode      = "it-gate-node-1"
	gateWait      = 15 * time.Second
)

const gateConfig = `apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
sr2:
  kueueManagedNamespaceSelector:
    matchLabels: {"it-gate/kueue-managed": "true"}
  gpuResources: [nvidia.com/gpu, nvidia.com/mig-*]
  gatePolicyNames: [it-gate-require-queue]
  kyvernoNamespace: it-gate-kyverno
`

func TestGateCoverageFromNodesAndPolicyExceptions(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(restConfig)
	crds := installCRDs(t, kyvernoModule, "config/crds/kyverno/kyverno.io_clusterpolicies.yaml", "config/crds/kyverno/kyverno.io_policyexceptions.yaml")
	t.Cleanup(func() { uninstallCRDs(t, crds) })

	createNamespace(t, gateNS, map[string]string{"it-gate/kueue-managed": "true", "llm-platform/kueue-managed": "true"})
	createNamespace(t, gateKyvernoNS, nil)
	t.Cleanup(func() { sr2Unmanage(t, gateNS) })

	// The seed's gate: it names nvidia.com/gpu only.
	policy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": map[string]any{"name": gatePolicy},
		"spec": map[string]any{
			"webhookConfiguration": map[string]any{"failurePolicy": "Fail"},
			"rules": []any{map[string]any{
				"name": "gpu-pods-need-a-queue",
				"match": map[string]any{"any": []any{map[string]any{"resources": map[string]any{
					"kinds": []any{"Pod"}, "operations": []any{"CREATE"},
					"namespaceSelector": map[string]any{"matchLabels": map[string]any{"it-gate/kueue-managed": "true"}},
				}}}},
				// Init containers and DRA claims are denied too, so the only coverage gap left is
				// the MIG one.
				"validate": map[string]any{"failureAction": "Enforce", "deny": map[string]any{"conditions": map[string]any{"any": []any{
					map[string]any{"key": "{{ request.object.spec.[containers, initContainers][][].resources.limits.\"nvidia.com/gpu\" || `[]` | length(@) }}", "operator": "GreaterThan", "value": 0},
					map[string]any{"key": "{{ request.object.spec.resourceClaims || `[]` | length(@) }}", "operator": "GreaterThan", "value": 0},
				}, "all": []any{
					map[string]any{"key": "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}", "operator": "Equals", "value": ""},
				}}}},
			}},
		},
	}}
	created, err := dyn.Resource(sr2PolicyGVR).Create(ctx, policy, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedSlice(created.Object, []any{map[string]any{
		"type": "Ready", "status": "True", "reason": "Succeeded", "message": "Ready",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions"))
	_, err = dyn.Resource(sr2PolicyGVR).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = dyn.Resource(sr2PolicyGVR).Delete(ctx, gatePolicy, metav1.DeleteOptions{})
	})

	// A Node offering only nvidia.com/gpu; status through the status subresource.
	_, err = client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: gateNode}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Nodes().Delete(context.Background(), gateNode, metav1.DeleteOptions{}) })
	setCapacity := func(res corev1.ResourceList) {
		t.Helper()
		n, err := client.CoreV1().Nodes().Get(ctx, gateNode, metav1.GetOptions{})
		require.NoError(t, err)
		n.Status.Capacity, n.Status.Allocatable = res, res.DeepCopy()
		_, err = client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	setCapacity(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), "nvidia.com/gpu": resource.MustParse("8")})

	cfgFile := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(gateConfig), 0o600))
	a := startAuditor(t, "--config", cfgFile)
	series := func(rule, severity string, n int) *regexp.Regexp {
		return regexp.MustCompile(`enforcement_auditor_findings\{control="SR2",rule="` + rule + `",severity="` + severity + `"\} ` + strconv.Itoa(n) + `\n`)
	}
	wait := func(t *testing.T, res ...*regexp.Regexp) {
		t.Helper()
		var body string
		if !assertEventually(gateWait, func() bool {
			body = a.metrics(t)
			for _, re := range res {
				if !re.MatchString(body) {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("within %s, want %v; metrics:\n%s", gateWait, res, grepLines(body, "enforcement_auditor_findings{control=\"SR2\""))
		}
	}

	t.Run("Nodes offering only nvidia.com/gpu: the MIG gap is hardening", func(t *testing.T) {
		wait(t, series("gpu-gate-policy-not-enforcing", "low", 1), series("gpu-gate-policy-not-enforcing", "critical", 0))
	})
	t.Run("a Node offering MIG slices makes it critical", func(t *testing.T) {
		setCapacity(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), "nvidia.com/mig-1g.10gb": resource.MustParse("7")})
		wait(t, series("gpu-gate-policy-not-enforcing", "critical", 1), series("gpu-gate-policy-not-enforcing", "low", 0))
		setCapacity(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), "nvidia.com/gpu": resource.MustParse("8")})
		wait(t, series("gpu-gate-policy-not-enforcing", "low", 1))
	})

	// Kyverno's admission controller with exceptions enabled from its own namespace, and an
	// exception (the upstream v2 CRD) exempting the gate's rule for the managed namespace.
	labels := map[string]string{"app.kubernetes.io/component": "admission-controller", "app.kubernetes.io/part-of": "kyverno"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: gateKyvernoNS, Name: "kyverno-admission-controller", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "kyverno", Image: "ghcr.io/kyverno/kyverno:v1.15.2",
				Args: []string{"--enablePolicyException=true", "--exceptionNamespace=" + gateKyvernoNS},
			}}}},
		},
	}
	_, err = client.AppsV1().Deployments(gateKyvernoNS).Create(ctx, deploy, metav1.CreateOptions{})
	require.NoError(t, err)
	polex := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v2", "kind": "PolicyException",
		"metadata": map[string]any{"namespace": gateKyvernoNS, "name": "debug-gpu"},
		"spec": map[string]any{
			"exceptions": []any{map[string]any{"policyName": gatePolicy, "ruleNames": []any{"gpu-pods-*"}}},
			"match":      map[string]any{"any": []any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}, "namespaces": []any{gateNS}}}}},
		},
	}}
	_, err = dyn.Resource(schema.GroupVersionResource{Group: "kyverno.io", Version: "v2", Resource: "policyexceptions"}).Namespace(gateKyvernoNS).Create(ctx, polex, metav1.CreateOptions{})
	require.NoError(t, err, "the upstream PolicyException CRD accepts the exception")

	t.Run("an enabled exception for the managed namespace is a bypass", func(t *testing.T) {
		wait(t, series("gpu-gate-policy-exception", "critical", 1))
	})
	t.Run("exceptions disabled by the Deployment's flags: no finding", func(t *testing.T) {
		d, err := client.AppsV1().Deployments(gateKyvernoNS).Get(ctx, deploy.Name, metav1.GetOptions{})
		require.NoError(t, err)
		d.Spec.Template.Spec.Containers[0].Args = nil // v1.15 defaults --enablePolicyException to false
		_, err = client.AppsV1().Deployments(gateKyvernoNS).Update(ctx, d, metav1.UpdateOptions{})
		require.NoError(t, err)
		wait(t, series("gpu-gate-policy-exception", "critical", 0))
	})
}
