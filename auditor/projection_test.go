package auditor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Node projection keeps every extended resource a Node offers, configured as a GPU
// or not: gpu-resource-unlisted reports the vendor-domain ones the configuration does
// not name, so the projection must not filter by the configuration.
func TestNodeProjectionKeepsExtendedResources(t *testing.T) {
	info, ok := LookupResource(ResourceNodes)
	require.True(t, ok)
	list := corev1.ResourceList{
		"cpu": resource.MustParse("96"), "memory": resource.MustParse("1Ti"), "hugepages-2Mi": resource.MustParse("0"),
		"nvidia.com/gpu.shared": resource.MustParse("32"), "habana.ai/gaudi": resource.MustParse("8"),
		"aws.amazon.com/neuroncore": resource.MustParse("128"), "gpu.intel.com/xe": resource.MustParse("2"),
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Capacity: list.DeepCopy(), Allocatable: list.DeepCopy()}}
	got, ok := info.Project(NewProjection(DefaultConfig(), nil), n).(*corev1.Node)
	require.True(t, ok)
	for _, l := range []corev1.ResourceList{got.Status.Capacity, got.Status.Allocatable} {
		var names []string
		for r := range l {
			names = append(names, string(r))
		}
		assert.ElementsMatch(t, []string{"nvidia.com/gpu.shared", "habana.ai/gaudi", "aws.amazon.com/neuroncore", "gpu.intel.com/xe"}, names)
	}
}
