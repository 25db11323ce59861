package sr2

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// sr2Node is a Node advertising n of an extended resource in capacity and allocatable.
func sr2Node(name, resource string, n int64) *corev1.Node {
	l := corev1.ResourceList{corev1.ResourceCPU: sr2Qty(64)}
	if resource != "" {
		l[corev1.ResourceName(resource)] = sr2Qty(n)
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Capacity: l, Allocatable: l.DeepCopy()}}
}

// The seed's gate names nvidia.com/gpu only: its coverage gap is critical when the
// cluster hands out another GPU resource, hardening (low) otherwise.
func TestGPUGateCoverageFromWhatTheClusterOffers(t *testing.T) {
	const key = "ClusterPolicy/require-kueue-queue-name#gpu-resources "
	nvidiaOnly := sr2Policy(t, sr2SetRule("{{ request.object.spec.[containers, initContainers][][].resources.limits.\"nvidia.com/gpu\" | length(@) }}",
		"validate", "deny", "conditions", "any", "0", "key"))
	allocatableOnly := sr2Node("mig-1", "", 0)
	allocatableOnly.Status.Allocatable["nvidia.com/mig-1g.10gb"] = sr2Qty(7)
	tests := map[string]struct {
		policy   any
		objs     []any
		want     string // severity of the gpu-resources finding; "" none
		contains []string
	}{
		"Nodes offer only nvidia.com/gpu: hardening": {
			objs:     []any{sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Node("cpu-1", "", 0)},
			want:     "low",
			contains: []string{"hardening: the cluster's Nodes offer only nvidia.com/gpu, so no pod can be scheduled on it today"},
		},
		"a Node offers a MIG slice": {
			objs:     []any{sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Node("mig-2", "nvidia.com/mig-1g.10gb", 7)},
			want:     "critical",
			contains: []string{"the cluster hands it out: offered by nvidia.com/mig-1g.10gb (Node mig-2)"},
		},
		"allocatable alone counts": {
			objs: []any{allocatableOnly}, want: "critical", contains: []string{"nvidia.com/mig-1g.10gb (Node mig-1)"},
		},
		"a zero quantity offers nothing": {
			objs: []any{sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Node("amd-0", "amd.com/gpu", 0)}, want: "low",
		},
		"many Nodes are summarised": {
			objs: []any{sr2Node("a1", "amd.com/gpu", 1), sr2Node("a2", "amd.com/gpu", 1), sr2Node("a3", "amd.com/gpu", 1), sr2Node("a4", "amd.com/gpu", 1)},
			want: "critical", contains: []string{"amd.com/gpu (Node a1, Node a2, Node a3, 1 more)"},
		},
		"Nodes are authoritative over pod requests": {
			objs: []any{sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Pod("team-search", "mig", sr2Requests("nvidia.com/mig-3g.40gb", 1))},
			want: "low",
		},
		"no Node: a pod requesting an uncovered resource makes it critical": {
			objs:     []any{sr2Pod("serving", "amd", sr2Requests("amd.com/gpu", 1))},
			want:     "critical",
			contains: []string{"requested by amd.com/gpu (pod serving/amd)"},
		},
		"no Node, only nvidia.com/gpu requested: low, with the reason": {
			objs:     []any{sr2Pod("team-search", "t", sr2GPU(1))},
			want:     "low",
			contains: []string{"whether the cluster offers it is unknown, no Node among the inputs, and no pod among the inputs requests it"},
		},
		"Nodes not among the scanned manifests": {
			objs:     []any{map[string]auditor.Availability{auditor.ResourceNodes: {State: auditor.NotServed, Message: "no Node among the scanned manifests"}}},
			want:     "low",
			contains: []string{"nodes is not_served (no Node among the scanned manifests)"},
		},
		"Nodes forbidden: pods are the evidence": {
			objs: []any{sr2Unavailable(auditor.ResourceNodes, auditor.Forbidden), sr2Pod("team-search", "mig", sr2Requests("nvidia.com/mig-3g.40gb", 1))},
			want: "critical", contains: []string{"requested by nvidia.com/mig-3g.40gb (pod team-search/mig)"},
		},
		"a finished pod requests nothing": {
			objs: []any{sr2Pod("team-search", "done", sr2Requests("amd.com/gpu", 1), sr2Phase(corev1.PodSucceeded))},
			want: "low",
		},
		"a gate naming every offered resource has no gap even if it misses a configured one": {
			policy: sr2Policy(t, sr2SetRule("{{ request.object.spec.[containers, initContainers][][].resources.limits.[\"nvidia.com/gpu\", \"amd.com/gpu\"][] | [?@] | length(@) }}",
				"validate", "deny", "conditions", "any", "0", "key")),
			objs: []any{sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Node("amd-1", "amd.com/gpu", 8)},
			want: "low", contains: []string{"that ask for nvidia.com/gpu.shared, nvidia.com/mig-*:"},
		},
		"the complete gate has no gap": {
			policy: sr2Policy(t), objs: []any{sr2Node("mig-2", "nvidia.com/mig-1g.10gb", 7)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			policy := tc.policy
			if policy == nil {
				policy = nvidiaOnly
			}
			objs := append([]any{policy, sr2Webhooks(), sr2Lease(time.Second)}, tc.objs...)
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), objs))
			want := []string{}
			if tc.want != "" {
				want = []string{key + tc.want}
			}
			assert.Equal(t, want, sr2Keys(res.Findings), "%s", sr2Messages(res.Findings))
			for _, c := range tc.contains {
				assert.Contains(t, sr2Messages(res.Findings), c)
			}
		})
	}
}
