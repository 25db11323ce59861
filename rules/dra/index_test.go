package dra

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func sliceObj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
	return &unstructured.Unstructured{Object: m}
}

// The slices of GPU drivers that publish devices, named with their device count.
func TestPublishedGPUDevices(t *testing.T) {
	one := sliceObj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-1-gpu}
spec:
  driver: gpu.nvidia.com
  nodeName: node-1
  pool: {name: node-1, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: gpu-0}
`)
	two := sliceObj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-2-gpu}
spec:
  driver: gpu.nvidia.com
  nodeName: node-2
  pool: {name: node-2, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: gpu-0}
  - {name: gpu-1}
`)
	empty := sliceObj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-3-gpu}
spec:
  driver: gpu.nvidia.com
  nodeName: node-3
  pool: {name: node-3, generation: 1, resourceSliceCount: 1}
`)
	nic := sliceObj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-1-nic}
spec:
  driver: nic.example.com
  nodeName: node-1
  pool: {name: node-1, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: eth1}
`)
	got := PublishedGPUDevices(snapshottest.New(one, two, empty, nic), []string{"gpu.nvidia.com"})
	assert.Equal(t, []string{
		"ResourceSlice node-1-gpu (driver gpu.nvidia.com, 1 device)",
		"ResourceSlice node-2-gpu (driver gpu.nvidia.com, 2 devices)",
	}, got)
	assert.Empty(t, PublishedGPUDevices(snapshottest.New(nic, empty), []string{"gpu.nvidia.com"}))
}
