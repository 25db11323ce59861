package live

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

// richPods are pods carrying what an API server adds and every field a rule reads:
// GPU demand in init (plain and sidecar), ephemeral and pod-level resources, CPU and
// memory beside the GPUs, scheduling gates, the queue name as an annotation, waivers,
// finished phases, plus the noise the projection drops (env, volumes, conditions,
// managedFields, foreign annotations).
func richPods(ns string) []*corev1.Pod {
	always := corev1.ContainerRestartPolicyAlways
	q := func(n int64) resource.Quantity { return *resource.NewQuantity(n, resource.DecimalSI) }
	gpu := func(name string, n int64) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourceName(name): q(n)},
			Limits:   corev1.ResourceList{corev1.ResourceName(name): q(n + 1)},
		}
	}
	noise := func(p *corev1.Pod) *corev1.Pod {
		p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations["prometheus.io/scrape"] = "true"
		p.Annotations[auditor.LastAppliedAnnotation] = "{}"
		p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
		p.Spec.ServiceAccountName = "default"
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].Image = "registry.example/x:1"
			p.Spec.Containers[i].Env = []corev1.EnvVar{{Name: "A", Value: "b"}}
		}
		return p
	}
	pod := func(name string, spec corev1.PodSpec, mutate ...func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: k8stypes.UID("uid-" + name),
			Labels: map[string]string{"app": name}}, Spec: spec, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.9"}}
		for _, m := range mutate {
			m(p)
		}
		return noise(p)
	}
	return []*corev1.Pod{
		pod("init-and-sidecar", corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "warmup", Resources: gpu("nvidia.com/gpu", 1)}, {Name: "side", RestartPolicy: &always, Resources: gpu("nvidia.com/gpu", 1)}},
			Containers:     []corev1.Container{{Name: "main", Resources: gpu("nvidia.com/gpu", 2)}, {Name: "cpu", Resources: gpu(string(corev1.ResourceCPU), 1)}},
		}),
		pod("mig-ephemeral-podlevel", corev1.PodSpec{
			Containers:          []corev1.Container{{Name: "main", Ports: []corev1.ContainerPort{{ContainerPort: 8000}}}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Resources: gpu("nvidia.com/mig-1g.10gb", 1)}}},
			Resources:           &corev1.ResourceRequirements{Limits: corev1.ResourceList{"amd.com/gpu": q(3)}},
		}),
		pod("gated-queue-annotation", corev1.PodSpec{
			Containers:      []corev1.Container{{Name: "main", Resources: gpu("nvidia.com/gpu", 1)}},
			SchedulingGates: []corev1.PodSchedulingGate{{Name: "kueue.x-k8s.io/admission"}},
		}, func(p *corev1.Pod) { p.Annotations = map[string]string{"kueue.x-k8s.io/queue-name": "team"} }),
		pod("waived", corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Resources: gpu("nvidia.com/gpu", 1)}}},
			func(p *corev1.Pod) {
				p.Annotations = map[string]string{auditor.WaiveAnnotation: "gpu-pod-missing-queue-name",
					auditor.WaiveReasonAnnotation: "notebook trial", auditor.WaiveUntilAnnotation: "2026-03-20T00:00:00Z"}
			}),
		pod("bad-waiver", corev1.PodSpec{Containers: []corev1.Container{{Name: "main"}}},
			func(p *corev1.Pod) { p.Annotations = map[string]string{auditor.WaiveUntilAnnotation: "soon"} }),
		pod("finished", corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Resources: gpu("nvidia.com/gpu", 8)}}},
			func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		// The SR1 host-network rules read spec.hostNetwork, in protected and tenant namespaces.
		pod("host-network", corev1.PodSpec{HostNetwork: true, NodeName: "node-1", Containers: []corev1.Container{{Name: "main"}}}),
	}
}

// TestProjectionKeepsWhatRulesRead holds the cache projection (pods, nodes, Workloads)
// to the rules: every rule reports the same findings, facts and inconclusive reasons on
// the synthetic cluster (the example platform included) as cached as on the objects as
// the API server serves them. A rule that starts reading a field the projection drops
// fails here.
func TestProjectionKeepsWhatRulesRead(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 2020})
	require.NoError(t, err)
	for _, ns := range []string{synth.TenantNamespace(0), synth.TenantNamespace(1), "serving"} {
		c.Pods = append(c.Pods, richPods(ns)...)
	}
	cfg := auditor.DefaultConfig()
	// Two clusters: as generated, and with every NetworkPolicy gone (the SR1 messages
	// then list the protected namespaces' pods).
	variants := map[string]func(*auditor.Snapshot){
		"as generated":       func(*auditor.Snapshot) {},
		"no NetworkPolicies": func(s *auditor.Snapshot) { s.NetworkPolicies = nil },
	}
	p := auditor.NewProjection(cfg, nil)
	wl := schema.GroupKind{Group: "kueue.x-k8s.io", Kind: "Workload"}
	for name, change := range variants {
		full, err := c.Snapshot(c.Now)
		require.NoError(t, err)
		change(full)
		full.Index()
		projected, err := c.Snapshot(c.Now)
		require.NoError(t, err)
		change(projected)
		for i, pod := range projected.Pods {
			projected.Pods[i] = cached(t, p, auditor.ResourcePods, pod.DeepCopy()).(*corev1.Pod)
		}
		for i, n := range projected.Nodes {
			projected.Nodes[i] = cached(t, p, auditor.ResourceNodes, n.DeepCopy()).(*corev1.Node)
		}
		require.NotEmpty(t, projected.Custom[wl])
		for i, u := range projected.Custom[wl] {
			projected.Custom[wl][i] = cached(t, p, auditor.ResourceKueueWorkloads, u.DeepCopy()).(*unstructured.Unstructured)
		}
		projected.Index()
		max := cfg.Waivers.MaxDuration.Duration
		want := engine.Evaluate(rules.All(cfg), full, max)
		got := engine.Evaluate(rules.All(cfg), projected, max)
		t.Run(name, func(t *testing.T) {
			require.NotEmpty(t, want.Findings)
			assert.Equal(t, want.Findings, got.Findings)
			assert.Equal(t, want.Facts, got.Facts)
			assert.Equal(t, want.Inconclusive, got.Inconclusive)
		})
	}
}

// TestProjectionDropsWhatNoRuleReads: the projected pod holds the GPU amounts only, the
// containers that ask for a GPU or expose ports, and the annotations the rules read.
func TestProjectionDropsWhatNoRuleReads(t *testing.T) {
	p := auditor.NewProjection(auditor.DefaultConfig(), nil)
	pod := func(o *corev1.Pod) *corev1.Pod { return cached(t, p, auditor.ResourcePods, o).(*corev1.Pod) }
	pods := richPods("team")
	got := pod(pods[0])
	require.Len(t, got.Spec.Containers, 1, "the CPU-only container is dropped")
	assert.Equal(t, corev1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(2, resource.DecimalSI)}, got.Spec.Containers[0].Resources.Requests)
	require.Len(t, got.Spec.InitContainers, 2)
	assert.NotNil(t, got.Spec.InitContainers[1].RestartPolicy)
	assert.Nil(t, got.Annotations, "foreign and last-applied annotations are dropped")
	assert.Nil(t, got.ManagedFields)
	assert.Empty(t, got.Status.Conditions)
	assert.Equal(t, "10.0.0.9", got.Status.PodIP)
	ports := pod(pods[1])
	require.Len(t, ports.Spec.Containers, 1, "a container with ports is kept for the network probe")
	assert.Equal(t, int32(8000), ports.Spec.Containers[0].Ports[0].ContainerPort)
	assert.Equal(t, map[string]string{"kueue.x-k8s.io/queue-name": "team"}, pod(pods[2]).Annotations)
	assert.Len(t, pod(pods[3]).Annotations, 3)

	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
		"metadata": map[string]any{"name": "w", "namespace": "team"},
		"spec":     map[string]any{"queueName": "q", "podSets": []any{map[string]any{"template": map[string]any{}}}},
		"status": map[string]any{"conditions": []any{}, "admission": map[string]any{"clusterQueue": "cq", "podSetAssignments": []any{}},
			"requeueState": map[string]any{}},
	}}
	out := cached(t, p, auditor.ResourceKueueWorkloads, u)
	assert.Equal(t, map[string]any{"queueName": "q"}, out.(*unstructured.Unstructured).Object["spec"])
	assert.Equal(t, map[string]any{"conditions": []any{}, "admission": map[string]any{"clusterQueue": "cq"}}, out.(*unstructured.Unstructured).Object["status"])

	keep := auditor.NewProjection(auditor.DefaultConfig(), func(*corev1.Pod) bool { return false })
	stub := cached(t, keep, auditor.ResourcePods, pods[0])
	assert.Equal(t, cache.ExplicitKey("team/init-and-sidecar"), stub)
	key, err := cache.MetaNamespaceKeyFunc(stub)
	require.NoError(t, err)
	assert.Equal(t, "team/init-and-sidecar", key)
	idx, err := namespaceIndex(stub)
	require.NoError(t, err)
	assert.Empty(t, idx, "stubs are not in the namespace index")
}

// TestProjectionSharesEqualResourceLists: pods asking for the same GPUs share one list.
func TestProjectionSharesEqualResourceLists(t *testing.T) {
	p := auditor.NewProjection(auditor.DefaultConfig(), nil)
	pod := func(o *corev1.Pod) *corev1.Pod { return cached(t, p, auditor.ResourcePods, o).(*corev1.Pod) }
	a, b := pod(richPods("team")[3]), pod(richPods("other")[3])
	ra, rb := a.Spec.Containers[0].Resources.Requests, b.Spec.Containers[0].Resources.Requests
	require.Len(t, ra, 1)
	assert.Equal(t, reflect.ValueOf(ra).Pointer(), reflect.ValueOf(rb).Pointer(), "one shared map")
	c := pod(richPods("team")[0])
	assert.NotEqual(t, reflect.ValueOf(ra).Pointer(), reflect.ValueOf(c.Spec.Containers[0].Resources.Requests).Pointer(), "2 GPUs is another list")
}

// TestProjectionKeepsPodResourceClaims: the pod's DRA claims and the claims generated for
// it from templates (status.resourceClaimStatuses) survive the projection; the SR2 rules
// judge a template claim by the claim the pod runs with.
func TestProjectionKeepsPodResourceClaims(t *testing.T) {
	p := auditor.NewProjection(auditor.DefaultConfig(), nil)
	tmpl, gen := "one-gpu", "trainer-gpu-x7k2p"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "trainer", UID: "uid-trainer"},
		Spec: corev1.PodSpec{
			ResourceClaims: []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: &tmpl}},
			Containers:     []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "gpu"}}}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled}},
			ResourceClaimStatuses: []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: &gen}}},
	}
	got := cached(t, p, auditor.ResourcePods, pod.DeepCopy()).(*corev1.Pod)
	assert.Equal(t, pod.Spec.ResourceClaims, got.Spec.ResourceClaims)
	assert.Equal(t, pod.Status.ResourceClaimStatuses, got.Status.ResourceClaimStatuses)
	assert.Empty(t, got.Status.Conditions)
}
