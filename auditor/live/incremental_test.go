package live

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

var _ engine.IncrementalSource = (*Source)(nil)

// workloadCount is how many Workloads a synthetic cluster holds, the platform's included.
func workloadCount(c *synth.Cluster) int {
	n := 0
	for _, u := range c.CustomObjects() {
		if u.GetKind() == "Workload" {
			n++
		}
	}
	return n
}

// syntheticSource serves a synthetic cluster from fake clients (synth.Cluster.FakeClients);
// onChange counts the source's notifications.
func syntheticSource(t testing.TB, c *synth.Cluster, onChange func()) (*Source, *fake.Clientset, *dynfake.FakeDynamicClient) {
	t.Helper()
	cs, dyn, meta, err := c.FakeClients()
	require.NoError(t, err)
	src := NewForClients(cs, dyn, meta, Options{OnChange: onChange, DiscoveryInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return src, cs, dyn
}

// TestLiveIncrementalEqualsFull drives the real source (informers, event handlers,
// namespace indexes) with random pod and Workload events and checks after each one that
// the runner's incremental evaluation equals a full evaluation of the source's
// snapshot.
func TestLiveIncrementalEqualsFull(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 200})
	require.NoError(t, err)
	var notified atomic.Int64
	src, cs, dyn := syntheticSource(t, c, func() { notified.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return s.Visible(auditor.ResourceKueueWorkloads) && s.Visible(auditor.ResourceJobs) && len(s.CustomObjects("kueue.x-k8s.io", "Workload")) == workloadCount(c)
	}, 5*time.Second, 10*time.Millisecond)

	waitQuiet(&notified)

	cfg := auditor.DefaultConfig()
	rs := rules.All(cfg)
	st := store.New()
	now := c.Now
	r := engine.NewRunner(engine.Options{Rules: rs, Source: src, Store: st, Now: func() time.Time { return now },
		WaiverMaxDuration: cfg.Waivers.MaxDuration.Duration, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r.EvaluateNow()

	rng := rand.New(rand.NewPCG(3, 4))
	var created []*corev1.Pod
	partials := 0
	for step := 0; step < 60; step++ {
		before := notified.Load()
		ns := synth.TenantNamespace(rng.IntN(len(c.Namespaces)))
		what := ""
		switch k := rng.IntN(4); {
		case k < 2 || len(created) == 0:
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("ev-%d", step), UID: types.UID("ev-" + runtimeUID(step)), Labels: map[string]string{}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
					Limits: corev1.ResourceList{synth.GPUResource: resource.MustParse("1")}}}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning}}
			if rng.IntN(2) == 0 {
				p.Labels[synth.QueueLabel] = "research"
			}
			_, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			require.NoError(t, err)
			created = append(created, p)
			what = "create " + ns + "/" + p.Name
		case k == 2:
			i := rng.IntN(len(created))
			p := created[i]
			created = append(created[:i], created[i+1:]...)
			require.NoError(t, cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}))
			what = "delete " + p.Namespace + "/" + p.Name
		default:
			w := c.Workloads[rng.IntN(len(c.Workloads))]
			cur, err := dyn.Resource(synth.WorkloadGVR).Namespace(w.GetNamespace()).Get(ctx, w.GetName(), metav1.GetOptions{})
			require.NoError(t, err)
			conds, _, _ := unstructured.NestedSlice(cur.Object, "status", "conditions")
			cond := conds[0].(map[string]any)
			cond["status"] = map[bool]string{true: "False", false: "True"}[cond["status"] == "True"]
			require.NoError(t, unstructured.SetNestedSlice(cur.Object, conds, "status", "conditions"))
			cur.SetResourceVersion(fmt.Sprintf("%d", 1000+step))
			_, err = dyn.Resource(synth.WorkloadGVR).Namespace(w.GetNamespace()).Update(ctx, cur, metav1.UpdateOptions{})
			require.NoError(t, err)
			what = "flip Workload " + w.GetNamespace() + "/" + w.GetName()
		}
		require.Eventually(t, func() bool { return notified.Load() > before }, 5*time.Second, time.Millisecond, "step %d (%s): no event", step, what)
		r.EvaluateNow()
		got := r.Last()
		if got.Namespaces != nil {
			partials++
		}
		snap, err := src.Snapshot(now)
		require.NoError(t, err)
		want := engine.Evaluate(rs, snap, cfg.Waivers.MaxDuration.Duration)
		require.Equal(t, want.Findings, got.Findings, "step %d (%s): findings", step, what)
		require.Equal(t, want.Facts, got.Facts, "step %d (%s): facts", step, what)
		require.Equal(t, want.Controls, got.Controls, "step %d (%s): controls", step, what)
		require.Equal(t, want.Inconclusive, got.Inconclusive, "step %d (%s): inconclusive", step, what)
		require.Len(t, got.Snapshot.Pods, len(snap.Pods), "step %d (%s)", step, what)
	}
	assert.Greater(t, partials, 50, "pod and Workload events are evaluated incrementally")
}

func runtimeUID(i int) string { return fmt.Sprintf("%08d", i) }

// waitQuiet waits until no notification arrived for 100ms: informers that discovery
// started announce their sync from their own goroutines, after the caches are visible.
func waitQuiet(n *atomic.Int64) {
	for last := n.Load(); ; {
		time.Sleep(100 * time.Millisecond)
		cur := n.Load()
		if cur == last {
			return
		}
		last = cur
	}
}

// TestSourceRecordsChanges: object events are recorded by resource and namespace; a
// resource starting to be watched is a full change.
func TestSourceRecordsChanges(t *testing.T) {
	src, cs, _ := newFakeSource(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	src.Changes()
	_, err := cs.CoreV1().Pods("team").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "team"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// The informer updates its store before it notifies handlers: the change may be
	// recorded a moment after a snapshot shows the pod, so collect until it is.
	got := map[string]map[string]bool{}
	full := false
	require.Eventually(t, func() bool {
		cs := src.Changes()
		full = full || cs.Full
		for res, nss := range cs.Objects {
			if got[res] == nil {
				got[res] = map[string]bool{}
			}
			for ns := range nss {
				got[res][ns] = true
			}
		}
		return got[auditor.ResourcePods]["team"]
	}, 2*time.Second, 5*time.Millisecond)
	assert.False(t, full)
	assert.Equal(t, map[string]map[string]bool{auditor.ResourcePods: {"team": true}}, got)
	assert.Empty(t, src.Changes().Objects, "changes are drained")

	setServed(src, []*metav1.APIResourceList{{GroupVersion: "kueue.x-k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}}})
	require.Eventually(t, func() bool { return src.Changes().Full }, 3*time.Second, 10*time.Millisecond, "a new informer is a full change")
}

// TestPartialSnapshotReadsOneNamespace: namespaced objects of the asked namespaces only,
// every cluster-scoped object.
func TestPartialSnapshotReadsOneNamespace(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 100})
	require.NoError(t, err)
	src, _, _ := syntheticSource(t, c, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	require.Eventually(t, func() bool {
		s, _ := src.Snapshot(time.Now())
		return len(s.CustomObjects("kueue.x-k8s.io", "Workload")) == workloadCount(c) && len(s.Owners) > 0
	}, 5*time.Second, 10*time.Millisecond)
	ns := synth.TenantNamespace(2)
	p, err := src.PartialSnapshot(time.Now(), []string{ns})
	require.NoError(t, err)
	assert.Len(t, p.Pods, synth.PodsPerNamespace)
	for _, pod := range p.Pods {
		assert.Equal(t, ns, pod.Namespace)
	}
	require.Len(t, p.Namespaces, 1, "the namespace's own Namespace object")
	assert.Equal(t, ns, p.Namespaces[0].Name)
	assert.Len(t, p.Nodes, len(c.Nodes))
	assert.Len(t, p.CustomObjects("kueue.x-k8s.io", "Workload"), 2)
	assert.Len(t, p.CustomObjects("kyverno.io", "ClusterPolicy"), 1, "cluster-scoped custom objects")
	assert.Len(t, p.Owners, 2, "the namespace's Job and ReplicaSet")
	assert.Len(t, p.Deployments, 1)
	assert.Equal(t, src.ResourceStates(), p.Availability)
}
