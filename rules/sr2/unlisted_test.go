package sr2

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestGPUResourceUnlisted(t *testing.T) {
	const rule = "gpu-resource-unlisted"
	tests := map[string]struct {
		objs     []any
		cfg      func(*auditor.Config)
		want     []string
		contains []string
	}{
		"configured resources only":      {objs: []any{sr2Node("a", "nvidia.com/gpu", 8), sr2Node("b", "amd.com/gpu", 8), sr2Node("c", "nvidia.com/mig-1g.10gb", 7)}},
		"time-slicing rename is default": {objs: []any{sr2Node("a", "nvidia.com/gpu.shared", 32)}},
		"shared MIG slice under mig-*":   {objs: []any{sr2Node("a", "nvidia.com/mig-1g.10gb.shared", 14)}},
		"CPU node, other domains":        {objs: []any{sr2Node("cpu", "", 0), sr2Node("efa", "vpc.amazonaws.com/efa", 4), sr2Node("x", "example.com/nvidia.com-gpu", 1)}},
		"an NVIDIA MPS rename the list misses": {
			objs:     []any{sr2Node("a", "nvidia.com/gpu-2gb", 4)},
			want:     []string{"(cluster)#nvidia.com/gpu-2gb low"},
			contains: []string{"Node a offers nvidia.com/gpu-2gb, an accelerator resource under the NVIDIA domain nvidia.com/, which sr2.gpuResources (nvidia.com/gpu, nvidia.com/gpu.shared, nvidia.com/mig-*, amd.com/gpu) does not name"},
		},
		"Gaudi, Neuron and Intel": {
			objs: []any{sr2Node("hpu", "habana.ai/gaudi", 8), sr2Node("trn", "aws.amazon.com/neuroncore", 128), sr2Node("arc", "gpu.intel.com/xe", 1), sr2Node("amd", "amd.com/xgmi", 1)},
			want: []string{"(cluster)#amd.com/xgmi low", "(cluster)#aws.amazon.com/neuroncore low", "(cluster)#gpu.intel.com/xe low", "(cluster)#habana.ai/gaudi low"},
			contains: []string{"Node hpu offers habana.ai/gaudi, an accelerator resource under the Intel Gaudi (Habana) domain habana.ai/",
				"Node trn offers aws.amazon.com/neuroncore, an accelerator resource under the AWS Neuron domain aws.amazon.com/neuron"},
		},
		"zero quantity is no offer": {objs: []any{sr2Node("a", "habana.ai/gaudi", 0)}},
		"allocatable only": {
			objs: []any{func() *corev1.Node {
				n := sr2Node("a", "", 0)
				n.Status.Allocatable["habana.ai/gaudi"] = sr2Qty(8)
				return n
			}()},
			want: []string{"(cluster)#habana.ai/gaudi low"},
		},
		"declared not a GPU": {
			objs: []any{sr2Node("nic", "nvidia.com/hostdev", 2), sr2Node("rdma", "nvidia.com/rdma_shared_device_a", 63)},
			cfg: func(c *auditor.Config) {
				c.SR2.NotGPUResources = []string{"nvidia.com/hostdev", "nvidia.com/rdma_shared_device_*"}
			},
		},
		"one finding per resource, nodes sorted and bounded": {
			objs: func() []any {
				var out []any
				for i := 7; i >= 1; i-- {
					out = append(out, sr2Node(fmt.Sprintf("hpu-%d", i), "habana.ai/gaudi", 8))
				}
				return out
			}(),
			want:     []string{"(cluster)#habana.ai/gaudi low"},
			contains: []string{"Nodes hpu-1, hpu-2, hpu-3, hpu-4, hpu-5 and 2 more offer habana.ai/gaudi"},
		},
		"Nodes not visible: silent": {
			objs: []any{sr2Node("a", "habana.ai/gaudi", 8), map[string]auditor.Availability{auditor.ResourceNodes: {State: auditor.Forbidden}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := auditor.DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			r := ruleFor(gpuResourceUnlisted)(cfg)
			require.Equal(t, rule, r.Meta().ID)
			res := r.Evaluate(snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			for _, f := range res.Findings {
				assert.Nil(t, f.Object)
				assert.NotEmpty(t, f.Remediation)
			}
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Empty(t, res.Inconclusive)
		})
	}
}

func TestAcceleratorDomainsHaveSources(t *testing.T) {
	for _, d := range acceleratorDomains {
		assert.NotEmpty(t, d.Source, d.Prefix)
		assert.Contains(t, d.Prefix, "/", "a domain must end the prefix: %s", d.Prefix)
	}
}
