package live

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// lastApplied is kubectl's copy of the whole object; rules never read it and it can
// double an object's size in the cache.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

func stripMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
	if _, ok := m.Annotations[lastApplied]; ok {
		a := make(map[string]string, len(m.Annotations)-1)
		for k, v := range m.Annotations {
			if k != lastApplied {
				a[k] = v
			}
		}
		m.Annotations = a
	}
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Resources: c.Resources, RestartPolicy: c.RestartPolicy, Ports: c.Ports}
	}
	return out
}

// podStub is what the pod cache keeps of a pod Options.KeepPod rejects: enough metadata
// for the informer to key it and notice updates. Snapshots do not show it, and its
// events wake nobody.
type podStub struct {
	metav1.PartialObjectMetadata
}

func stubOf(p *corev1.Pod) *podStub {
	return &podStub{PartialObjectMetadata: metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: p.Namespace, Name: p.Name, UID: p.UID, ResourceVersion: p.ResourceVersion,
	}}}
}

func isStub(obj any) bool {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	_, ok := obj.(*podStub)
	return ok
}

// transformKeeping is transform with a pod filter (nil keeps every pod).
func transformKeeping(keep func(*corev1.Pod) bool) cache.TransformFunc {
	if keep == nil {
		return transform
	}
	return func(obj any) (any, error) {
		if p, ok := obj.(*corev1.Pod); ok && !keep(p) {
			return stubOf(p), nil
		}
		return transform(obj)
	}
}

// transform strips what no rule reads before objects enter the informer caches:
// managedFields everywhere (30-50% of an object), and for pods everything but the
// fields the rules join on. It runs on the informer's goroutine, so it must be cheap and
// must not fail: unknown types pass through with managedFields stripped.
func transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		stripMeta(&o.ObjectMeta)
		eph := make([]corev1.EphemeralContainer, len(o.Spec.EphemeralContainers))
		for i, c := range o.Spec.EphemeralContainers {
			eph[i] = corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: c.Name, Resources: c.Resources}}
		}
		o.Spec = corev1.PodSpec{
			Containers:          slimContainers(o.Spec.Containers),
			InitContainers:      slimContainers(o.Spec.InitContainers),
			EphemeralContainers: eph,
			Resources:           o.Spec.Resources,
			SchedulingGates:     o.Spec.SchedulingGates,
			NodeName:            o.Spec.NodeName,
			HostNetwork:         o.Spec.HostNetwork,
		}
		o.Status = corev1.PodStatus{Phase: o.Status.Phase, PodIP: o.Status.PodIP}
	case *corev1.Node:
		stripMeta(&o.ObjectMeta)
		o.Spec = corev1.NodeSpec{Unschedulable: o.Spec.Unschedulable, Taints: o.Spec.Taints}
		// Extended resources (vendor-domain names such as nvidia.com/gpu) grade the gate's GPU
		// coverage; cpu, memory, pods and hugepages are read by no rule.
		o.Status = corev1.NodeStatus{NodeInfo: o.Status.NodeInfo, Capacity: extendedResources(o.Status.Capacity), Allocatable: extendedResources(o.Status.Allocatable)}
	case *appsv1.DaemonSet:
		stripMeta(&o.ObjectMeta)
		stripMeta(&o.Spec.Template.ObjectMeta)
	case *appsv1.Deployment:
		stripMeta(&o.ObjectMeta)
		stripMeta(&o.Spec.Template.ObjectMeta)
	case *corev1.Service:
		stripMeta(&o.ObjectMeta)
		o.Spec = corev1.ServiceSpec{Type: o.Spec.Type, ClusterIP: o.Spec.ClusterIP, ClusterIPs: o.Spec.ClusterIPs,
			Ports: o.Spec.Ports, Selector: o.Spec.Selector}
		o.Status = corev1.ServiceStatus{}
	case *corev1.ConfigMap:
		stripMeta(&o.ObjectMeta)
	case *corev1.Namespace:
		stripMeta(&o.ObjectMeta)
	case metav1.Object:
		o.SetManagedFields(nil)
		if u, ok := obj.(*unstructured.Unstructured); ok {
			if a := u.GetAnnotations(); a[lastApplied] != "" {
				delete(a, lastApplied)
				u.SetAnnotations(a)
			}
		}
	case cache.DeletedFinalStateUnknown:
		// tombstones carry an object we never need to strip: it is about to be removed
	}
	return obj, nil
}

// ownerMeta is how metadata informers cache pod owners: the object's metadata and the
// auditor.Owner built from it once. Every snapshot then shares the same *Owner for an
// unchanged object, which lets incremental evaluation see that a namespace's owners did
// not change without comparing them field by field.
type ownerMeta struct {
	*metav1.PartialObjectMetadata
	owner *auditor.Owner
}

// ownerTransform strips an owner kind's metadata and wraps it with its Owner.
func ownerTransform(apiVersion, kind string) cache.TransformFunc {
	return func(obj any) (any, error) {
		o, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return transform(obj)
		}
		stripMeta(&o.ObjectMeta)
		return &ownerMeta{PartialObjectMetadata: o, owner: &auditor.Owner{
			APIVersion: apiVersion, Kind: kind, Namespace: o.Namespace, Name: o.Name,
			UID: o.UID, Labels: o.Labels, OwnerReferences: o.OwnerReferences,
		}}, nil
	}
}

// extendedResources keeps the resources whose names carry a domain (extended resources).
func extendedResources(l corev1.ResourceList) corev1.ResourceList {
	var out corev1.ResourceList
	for name, q := range l {
		if strings.Contains(string(name), "/") {
			if out == nil {
				out = corev1.ResourceList{}
			}
			out[name] = q
		}
	}
	return out
}
