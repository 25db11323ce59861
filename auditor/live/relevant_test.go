package live

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

func cpuPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// TestStubPodsAreHiddenAndSilent: with KeepPod, a CPU pod is neither in snapshots nor
// an event; when it gains a waiver annotation it becomes both.
func TestStubPodsAreHiddenAndSilent(t *testing.T) {
	cs, dyn, meta := newFakeClients(t)
	var notified atomic.Int64
	src := NewForClients(cs, dyn, meta, Options{OnChange: func() { notified.Add(1) }, DiscoveryInterval: time.Hour,
		KeepPod: auditor.PodsRead(rules.All(auditor.DefaultConfig())), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	waitQuiet(&notified)
	src.Changes()
	before := notified.Load()

	p, err := cs.CoreV1().Pods("team").Create(ctx, cpuPod("team", "web"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, ok, _ := src.resources[auditor.ResourcePods].informer.GetStore().GetByKey("team/web")
		return ok
	}, 2*time.Second, 5*time.Millisecond)
	waitQuiet(&notified)
	assert.Equal(t, before, notified.Load(), "a stub's event wakes nobody")
	s, err := src.Snapshot(time.Now())
	require.NoError(t, err)
	assert.Empty(t, s.Pods)
	assert.Empty(t, src.Changes().Objects)

	p.Annotations = map[string]string{auditor.WaiveAnnotation: "gpu-pod-missing-queue-name"}
	p.ResourceVersion = "2"
	_, err = cs.CoreV1().Pods("team").Update(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return notified.Load() > before }, 2*time.Second, 5*time.Millisecond)
	s, err = src.Snapshot(time.Now())
	require.NoError(t, err)
	require.Len(t, s.Pods, 1, "with a waiver annotation the pod is read")
	assert.Equal(t, map[string]map[string]bool{auditor.ResourcePods: {"team": true}}, src.Changes().Objects)
}

// TestTransformKeepsNodeExtendedResources: the gate's GPU coverage reads extended
// resources from Node capacity and allocatable; the rest of the status is dropped.
func TestTransformKeepsNodeExtendedResources(t *testing.T) {
	l := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("1Ti"),
		"hugepages-2Mi": resource.MustParse("1Gi"), "nvidia.com/mig-1g.10gb": resource.MustParse("7")}
	n := &corev1.Node{Status: corev1.NodeStatus{Capacity: l, Allocatable: l.DeepCopy(), Images: []corev1.ContainerImage{{Names: []string{"x"}}}}}
	got := cached(t, nil, auditor.ResourceNodes, n).(*corev1.Node).Status
	want := corev1.ResourceList{"nvidia.com/mig-1g.10gb": resource.MustParse("7")}
	assert.Equal(t, want, got.Capacity)
	assert.Equal(t, want, got.Allocatable)
	assert.Empty(t, got.Images)
}
