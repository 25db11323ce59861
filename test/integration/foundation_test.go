package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func gpuPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "trainer", Image: "registry.example/trainer:1",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
		}}},
	}
}

func createNamespace(t testing.TB, name string, labels map[string]string) {
	t.Helper()
	_, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// TestFoundationGPUPodEndToEnd: an unlabelled GPU pod in a managed namespace shows on
// /metrics within 2 seconds, resolves when deleted, and SIGTERM stops the daemon cleanly.
func TestFoundationGPUPodEndToEnd(t *testing.T) {
	ctx := context.Background()
	a := startAuditor(t)
	createNamespace(t, "it-foundation", map[string]string{"llm-platform/kueue-managed": "true"})

	_, err := client.CoreV1().Pods("it-foundation").Create(ctx, gpuPod("it-foundation", "unlabelled", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	series := findingSeries("gpu-pod-missing-queue-name", "it-foundation", "Pod", "unlabelled")
	a.waitMetric(t, 2*time.Second, series)
	a.waitMetric(t, time.Second, `enforcement_auditor_findings\{control="SR2",rule="gpu-pod-missing-queue-name",severity="high"\} [1-9]`)

	// A pod with the queue label is no finding for this rule.
	_, err = client.CoreV1().Pods("it-foundation").Create(ctx, gpuPod("it-foundation", "labelled", map[string]string{"kueue.x-k8s.io/queue-name": "research"}), metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, client.CoreV1().Pods("it-foundation").Delete(ctx, "unlabelled", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	a.waitNoMetric(t, 2*time.Second, series)
	require.NotRegexp(t, findingSeries("gpu-pod-missing-queue-name", "it-foundation", "Pod", "labelled"), a.metrics(t))

	code, _ := a.get("/healthz")
	require.Equal(t, 200, code)
	a.stop(t, 15*time.Second)
	require.Contains(t, a.Logs(), `"msg":"stopped"`)
}
