package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestPodGPUs(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	res := func(kv ...any) corev1.ResourceRequirements {
		l := corev1.ResourceList{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i].(string))] = sr2Qty(int64(kv[i+1].(int)))
		}
		return corev1.ResourceRequirements{Limits: l}
	}
	tests := map[string]struct {
		spec  corev1.PodSpec
		total int64
		by    map[string]int64
		where []string
	}{
		"no GPU": {
			spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: res("cpu", 4, "example.com/fpga", 1)}}},
			by:   map[string]int64{},
		},
		"containers add up": {
			spec:  corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: res("nvidia.com/gpu", 2)}, {Name: "b", Resources: res("nvidia.com/gpu", 1)}}},
			total: 3, by: map[string]int64{"nvidia.com/gpu": 3},
			where: []string{"container a: nvidia.com/gpu=2", "container b: nvidia.com/gpu=1"},
		},
		"request larger than limit counts the request": {
			spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(4)}, Limits: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(1)}}}}},
			total: 4, by: map[string]int64{"nvidia.com/gpu": 4}, where: []string{"container a: nvidia.com/gpu=4"},
		},
		"plain init container: the largest of init and the sum": {
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "warm", Resources: res("nvidia.com/gpu", 4)}},
				Containers:     []corev1.Container{{Name: "a", Resources: res("nvidia.com/gpu", 1)}},
			},
			total: 4, by: map[string]int64{"nvidia.com/gpu": 4},
			where: []string{"container a: nvidia.com/gpu=1", "init container warm: nvidia.com/gpu=4"},
		},
		"sidecar init container adds": {
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "side", RestartPolicy: &always, Resources: res("nvidia.com/gpu", 1)}},
				Containers:     []corev1.Container{{Name: "a", Resources: res("nvidia.com/gpu", 1)}},
			},
			total: 2, by: map[string]int64{"nvidia.com/gpu": 2},
			where: []string{"container a: nvidia.com/gpu=1", "init container side: nvidia.com/gpu=1"},
		},
		"MIG slices and AMD GPUs by resource": {
			spec:  corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: res("nvidia.com/mig-1g.10gb", 2, "amd.com/gpu", 1)}}},
			total: 3, by: map[string]int64{"nvidia.com/mig-1g.10gb": 2, "amd.com/gpu": 1},
			where: []string{"container a: amd.com/gpu=1", "container a: nvidia.com/mig-1g.10gb=2"},
		},
		"ephemeral container": {
			spec:  corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Resources: res("nvidia.com/gpu", 1)}}}},
			total: 1, by: map[string]int64{"nvidia.com/gpu": 1}, where: []string{"ephemeral container dbg: nvidia.com/gpu=1"},
		},
		"pod-level resources": {
			spec:  corev1.PodSpec{Resources: &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(2)}}, Containers: []corev1.Container{{Name: "a"}}},
			total: 2, by: map[string]int64{"nvidia.com/gpu": 2}, where: []string{"pod-level resources: nvidia.com/gpu=2"},
		},
		"zero GPUs": {
			spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: res("nvidia.com/gpu", 0)}}},
			by:   map[string]int64{},
		},
	}
	g := newGPUScope(auditor.DefaultConfig())
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := g.podGPUs(&corev1.Pod{Spec: tc.spec})
			assert.Equal(t, tc.total, d.Total)
			assert.Equal(t, tc.by, d.ByResource)
			assert.ElementsMatch(t, tc.where, d.Where)
		})
	}
}

func TestGPUScope(t *testing.T) {
	g := newGPUScope(auditor.DefaultConfig())
	assert.True(t, g.inScope(sr2Managed("team-a")))
	assert.False(t, g.inScope(sr2Managed("serving")), "excluded even though labelled")
	assert.False(t, g.inScope(sr2NS("team-web", nil)))
	assert.False(t, g.inScope(sr2NS("team-x", map[string]string{"llm-platform/kueue-managed": "false"})))
	assert.False(t, g.inScope(nil))
}

func TestOwnerChain(t *testing.T) {
	tests := map[string]struct {
		objs       []any
		pod        *corev1.Pod
		chain      string
		unresolved bool
		queue      string
		from       string
	}{
		"no owner": {pod: sr2Pod("ns", "p"), chain: ""},
		"pod label wins over the owner's": {
			objs:  []any{sr2Owner("ns", "Job", "train", "j1", map[string]string{"kueue.x-k8s.io/queue-name": "owner-q"})},
			pod:   sr2Pod("ns", "p", sr2Queue("pod-q"), sr2OwnedBy("Job", "train", "j1")),
			chain: "Job/train", queue: "pod-q", from: "pod",
		},
		"pod -> Job -> JobSet, label on the JobSet": {
			objs: []any{
				sr2Owner("ns", "Job", "llama-0", "j1", nil, sr2Ctrl("JobSet", "llama", "js1")),
				sr2Owner("ns", "JobSet", "llama", "js1", map[string]string{"kueue.x-k8s.io/queue-name": "research"}),
			},
			pod:   sr2Pod("ns", "p", sr2OwnedBy("Job", "llama-0", "j1")),
			chain: "Job/llama-0 -> JobSet/llama", queue: "research", from: "JobSet/llama",
		},
		"owner missing from the snapshot": {
			pod:   sr2Pod("ns", "p", sr2OwnedBy("RayCluster", "rc", "r1")),
			chain: "RayCluster/rc", unresolved: true,
		},
		"owner found by kind and name when UIDs are absent": {
			objs:  []any{sr2Owner("ns", "Job", "train", "", map[string]string{"kueue.x-k8s.io/queue-name": "q"})},
			pod:   sr2Pod("ns", "p", sr2OwnedBy("Job", "train", "")),
			chain: "Job/train", queue: "q", from: "Job/train",
		},
		"owner cycle stops": {
			objs: []any{
				sr2Owner("ns", "Job", "a", "a1", nil, sr2Ctrl("JobSet", "b", "b1")),
				sr2Owner("ns", "JobSet", "b", "b1", nil, sr2Ctrl("Job", "a", "a1")),
			},
			pod:   sr2Pod("ns", "p", sr2OwnedBy("Job", "a", "a1")),
			chain: "Job/a -> JobSet/b",
		},
		"blank label value does not count": {
			objs:  []any{sr2Owner("ns", "Job", "train", "j1", map[string]string{"kueue.x-k8s.io/queue-name": " "})},
			pod:   sr2Pod("ns", "p", sr2OwnedBy("Job", "train", "j1")),
			chain: "Job/train",
		},
	}
	g := newGPUScope(auditor.DefaultConfig())
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(snapshottest.At(sr2Now), tc.objs, tc.pod)
			q := g.queueName(s, tc.pod)
			assert.Equal(t, tc.chain, chainString(q.Chain))
			assert.Equal(t, tc.unresolved, q.Unresolved)
			assert.Equal(t, tc.queue, q.Queue)
			assert.Equal(t, tc.from, q.From)
		})
	}
}
