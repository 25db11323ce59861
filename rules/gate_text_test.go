package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestGPUResourcesMissed(t *testing.T) {
	resources := auditor.DefaultConfig().SR2.GPUResources // nvidia.com/gpu, nvidia.com/mig-*, amd.com/gpu
	tests := map[string]struct {
		text []string
		want []string
	}{
		"every resource named":        {text: []string{"limits['nvidia.com/gpu']", "nvidia.com/mig-*", "amd.com/gpu"}},
		"vendor prefix via CEL":       {text: []string{"r.startsWith('nvidia.com/') || r == 'amd.com/gpu'"}},
		"vendor prefix via JMESPath":  {text: []string{"[?starts_with(@, 'nvidia.com/')]", "amd.com/gpu"}},
		"vendor wildcard key":         {text: []string{"X(nvidia.com/*)", "X(amd.com/*)"}},
		"only nvidia.com/gpu":         {text: []string{"resources.limits.\"nvidia.com/gpu\""}, want: []string{"nvidia.com/mig-*", "amd.com/gpu"}},
		"a MIG profile is not all":    {text: []string{"nvidia.com/gpu", "nvidia.com/mig-1g.10gb", "amd.com/gpu"}, want: []string{"nvidia.com/mig-*"}},
		"MIG prefix literally":        {text: []string{"nvidia.com/gpu", "r.startsWith('nvidia.com/mig-')", "amd.com/gpu"}},
		"a longer name is another":    {text: []string{"nvidia.com/gpu.shared", "nvidia.com/mig-*", "amd.com/gpu"}, want: []string{"nvidia.com/gpu"}},
		"checks limits, names no GPU": {text: []string{"resources.limits.cpu"}, want: []string{"nvidia.com/gpu", "nvidia.com/mig-*", "amd.com/gpu"}},
		"resource-agnostic":           {text: []string{"metadata", "labels", "kueue.x-k8s.io/queue-name", "?*"}},
		"empty":                       {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, gpuResourcesMissed(tc.text, resources))
		})
	}
}
