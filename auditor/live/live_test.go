package live

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var workloadGVR = schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: "v1beta1", Resource: "workloads"}

func newFakeClients(t *testing.T, objs ...runtime.Object) (*fake.Clientset, *dynfake.FakeDynamicClient, *metafake.FakeMetadataClient) {
	t.Helper()
	cs := fake.NewClientset(objs...)
	scheme := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(scheme))
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{workloadGVR: "WorkloadList"})
	return cs, dyn, metafake.NewSimpleMetadataClient(metafake.NewTestScheme())
}

func newFakeSource(t *testing.T, onChange func(), objs ...runtime.Object) (*Source, *fake.Clientset, *dynfake.FakeDynamicClient) {
	t.Helper()
	cs, dyn, meta := newFakeClients(t, objs...)
	src := NewForClients(cs, dyn, meta, Options{OnChange: onChange, DiscoveryInterval: 20 * time.Millisecond})
	src.disc = &lockedDiscovery{DiscoveryInterface: src.disc}
	return src, cs, dyn
}

// setServed changes what the fake discovery serves.
func setServed(src *Source, r []*metav1.APIResourceList) { src.disc.(*lockedDiscovery).set(r) }

func TestSourceSyncsStripsAndSnapshots(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team", Labels: map[string]string{"a": "b"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
			Annotations:   map[string]string{auditor.LastAppliedAnnotation: "{...}", "keep": "me"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img", Env: []corev1.EnvVar{{Name: "TOKEN", Value: "x"}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady}}},
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	src, cs, _ := newFakeSource(t, nil, pod, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))

	snap, err := src.Snapshot(time.Now())
	require.NoError(t, err)
	require.Len(t, snap.Pods, 1)
	got := snap.Pods[0]
	assert.Nil(t, got.ManagedFields, "managedFields stripped")
	assert.NotContains(t, got.Annotations, auditor.LastAppliedAnnotation)
	assert.Equal(t, "me", got.Annotations["keep"])
	assert.Empty(t, got.Spec.Containers[0].Env, "fields no rule reads are dropped")
	assert.Empty(t, got.Spec.Containers[0].Image)
	assert.Equal(t, int64(1), got.Spec.Containers[0].Resources.Limits.Name("nvidia.com/gpu", resource.DecimalSI).Value())
	assert.Equal(t, corev1.PodRunning, got.Status.Phase)
	assert.Empty(t, got.Status.Conditions)
	assert.NotNil(t, snap.Namespace("team"))
	assert.Equal(t, auditor.NotServed, snap.AvailabilityOf(auditor.ResourceKueueWorkloads).State, "CRD kinds not in discovery are not served")

	// An event after sync shows in the next snapshot.
	_, err = cs.CoreV1().Pods("team").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "team"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return len(s.Pods) == 2
	}, 2*time.Second, 10*time.Millisecond)
}

func TestSourceCallsOnChange(t *testing.T) {
	changes := make(chan struct{}, 100)
	src, cs, _ := newFakeSource(t, func() { changes <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	for len(changes) > 0 {
		<-changes
	}
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	select {
	case <-changes:
	case <-time.After(2 * time.Second):
		t.Fatal("no change notification for a new namespace")
	}
}

func TestSourceStartsAndStopsCRDInformersWithDiscovery(t *testing.T) {
	src, _, dyn := newFakeSource(t, nil)
	wl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload",
		"metadata": map[string]any{"name": "w", "namespace": "team"},
	}}
	_, err := dyn.Resource(workloadGVR).Namespace("team").Create(context.Background(), wl, metav1.CreateOptions{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))

	// Kueue appears in discovery: its informer starts without a restart.
	setServed(src, []*metav1.APIResourceList{{GroupVersion: "kueue.x-k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}}})
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return s.Visible(auditor.ResourceKueueWorkloads) && len(s.CustomObjects("kueue.x-k8s.io", "Workload")) == 1
	}, 3*time.Second, 10*time.Millisecond)

	// Kueue is uninstalled: the informer stops and the resource is not served.
	setServed(src, nil)
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return s.AvailabilityOf(auditor.ResourceKueueWorkloads).State == auditor.NotServed && len(s.CustomObjects("kueue.x-k8s.io", "Workload")) == 0
	}, 3*time.Second, 10*time.Millisecond)
}

func TestSourceForbiddenResourceDoesNotBlockSync(t *testing.T) {
	src, cs, _ := newFakeSource(t, nil)
	cs.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrorsForbidden("configmaps")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
	defer scancel()
	require.NoError(t, src.WaitForSync(sctx), "a forbidden resource must not block readiness")
	snap, err := src.Snapshot(time.Now())
	require.NoError(t, err)
	assert.Equal(t, auditor.Forbidden, snap.AvailabilityOf(auditor.ResourceConfigMaps).State)
	assert.Equal(t, auditor.Synced, snap.AvailabilityOf(auditor.ResourcePods).State)
	assert.Positive(t, src.ListWatchErrors()[auditor.ResourceConfigMaps])
}
