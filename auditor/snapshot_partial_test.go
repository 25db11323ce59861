package auditor

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podNamed(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + "ns/" + "name"}}
}

func customIn(ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload"}}
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

var workloadGK = schema.GroupKind{Group: "kueue.x-k8s.io", Kind: "Workload"}
var policyGK = schema.GroupKind{Group: "kyverno.io", Kind: "ClusterPolicy"}

func sampleSnapshot() *Snapshot {
	s := &Snapshot{
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, {ObjectMeta: metav1.ObjectMeta{Name: "b"}}},
		Pods:       []*corev1.Pod{podNamed("a", "p1"), podNamed("b", "p1"), podNamed("a", "p2")},
		ConfigMaps: []*corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "cm"}}},
		Owners:     []*Owner{{Kind: "Job", Namespace: "a", Name: "j"}, {Kind: "Job", Namespace: "b", Name: "j"}},
		Custom: map[schema.GroupKind][]*unstructured.Unstructured{
			workloadGK: {customIn("a", "w"), customIn("b", "w")},
			policyGK:   {customIn("", "gate")},
		},
		AdmissionProbes: []AdmissionProbeResult{{Namespace: "a"}},
	}
	s.Index()
	return s
}

type namespacedNamed interface {
	GetNamespace() string
	GetName() string
}

func names[T namespacedNamed](objs []T) []string {
	out := []string{}
	for _, o := range objs {
		out = append(out, o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

func TestRestrictKeepsClusterScopedAndTheNamespaces(t *testing.T) {
	p := sampleSnapshot().Restrict([]string{"a"})
	assert.Equal(t, []string{"a/p1", "a/p2"}, names(p.Pods))
	assert.Empty(t, p.ConfigMaps)
	require.Len(t, p.Namespaces, 1, "the namespace's own Namespace object")
	assert.Equal(t, "a", p.Namespaces[0].Name)
	require.Len(t, p.Owners, 1)
	assert.Equal(t, "a", p.Owners[0].Namespace)
	assert.Equal(t, []string{"a/w"}, names(p.Custom[workloadGK]))
	assert.Equal(t, []string{"/gate"}, names(p.Custom[policyGK]))
	assert.Len(t, p.PodsIn("a"), 2, "the partial snapshot is indexed")
	assert.NotNil(t, p.Namespace("a"))
}

func TestWithNamespacesReplacesOnlyTheNamespaces(t *testing.T) {
	s := sampleSnapshot()
	// namespace a read again: p2 is gone, p3 appeared, its workload is gone.
	fresh := &Snapshot{
		Namespaces: []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"new": "label"}}}},
		Pods:       []*corev1.Pod{podNamed("a", "p1"), podNamed("a", "p3")},
		Owners:     []*Owner{{Kind: "Job", Namespace: "a", Name: "j2"}},
		Custom:     map[schema.GroupKind][]*unstructured.Unstructured{policyGK: {customIn("", "gate2")}},
	}
	m := s.WithNamespaces(fresh, []string{"a"})
	assert.ElementsMatch(t, []string{"b/p1", "a/p1", "a/p3"}, names(m.Pods))
	assert.Equal(t, []string{"b/cm"}, names(m.ConfigMaps))
	assert.Equal(t, []string{"b/w"}, names(m.Custom[workloadGK]))
	assert.Equal(t, []string{"/gate2"}, names(m.Custom[policyGK]), "cluster-scoped objects come from the fresh read")
	assert.Len(t, m.Owners, 2)
	require.Len(t, m.Namespaces, 2)
	assert.Equal(t, "label", m.Namespace("a").Labels["new"], "the namespace's own Namespace object comes from the fresh read")
	assert.Equal(t, s.AdmissionProbes, m.AdmissionProbes, "probe results are kept")
	assert.Len(t, m.PodsIn("a"), 2, "lookups are built on first use")
	assert.NotNil(t, m.ConfigMap("b", "cm"))
	assert.Len(t, s.Pods, 3, "the input is not modified")
}

func TestWithNamespacesOfARestrictionIsTheSameSnapshot(t *testing.T) {
	s := sampleSnapshot()
	m := s.WithNamespaces(s.Restrict([]string{"b"}), []string{"b"})
	assert.ElementsMatch(t, names(s.Pods), names(m.Pods))
	assert.ElementsMatch(t, names(s.ConfigMaps), names(m.ConfigMaps))
	assert.ElementsMatch(t, names(s.Custom[workloadGK]), names(m.Custom[workloadGK]))
	assert.ElementsMatch(t, s.Owners, m.Owners)
	assert.ElementsMatch(t, s.Namespaces, m.Namespaces)
}

// TestWithNamespacesChainsLikeAFreshRead: a chain of merges, each re-reading random
// namespaces of a changing cluster, always holds exactly the cluster's objects.
func TestWithNamespacesChainsLikeAFreshRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	nsNames := []string{"a", "b", "c", "d", "e", "f"}
	cluster := map[string][]*corev1.Pod{}
	seq := 0
	reread := func(ns string) {
		var pods []*corev1.Pod
		for _, p := range cluster[ns] {
			if rng.IntN(3) > 0 {
				pods = append(pods, p) // kept: the same object
			}
		}
		for i := 0; i < rng.IntN(3); i++ {
			seq++
			pods = append(pods, podNamed(ns, fmt.Sprintf("p%d", seq)))
		}
		cluster[ns] = pods
	}
	full := func() *Snapshot {
		s := &Snapshot{Custom: map[schema.GroupKind][]*unstructured.Unstructured{policyGK: {customIn("", "gate")}}}
		for _, ns := range nsNames {
			if len(cluster[ns]) > 0 || ns < "d" {
				s.Namespaces = append(s.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
			}
			s.Pods = append(s.Pods, cluster[ns]...)
		}
		s.Index()
		return s
	}
	for _, ns := range nsNames[:3] {
		reread(ns)
	}
	cur := full()
	for step := 0; step < 300; step++ {
		var changed []string
		for _, ns := range nsNames {
			if rng.IntN(4) == 0 {
				reread(ns)
				changed = append(changed, ns)
			}
		}
		want := full()
		cur = cur.WithNamespaces(want.Restrict(changed), changed)
		require.ElementsMatch(t, names(want.Pods), names(cur.Pods), "step %d, changed %v", step, changed)
		require.ElementsMatch(t, want.Namespaces, cur.Namespaces, "step %d", step)
		for _, ns := range nsNames {
			require.ElementsMatch(t, want.PodsIn(ns), cur.PodsIn(ns), "step %d: index of %s", step, ns)
		}
		require.Len(t, cur.Custom[policyGK], 1)
	}
}

func TestWithNamespacesSharesWhatDidNotChange(t *testing.T) {
	s := sampleSnapshot()
	s.PrepareWithNamespaces()
	m := s.WithNamespaces(s.Restrict([]string{"a"}), []string{"a"})
	require.NotEmpty(t, m.Pods)
	assert.Same(t, &s.Pods[0], &m.Pods[0], "pods of an unchanged namespace: the slice is shared")
	assert.Same(t, &s.Owners[0], &m.Owners[0])
}
