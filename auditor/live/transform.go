package live

import (
	"slices"
	"sort"
	"strings"
	"sync"

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

// projection turns objects into what the rules read of them before they enter the
// informer caches (see transform). Its zero value keeps every resource and annotation.
type projection struct {
	// gpu reports whether a resource name is a configured GPU resource; nil keeps
	// every resource.
	gpu func(string) bool
	// queueLabel is Kueue's queue label: the rules also look for it as an annotation.
	queueLabel string
	// keep, when set, decides which pods are kept projected; the others become stubs.
	keep func(*corev1.Pod) bool
	// lists shares equal GPU resource lists between pods (nil: no sharing).
	lists *resourceLists
}

// resourceLists interns GPU resource lists: the pods of a Job, a Deployment or a
// notebook image all ask for the same "nvidia.com/gpu: 1", and a list is a map of about
// 300 bytes. Cached objects are read-only, so pods can share one. Bounded: past
// maxResourceLists distinct lists, new ones are not shared.
type resourceLists struct {
	mu sync.Mutex
	m  map[string]corev1.ResourceList
}

const maxResourceLists = 4096

func (r *resourceLists) intern(l corev1.ResourceList) corev1.ResourceList {
	if r == nil || l == nil {
		return l
	}
	names := make([]string, 0, len(l))
	for name := range l {
		names = append(names, string(name))
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		q := l[corev1.ResourceName(n)]
		b.WriteString(n)
		b.WriteByte('=')
		b.WriteString(q.String())
		b.WriteByte(';')
	}
	key := b.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	if shared, ok := r.m[key]; ok {
		return shared
	}
	if len(r.m) < maxResourceLists {
		r.m[key] = l
	}
	return l
}

func newProjection(cfg auditor.Config, keep func(*corev1.Pod) bool) projection {
	p := projection{queueLabel: cfg.SR2.QueueNameLabel, keep: keep, lists: &resourceLists{m: map[string]corev1.ResourceList{}}}
	if len(cfg.SR2.GPUResources) > 0 {
		sr2 := cfg.SR2
		p.gpu = sr2.IsGPUResource
	}
	return p
}

// podAnnotation reports whether the rules read a pod annotation: the auditor's own
// (waivers), Kueue's, and the queue label spelled as an annotation (a finding says
// Kueue ignores it). Other annotations (sidecar injectors', Prometheus', kubectl's) can
// be most of a pod's metadata. Without a configuration (tests) every annotation but
// kubectl's last-applied copy is kept.
func (p projection) podAnnotation(k string) bool {
	if k == lastApplied {
		return false
	}
	return p.queueLabel == "" || k == p.queueLabel || strings.HasPrefix(k, "kueue.x-k8s.io/") ||
		strings.HasPrefix(k, auditor.WaiveAnnotation[:strings.IndexByte(auditor.WaiveAnnotation, '/')+1])
}

// resources keeps the GPU resources of a requirements block (the rules size GPU demand
// only); the block is shared when nothing is dropped.
func (p projection) resources(r corev1.ResourceRequirements) (corev1.ResourceRequirements, bool) {
	if p.gpu == nil {
		return corev1.ResourceRequirements{Requests: r.Requests, Limits: r.Limits}, len(r.Requests)+len(r.Limits) > 0
	}
	gpus := func(l corev1.ResourceList) corev1.ResourceList {
		var out corev1.ResourceList
		for name, q := range l {
			if p.gpu(string(name)) {
				if out == nil {
					out = corev1.ResourceList{}
				}
				out[name] = q
			}
		}
		return out
	}
	out := corev1.ResourceRequirements{Requests: p.lists.intern(gpus(r.Requests)), Limits: p.lists.intern(gpus(r.Limits))}
	return out, out.Requests != nil || out.Limits != nil
}

// containers keeps the containers the rules and probes read: those asking for a GPU
// resource (name, restart policy, GPU amounts: the GPU rules name the container) and
// those exposing ports (the network probe targets them).
func (p projection) containers(cs []corev1.Container) []corev1.Container {
	var out []corev1.Container
	for _, c := range cs {
		r, gpu := p.resources(c.Resources)
		if !gpu && len(c.Ports) == 0 {
			continue
		}
		out = append(out, corev1.Container{Name: c.Name, Resources: r, RestartPolicy: c.RestartPolicy, Ports: c.Ports})
	}
	return out
}

// pod projects a pod onto a new, minimal *corev1.Pod: identity, labels, the annotations
// the rules read, owner references, GPU demand per container, scheduling gates, node,
// phase and IP. Rules keep reading *corev1.Pod; TestProjectionKeepsWhatRulesRead holds
// the projection to every rule's findings.
func (p projection) pod(o *corev1.Pod) *corev1.Pod {
	var ann map[string]string
	for k, v := range o.Annotations {
		if p.podAnnotation(k) {
			if ann == nil {
				ann = map[string]string{}
			}
			ann[k] = v
		}
	}
	out := &corev1.Pod{
		TypeMeta: o.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name, UID: o.UID, ResourceVersion: o.ResourceVersion,
			Labels: o.Labels, Annotations: ann, OwnerReferences: o.OwnerReferences, DeletionTimestamp: o.DeletionTimestamp},
		Spec: corev1.PodSpec{
			Containers:      p.containers(o.Spec.Containers),
			InitContainers:  p.containers(o.Spec.InitContainers),
			SchedulingGates: o.Spec.SchedulingGates,
			NodeName:        o.Spec.NodeName,
			HostNetwork:     o.Spec.HostNetwork,
		},
		Status: corev1.PodStatus{Phase: o.Status.Phase, PodIP: o.Status.PodIP},
	}
	for _, c := range o.Spec.EphemeralContainers {
		if r, gpu := p.resources(c.Resources); gpu {
			out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers,
				corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: c.Name, Resources: r}})
		}
	}
	if o.Spec.Resources != nil {
		if r, gpu := p.resources(*o.Spec.Resources); gpu {
			out.Spec.Resources = &r
		}
	}
	return out
}

// podStub is what the pod cache keeps of a pod Options.KeepPod rejects: its key
// ("namespace/name"), which is all the informer needs to notice its update or deletion
// (cache.MetaNamespaceKeyFunc reads an ExplicitKey as the key itself). About 100 bytes
// with its store entry, against ~3 KB for a typed pod. Snapshots do not show it, the
// namespace index leaves it out, and its events wake nobody.
type podStub = cache.ExplicitKey

func isStub(obj any) bool {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	_, ok := obj.(podStub)
	return ok
}

// namespaceIndex is cache.MetaNamespaceIndexFunc for caches that may hold pod stubs:
// stubs are not indexed (partial snapshots never read them).
func namespaceIndex(obj any) ([]string, error) {
	if _, ok := obj.(podStub); ok {
		return nil, nil
	}
	return cache.MetaNamespaceIndexFunc(obj)
}

// Projector is the projection the daemon's caches apply, for a source that holds objects
// another way (the offline scan): it returns what the daemon would cache of obj, or nil
// for a pod keep rejects (the daemon keeps only its key). Scan and daemon then judge the
// same objects, and a scan holds only what the rules read. It may change obj in place.
func Projector(cfg auditor.Config, keep func(*corev1.Pod) bool) func(any) any {
	p := newProjection(cfg, keep)
	return func(obj any) any {
		out, _ := p.transform(obj) // never fails: unknown types pass through
		if isStub(out) {
			return nil
		}
		return out
	}
}

// transform is the projection's cache.TransformFunc.
func (p projection) transform(obj any) (any, error) {
	if o, ok := obj.(*corev1.Pod); ok {
		if p.keep != nil && !p.keep(o) {
			return podStub(o.Namespace + "/" + o.Name), nil
		}
		return p.pod(o), nil
	}
	return transform(obj)
}

// transform strips what no rule reads before objects enter the informer caches:
// managedFields everywhere (30-50% of an object), and for some kinds everything but the
// fields the rules read. It runs on the informer's goroutine, so it must be cheap and
// must not fail: unknown types pass through with managedFields stripped. Pods go
// through projection.transform.
func transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return projection{}.pod(o), nil
	case *corev1.Node:
		stripMeta(&o.ObjectMeta)
		// Capacity and allocatable say which GPU resources a node offers.
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
	case *unstructured.Unstructured:
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a[lastApplied] != "" {
			delete(a, lastApplied)
			o.SetAnnotations(a)
		}
		if o.GetKind() == "Workload" && o.GroupVersionKind().Group == "kueue.x-k8s.io" {
			projectWorkload(o)
		}
	case metav1.Object:
		o.SetManagedFields(nil)
	case cache.DeletedFinalStateUnknown:
		// tombstones carry an object we never need to strip: it is about to be removed
	}
	return obj, nil
}

// projectWorkload keeps what the SR2 rules read of a Kueue Workload (rules/kueue
// NewWorkload): metadata, spec.queueName, status.conditions and
// status.admission.clusterQueue. spec.podSets (a copy of every pod template) and the
// admission's assignments are most of a Workload. A field of an unexpected type is kept
// as it is, so the rules still name it.
func projectWorkload(u *unstructured.Unstructured) {
	keep := func(parent map[string]any, fields ...string) {
		for k := range parent {
			if !slices.Contains(fields, k) {
				delete(parent, k)
			}
		}
	}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		keep(spec, "queueName")
	}
	if status, ok := u.Object["status"].(map[string]any); ok {
		keep(status, "conditions", "admission")
		if adm, ok := status["admission"].(map[string]any); ok {
			keep(adm, "clusterQueue")
		}
	}
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
