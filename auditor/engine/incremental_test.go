package engine_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

// memSource is an IncrementalSource over a synthetic cluster that the test mutates.
// Mutations replace objects (copy-on-write) so earlier snapshots stay as they were.
type memSource struct {
	mu      sync.Mutex
	c       *synth.Cluster
	changes auditor.ChangeSet
	fullAt  int    // full snapshots taken
	denied  string // a resource reported forbidden
}

func (m *memSource) snapshot(now time.Time) (*auditor.Snapshot, error) {
	s, err := m.c.Snapshot(now)
	if err == nil && m.denied != "" {
		s.Availability[m.denied] = auditor.Availability{State: auditor.Forbidden, Message: "denied"}
	}
	return s, err
}

func (m *memSource) record(resource, ns string) {
	if m.changes.Objects == nil {
		m.changes.Objects = map[string]map[string]bool{}
	}
	if m.changes.Objects[resource] == nil {
		m.changes.Objects[resource] = map[string]bool{}
	}
	m.changes.Objects[resource][ns] = true
}

func (m *memSource) Snapshot(now time.Time) (*auditor.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fullAt++
	return m.snapshot(now)
}

func (m *memSource) PartialSnapshot(now time.Time, namespaces []string) (*auditor.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.snapshot(now)
	if err != nil {
		return nil, err
	}
	return s.Restrict(namespaces), nil
}

func (m *memSource) Changes() auditor.ChangeSet {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs := m.changes
	m.changes = auditor.ChangeSet{}
	return cs
}

// mutator applies random events of the kinds a cluster sees most: pods created,
// deleted and relabelled (queue names, waivers, phases), Workloads admitted or not,
// Jobs relabelled; pods in the protected namespaces (messages name them); rarely a
// cluster-level change (a namespace relabelled, which must be a full evaluation).
type mutator struct {
	rng *rand.Rand
	src *memSource
	seq int
	// parked are serving's NetworkPolicies while they are removed.
	parked []manifests.Object
}

func (mu *mutator) tenant() string {
	return synth.TenantNamespace(mu.rng.IntN(len(mu.src.c.Namespaces)))
}

func (mu *mutator) gpuPod(ns string) *corev1.Pod {
	mu.seq++
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("ev-%d", mu.seq), UID: types.UID(fmt.Sprintf("ev-uid-%d", mu.seq)), Labels: map[string]string{}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{synth.GPUResource: *resource.NewQuantity(int64(1+mu.rng.IntN(3)), resource.DecimalSI)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	switch mu.rng.IntN(4) {
	case 0:
		p.Labels[synth.QueueLabel] = "research"
	case 1:
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "train", UID: types.UID("unknown")}}
	case 2:
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "gone", UID: types.UID("gone-uid")}}
	}
	return p
}

func (mu *mutator) podIndex(ns string) []int {
	var out []int
	for i, p := range mu.src.c.Pods {
		if p.Namespace == ns {
			out = append(out, i)
		}
	}
	return out
}

func (mu *mutator) step() string {
	c := mu.src.c
	mu.src.mu.Lock()
	defer mu.src.mu.Unlock()
	switch k := mu.rng.IntN(21); {
	case k < 5: // a GPU pod appears in a tenant namespace
		ns := mu.tenant()
		c.Pods = append(c.Pods, mu.gpuPod(ns))
		mu.src.record(auditor.ResourcePods, ns)
		return "create gpu pod in " + ns
	case k < 8: // a pod is deleted
		ns := mu.tenant()
		idx := mu.podIndex(ns)
		if len(idx) == 0 {
			return "nothing to delete"
		}
		i := idx[mu.rng.IntN(len(idx))]
		c.Pods = append(c.Pods[:i:i], c.Pods[i+1:]...)
		mu.src.record(auditor.ResourcePods, ns)
		return "delete pod in " + ns
	case k < 12: // a pod changes: queue label, waiver, phase
		ns := mu.tenant()
		idx := mu.podIndex(ns)
		if len(idx) == 0 {
			return "nothing to update"
		}
		i := idx[mu.rng.IntN(len(idx))]
		p := c.Pods[i].DeepCopy()
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		switch mu.rng.IntN(4) {
		case 0:
			if _, ok := p.Labels[synth.QueueLabel]; ok {
				delete(p.Labels, synth.QueueLabel)
			} else {
				p.Labels[synth.QueueLabel] = "research"
			}
		case 1:
			p.Annotations = map[string]string{
				auditor.WaiveAnnotation:       "gpu-pod-missing-queue-name,gpu-pod-not-admitted",
				auditor.WaiveReasonAnnotation: "accepted for the test",
				auditor.WaiveUntilAnnotation:  c.Now.Add(24 * time.Hour).Format(time.RFC3339),
			}
		case 2:
			p.Annotations = map[string]string{auditor.WaiveAnnotation: "no-such-rule"}
		case 3:
			p.Status.Phase = corev1.PodSucceeded
		}
		c.Pods[i] = p
		mu.src.record(auditor.ResourcePods, ns)
		return "update pod in " + ns
	case k < 14: // a Workload is admitted or evicted
		if len(c.Workloads) == 0 {
			return "no workload"
		}
		i := mu.rng.IntN(len(c.Workloads))
		w := c.Workloads[i].DeepCopy()
		conds, _, _ := unstructured.NestedSlice(w.Object, "status", "conditions")
		if len(conds) > 0 {
			cond := conds[0].(map[string]any)
			if cond["status"] == "True" {
				cond["status"] = "False"
			} else {
				cond["status"] = "True"
			}
			_ = unstructured.SetNestedSlice(w.Object, conds, "status", "conditions")
		}
		c.Workloads[i] = w
		mu.src.record(auditor.ResourceKueueWorkloads, w.GetNamespace())
		return "flip workload in " + w.GetNamespace()
	case k < 15: // a Job loses or gains its queue label
		i := mu.rng.IntN(len(c.Jobs))
		j := c.Jobs[i].DeepCopy()
		if _, ok := j.Labels[synth.QueueLabel]; ok {
			delete(j.Labels, synth.QueueLabel)
		} else {
			j.Labels = map[string]string{synth.QueueLabel: "research"}
		}
		c.Jobs[i] = j
		mu.src.record(auditor.ResourceJobs, j.Namespace)
		return "relabel job in " + j.Namespace
	case k < 18: // pods come and go in the protected namespaces (finding messages name them)
		ns := []string{"serving", "inference"}[mu.rng.IntN(2)]
		mu.seq++
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("gw-%d", mu.seq), UID: types.UID(fmt.Sprintf("gw-%d", mu.seq)),
			Labels: map[string]string{"app.kubernetes.io/name": []string{"inference-gateway", "debug"}[mu.rng.IntN(2)]}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		if mu.rng.IntN(2) == 0 {
			c.Pods = append(c.Pods, p)
		} else if idx := mu.podIndex(ns); len(idx) > 0 {
			i := idx[mu.rng.IntN(len(idx))]
			c.Pods = append(c.Pods[:i:i], c.Pods[i+1:]...)
		}
		mu.src.record(auditor.ResourcePods, ns)
		return "pod event in " + ns
	case k == 18: // several namespaces in one burst
		for n := 0; n < 3; n++ {
			ns := mu.tenant()
			c.Pods = append(c.Pods, mu.gpuPod(ns))
			mu.src.record(auditor.ResourcePods, ns)
		}
		return "burst"
	case k == 19: // serving loses or regains its policies (then pod events there change the message)
		if mu.parked != nil {
			c.Platform = append(c.Platform[:len(c.Platform):len(c.Platform)], mu.parked...)
			mu.parked = nil
		} else {
			var keep []manifests.Object
			for _, o := range c.Platform {
				if o.GetKind() == "NetworkPolicy" && o.GetNamespace() == "serving" {
					mu.parked = append(mu.parked, o)
				} else {
					keep = append(keep, o)
				}
			}
			c.Platform = keep
		}
		mu.src.record(auditor.ResourceNetworkPolicies, "serving")
		return "toggle serving policies"
	default: // a namespace changes scope: cluster-level, a full evaluation
		i := mu.rng.IntN(len(c.Namespaces))
		n := c.Namespaces[i].DeepCopy()
		if n.Labels[synth.ManagedLabel] == "true" {
			delete(n.Labels, synth.ManagedLabel)
		} else {
			n.Labels[synth.ManagedLabel] = "true"
		}
		c.Namespaces[i] = n
		mu.src.record(auditor.ResourceNamespaces, "")
		return "relabel namespace " + n.Name
	}
}

func findingsOf(rs []store.Record) []auditor.Finding {
	out := make([]auditor.Finding, len(rs))
	for i, r := range rs {
		out[i] = r.Finding
	}
	return out
}

// TestIncrementalEqualsFull is the correctness property of incremental evaluation:
// after every event of a random sequence, the runner's merged evaluation holds exactly
// the findings (order, waivers included), facts (order included), inconclusive reasons
// and control states of a full evaluation of the same cluster, and the store exactly
// the open findings a store fed only full evaluations holds.
// With a control not claimed, its findings stay dormant through incremental passes as
// through full ones.
func TestIncrementalEqualsFull(t *testing.T) {
	for _, tc := range []struct {
		seed     uint64
		controls []auditor.Control
	}{{1, nil}, {2, nil}, {3, nil}, {4, []auditor.Control{auditor.SR1}}} {
		seed := tc.seed
		t.Run(fmt.Sprintf("seed=%d,controls=%v", seed, tc.controls), func(t *testing.T) {
			c, err := synth.Generate(synth.Options{Pods: 600})
			require.NoError(t, err)
			src := &memSource{c: c}
			cfg := auditor.DefaultConfig()
			if tc.controls != nil {
				cfg.Controls = tc.controls
			}
			rs := rules.All(cfg)
			st := store.New()
			now := c.Now
			r := engine.NewRunner(engine.Options{Rules: rs, Source: src, Store: st, Now: func() time.Time { return now },
				WaiverMaxDuration: cfg.Waivers.MaxDuration.Duration, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Claims: cfg.Claims})
			r.EvaluateNow()
			mu := &mutator{rng: rand.New(rand.NewPCG(seed, 99)), src: src}
			fullStore := store.New()
			partials := 0
			for step := 0; step < 150; step++ {
				what := mu.step()
				r.EvaluateNow()
				got := r.Last()
				if got.Namespaces != nil {
					partials++
				}
				snap, err := c.Snapshot(now)
				require.NoError(t, err)
				want := engine.Evaluate(rs, snap, cfg.Waivers.MaxDuration.Duration)
				want.ApplyClaims(cfg.Claims)
				fullStore.Apply(now, want.Findings)
				require.Equal(t, want.Findings, got.Findings, "step %d (%s): findings", step, what)
				require.Equal(t, want.Dormant, got.Dormant, "step %d (%s): dormant findings", step, what)
				require.Equal(t, want.NotApplicable, got.NotApplicable, "step %d (%s): not applicable", step, what)
				require.Equal(t, want.Facts, got.Facts, "step %d (%s): facts", step, what)
				require.Equal(t, want.Inconclusive, got.Inconclusive, "step %d (%s): inconclusive", step, what)
				require.Equal(t, want.Controls, got.Controls, "step %d (%s): controls", step, what)
				require.Equal(t, findingsOf(fullStore.Open()), findingsOf(st.Open()), "step %d (%s): open findings", step, what)
				require.Len(t, got.Snapshot.Pods, len(snap.Pods), "step %d (%s): the merged snapshot holds the cluster's pods", step, what)
			}
			assert.Greater(t, partials, 100, "most events are evaluated incrementally")
			if tc.controls != nil {
				last := r.Last()
				assert.NotEmpty(t, last.Dormant, "the synthetic cluster has SR2 and SR3 defects")
				for _, rec := range st.Open() {
					assert.Equal(t, auditor.SR1, rec.Control, "only the claimed control's findings are published")
				}
				assert.Equal(t, auditor.NotApplicable, last.Controls[auditor.SR2])
			}
			t.Logf("%d of 150 evaluations incremental, %d full snapshots", partials, src.fullAt)
		})
	}
}

// TestIncrementalFallsBackToFull covers the cases that must not be incremental.
func TestIncrementalFallsBackToFull(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 200})
	require.NoError(t, err)
	cases := map[string]struct {
		change   func(src *memSource)
		wantFull bool
	}{
		"a pod event is incremental": {change: func(src *memSource) { src.record(auditor.ResourcePods, synth.TenantNamespace(1)) }},
		"a Workload event is incremental": {change: func(src *memSource) {
			src.record(auditor.ResourceKueueWorkloads, synth.TenantNamespace(1))
		}},
		"a NetworkPolicy event is full": {change: func(src *memSource) {
			src.record(auditor.ResourceNetworkPolicies, synth.TenantNamespace(1))
		}, wantFull: true},
		"a trigger without a recorded change is full": {change: func(*memSource) {}, wantFull: true},
		"a source-level change is full": {change: func(src *memSource) {
			src.changes.Full, src.changes.Reason = true, "informer started"
		}, wantFull: true},
		"too many namespaces at once is full": {change: func(src *memSource) {
			for i := 0; i < 5; i++ {
				src.record(auditor.ResourcePods, synth.TenantNamespace(i))
			}
		}, wantFull: true},
		"an availability change is full": {change: func(src *memSource) {
			src.record(auditor.ResourcePods, synth.TenantNamespace(1))
			src.denied = auditor.ResourceConfigMaps
		}, wantFull: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := &memSource{c: c}
			r := engine.NewRunner(engine.Options{Rules: rules.All(auditor.DefaultConfig()), Source: src, Store: store.New(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxPartialNamespaces: 4})
			r.EvaluateNow()
			before := src.fullAt
			tc.change(src)
			r.EvaluateNow()
			assert.Equal(t, tc.wantFull, src.fullAt > before, "full snapshot taken")
			assert.Equal(t, tc.wantFull, r.Last().Namespaces == nil)
		})
	}
}

// TestTriggerFullForcesAFullEvaluation: probe results change what cluster-scoped rules
// see without an object event.
func TestTriggerFullForcesAFullEvaluation(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 100})
	require.NoError(t, err)
	src := &memSource{c: c}
	r := engine.NewRunner(engine.Options{Rules: rules.All(auditor.DefaultConfig()), Source: src, Store: store.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	r.EvaluateNow()
	src.record(auditor.ResourcePods, synth.TenantNamespace(0))
	r.TriggerFull()
	r.EvaluateNow()
	assert.Nil(t, r.Last().Namespaces)
	assert.Equal(t, 2, src.fullAt)
}
