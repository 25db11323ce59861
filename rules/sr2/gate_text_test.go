package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestGPUResourcesMissed(t *testing.T) {
	resources := []string{"nvidia.com/gpu", "nvidia.com/mig-*", "amd.com/gpu"}
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

// The default list holds NVIDIA's time-slicing rename: a gate naming nvidia.com/gpu alone
// (a Kyverno pattern key, a CEL map key) does not match nvidia.com/gpu.shared; a vendor
// prefix does.
func TestGPUResourcesMissedTimeSlicing(t *testing.T) {
	resources := auditor.DefaultConfig().SR2.GPUResources
	assert.Contains(t, resources, "nvidia.com/gpu.shared")
	assert.Equal(t, []string{"nvidia.com/gpu.shared"}, gpuResourcesMissed([]string{"nvidia.com/gpu", "nvidia.com/mig-*", "amd.com/gpu"}, resources))
	assert.Empty(t, gpuResourcesMissed([]string{"r.startsWith('nvidia.com/')", "amd.com/gpu"}, resources))
	assert.Empty(t, gpuResourcesMissed([]string{"nvidia.com/gpu", "nvidia.com/gpu.shared", "nvidia.com/mig-*", "amd.com/gpu"}, resources))
}

func TestContainsToken(t *testing.T) {
	cases := map[string]struct {
		s, tok string
		want   bool
	}{
		"whole":                          {"nvidia.com/gpu", "nvidia.com/gpu", true},
		"quoted":                         {"limits['nvidia.com/gpu']", "nvidia.com/gpu", true},
		"followed by a name character":   {"nvidia.com/gpu.shared", "nvidia.com/gpu", false},
		"a later occurrence stands":      {"nvidia.com/gpu.shared nvidia.com/gpu", "nvidia.com/gpu", true},
		"prefix before a star":           {"nvidia.com/mig-*", "nvidia.com/mig-", true},
		"prefix of a longer name":        {"nvidia.com/mig-1g.10gb", "nvidia.com/mig-", false},
		"absent":                         {"amd.com/gpu", "nvidia.com/gpu", false},
		"preceded by a name char counts": {"xnvidia.com/gpu", "nvidia.com/gpu", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, containsToken(tc.s, tc.tok)) })
	}
}

func TestTextPrefixes(t *testing.T) {
	cases := map[string]struct {
		text []string
		want []string
	}{
		"wildcard key":               {text: []string{"X(nvidia.com/*)"}, want: []string{"nvidia.com/"}},
		"wildcard without a slash":   {text: []string{"team-*"}},
		"CEL startsWith":             {text: []string{"r.startsWith('nvidia.com/')"}, want: []string{"nvidia.com/"}},
		"JMESPath starts_with":       {text: []string{"starts_with(@, \"amd.com/\")"}, want: []string{"amd.com/"}},
		"too short a prefix ignored": {text: []string{"r.startsWith('nv')"}},
		"several texts in order":     {text: []string{"a.io/x*", "startsWith(`b.io/`)"}, want: []string{"a.io/x", "b.io/"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, textPrefixes(tc.text)) })
	}
}

func TestTextNames(t *testing.T) {
	cases := map[string]struct {
		text []string
		name string
		want bool
	}{
		"exact label":      {[]string{"request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\""}, "kueue.x-k8s.io/queue-name", true},
		"through a prefix": {[]string{"r.startsWith('kueue.x-k8s.io/')"}, "kueue.x-k8s.io/queue-name", true},
		"another label":    {[]string{"kueue.x-k8s.io/queue-name-v2"}, "kueue.x-k8s.io/queue-name", false},
		"nothing":          {nil, "kueue.x-k8s.io/queue-name", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, textNames(tc.text, tc.name)) })
	}
}

func TestMentionsResources(t *testing.T) {
	for text, want := range map[string]bool{
		"spec.containers[].resources": true, "c.limits": true, "requests.cpu": true, "metadata.labels": false, "": false,
	} {
		assert.Equal(t, want, mentionsResources([]string{text}), text)
	}
}
