package synth

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"
)

// Custom resources of the synthetic platform, as the fake discovery serves them.
var (
	ClusterPolicyGVR = schema.GroupVersionResource{Group: "kyverno.io", Version: "v1", Resource: "clusterpolicies"}
	CNPGClusterGVR   = schema.GroupVersionResource{Group: "postgresql.cnpg.io", Version: "v1", Resource: "clusters"}
	LocalQueueGVR    = schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: "v1beta2", Resource: "localqueues"}
)

// FakeClients serves the cluster from client-go fakes, as live.NewForClients takes them:
// typed objects from the clientset (whose discovery also lists the Kueue, Kyverno and
// CNPG resources and the Job and ReplicaSet owner kinds), CRD-backed objects from the
// dynamic client, Jobs and ReplicaSets as metadata.
func (c *Cluster) FakeClients() (*fake.Clientset, *dynfake.FakeDynamicClient, *metafake.FakeMetadataClient, error) {
	typed, err := c.TypedObjects()
	if err != nil {
		return nil, nil, nil, err
	}
	// NewClientset tracks managed fields on every object: minutes for 100k pods.
	cs := fake.NewSimpleClientset(typed...) //nolint:staticcheck
	cs.Resources = []*metav1.APIResourceList{
		{GroupVersion: "kueue.x-k8s.io/v1beta2", APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}},
		{GroupVersion: "kyverno.io/v1", APIResources: []metav1.APIResource{{Name: "clusterpolicies", Kind: "ClusterPolicy"}}},
		{GroupVersion: "postgresql.cnpg.io/v1", APIResources: []metav1.APIResource{{Name: "clusters", Namespaced: true, Kind: "Cluster"}}},
		{GroupVersion: "batch/v1", APIResources: []metav1.APIResource{{Name: "jobs", Namespaced: true, Kind: "Job"}}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "replicasets", Namespaced: true, Kind: "ReplicaSet"}}},
	}
	var customs []runtime.Object
	for _, u := range c.CustomObjects() {
		customs = append(customs, u)
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		WorkloadGVR: "WorkloadList", ClusterPolicyGVR: "ClusterPolicyList", CNPGClusterGVR: "ClusterList", LocalQueueGVR: "LocalQueueList",
	}, customs...)
	mscheme := metafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(mscheme); err != nil {
		return nil, nil, nil, err
	}
	var owners []runtime.Object
	for _, o := range typed {
		m, ok := o.(metav1.Object)
		if !ok {
			continue
		}
		gvk := o.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "Job" || gvk.Kind == "ReplicaSet" {
			owners = append(owners, &metav1.PartialObjectMetadata{
				TypeMeta:   metav1.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind},
				ObjectMeta: metav1.ObjectMeta{Namespace: m.GetNamespace(), Name: m.GetName(), UID: m.GetUID(), Labels: m.GetLabels(), OwnerReferences: m.GetOwnerReferences()},
			})
		}
	}
	return cs, dyn, metafake.NewSimpleMetadataClient(mscheme, owners...), nil
}
