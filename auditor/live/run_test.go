package live

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestRunJoinsEveryGoroutine runs the source with a CRD informer started by discovery
// and one stopped by it, ends its context, and requires that Run returned with every
// goroutine it started (factories, CRD informers, sync watchers) gone.
func TestRunJoinsEveryGoroutine(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	src, _, dyn := newFakeSource(t, nil)
	wl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload",
		"metadata": map[string]any{"name": "w", "namespace": "team"},
	}}
	_, err := dyn.Resource(workloadGVR).Namespace("team").Create(context.Background(), wl, metav1.CreateOptions{})
	require.NoError(t, err)
	setServed(src, []*metav1.APIResourceList{{GroupVersion: "kueue.x-k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}}})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	require.NoError(t, src.WaitForSync(ctx))
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return len(s.CustomObjects("kueue.x-k8s.io", "Workload")) == 1
	}, 3*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of its context ending")
	}
	goleak.VerifyNone(t, ignore)
}

// TestEveryTypedKindIsWatched holds the live source to the table of kinds: every
// built-in kind gets an informer, and its availability is reported.
func TestEveryTypedKindIsWatched(t *testing.T) {
	src, _, _ := newFakeSource(t, nil)
	ctx := runSource(t, context.Background(), src)
	require.NoError(t, src.WaitForSync(ctx))
	states := src.ResourceStates()
	for _, r := range auditor.Kinds {
		st, ok := states[r.ID]
		require.True(t, ok, "%s has no availability", r.ID)
		if r.Typed() {
			require.Equal(t, auditor.Synced, st.State, "%s: built-in kinds are watched from the start", r.ID)
		} else {
			require.Equal(t, auditor.NotServed, st.State, "%s: not in discovery", r.ID)
		}
	}
}

// TestWaitForSyncCoversTheFirstDiscovery: a one-off snapshot taken right after
// WaitForSync (scan without -f) holds the CRD kinds discovery shows, not only the
// built-in ones.
func TestWaitForSyncCoversTheFirstDiscovery(t *testing.T) {
	for i := 0; i < 3; i++ {
		src, _, dyn := newFakeSource(t, nil)
		src.disc.(*lockedDiscovery).delay = 300 * time.Millisecond // discovery slower than the sync poll
		wl := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload",
			"metadata": map[string]any{"name": "w", "namespace": "team"},
		}}
		_, err := dyn.Resource(workloadGVR).Namespace("team").Create(context.Background(), wl, metav1.CreateOptions{})
		require.NoError(t, err)
		setServed(src, []*metav1.APIResourceList{{GroupVersion: "kueue.x-k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}}})
		ctx := runSource(t, context.Background(), src)
		require.NoError(t, src.WaitForSync(ctx))
		s, err := src.Snapshot(time.Now())
		require.NoError(t, err)
		require.True(t, s.Visible(auditor.ResourceKueueWorkloads), "round %d: %v", i, s.AvailabilityOf(auditor.ResourceKueueWorkloads))
		require.Len(t, s.CustomObjects("kueue.x-k8s.io", "Workload"), 1, "round %d", i)
	}
}
