package auditor

import (
	"slices"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// LastAppliedAnnotation is kubectl's copy of the whole object; rules never read it and it
// can double an object's size in a cache.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Projection is what the projections of objects onto what the rules read depend on (see
// ResourceInfo.Project): the configuration's GPU resources and queue label, the pods to
// keep, and the GPU resource lists pods share. Built once per source; safe for concurrent
// use. A nil *Projection keeps every resource and annotation and every pod.
type Projection struct {
	// gpu reports whether a resource name is a configured GPU resource; nil keeps
	// every resource.
	gpu func(string) bool
	// queueLabel is Kueue's queue label: the rules also look for it as an annotation.
	queueLabel string
	// keep, when set, decides which pods are kept; Project returns nil for the others.
	keep func(*corev1.Pod) bool
	// lists shares equal GPU resource lists between pods (nil: no sharing).
	lists *resourceLists
}

// NewProjection is the projection for cfg's rules; keep (nil: every pod) decides which
// pods are kept (PodsRead of the rules).
func NewProjection(cfg Config, keep func(*corev1.Pod) bool) *Projection {
	p := &Projection{queueLabel: cfg.SR2.QueueNameLabel, keep: keep, lists: &resourceLists{m: map[string]corev1.ResourceList{}}}
	if len(cfg.SR2.GPUResources) > 0 {
		sr2 := cfg.SR2
		p.gpu = sr2.IsGPUResource
	}
	return p
}

// Project returns what the sources keep of obj, an object of this kind as Decode returns
// it or as an informer lists it: the kind's projection (its entry in Kinds) onto the
// fields the rules read, managedFields dropped everywhere. The informer caches (live)
// and the offline scan (manifests) both apply it, so daemon and scan judge the same
// objects. It may change obj in place, returns nil for a pod p rejects (see
// NewProjection), and must not fail: an object of another type passes through with its
// managedFields dropped.
func (r ResourceInfo) Project(p *Projection, obj any) any {
	if p == nil {
		p = &zeroProjection
	}
	return r.store.project(r, p, obj)
}

// zeroProjection is a nil *Projection's: every resource, annotation and pod kept.
var zeroProjection Projection

// stripMeta drops what no rule reads of any object's metadata: managedFields (30-50% of
// an object) and kubectl's last-applied copy.
func stripMeta(m metav1.Object) {
	m.SetManagedFields(nil)
	if a := m.GetAnnotations(); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			kept := make(map[string]string, len(a)-1)
			for k, v := range a {
				if k != LastAppliedAnnotation {
					kept[k] = v
				}
			}
			m.SetAnnotations(kept)
		}
	}
}

// dropManagedFields is the projection of any object no entry projects further.
func dropManagedFields(obj any) any {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj
}

// projectDaemonSet strips the DaemonSet's and its pod template's metadata.
func projectDaemonSet(_ *Projection, o *appsv1.DaemonSet) *appsv1.DaemonSet {
	stripMeta(&o.ObjectMeta)
	stripMeta(&o.Spec.Template.ObjectMeta)
	return o
}

// projectDeployment strips the Deployment's and its pod template's metadata.
func projectDeployment(_ *Projection, o *appsv1.Deployment) *appsv1.Deployment {
	stripMeta(&o.ObjectMeta)
	stripMeta(&o.Spec.Template.ObjectMeta)
	return o
}

// projectNode keeps a Node's taints and schedulability, its node info and its extended
// resources: capacity and allocatable say which GPU resources a node offers (vendor-domain
// names such as nvidia.com/gpu grade the gate's GPU coverage); cpu, memory, pods and
// hugepages are read by no rule.
func projectNode(_ *Projection, o *corev1.Node) *corev1.Node {
	stripMeta(&o.ObjectMeta)
	o.Spec = corev1.NodeSpec{Unschedulable: o.Spec.Unschedulable, Taints: o.Spec.Taints}
	o.Status = corev1.NodeStatus{NodeInfo: o.Status.NodeInfo, Capacity: extendedResources(o.Status.Capacity), Allocatable: extendedResources(o.Status.Allocatable)}
	return o
}

// projectService keeps what the network probe targets and the waivers read: type,
// cluster IPs, ports and selector.
func projectService(_ *Projection, o *corev1.Service) *corev1.Service {
	stripMeta(&o.ObjectMeta)
	o.Spec = corev1.ServiceSpec{Type: o.Spec.Type, ClusterIP: o.Spec.ClusterIP, ClusterIPs: o.Spec.ClusterIPs,
		Ports: o.Spec.Ports, Selector: o.Spec.Selector}
	o.Status = corev1.ServiceStatus{}
	return o
}

// projectPod is the pod projection (Projection.pod), or nil for a pod p does not keep.
func projectPod(p *Projection, o *corev1.Pod) *corev1.Pod {
	if p.keep != nil && !p.keep(o) {
		return nil
	}
	return p.pod(o)
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

// keepFields deletes every field of m but the named ones.
func keepFields(m map[string]any, fields ...string) {
	for k := range m {
		if !slices.Contains(fields, k) {
			delete(m, k)
		}
	}
}

// projectClaimSpec keeps of a ResourceClaimSpec what says which devices it asks for,
// devices.requests (class names, CEL selectors, allocation modes and counts); the
// constraints and the opaque driver configuration (devices.config) are dropped.
func projectClaimSpec(spec map[string]any) {
	keepFields(spec, "devices")
	if dev, ok := spec["devices"].(map[string]any); ok {
		keepFields(dev, "requests")
	}
}

// projectResourceClaim keeps metadata and spec.devices.requests (projectClaimSpec); the
// status (allocation results, reservations) is read by no rule.
func projectResourceClaim(u *unstructured.Unstructured) {
	keepFields(u.Object, "apiVersion", "kind", "metadata", "spec")
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		projectClaimSpec(spec)
	}
}

// projectResourceClaimTemplate keeps metadata and the template's spec.spec.devices.requests.
func projectResourceClaimTemplate(u *unstructured.Unstructured) {
	keepFields(u.Object, "apiVersion", "kind", "metadata", "spec")
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		keepFields(spec, "spec")
		if inner, ok := spec["spec"].(map[string]any); ok {
			projectClaimSpec(inner)
		}
	}
}

// projectDeviceClass keeps a DeviceClass's CEL selectors and extended resource name; its
// opaque driver configuration (spec.config) is dropped.
func projectDeviceClass(u *unstructured.Unstructured) {
	keepFields(u.Object, "apiVersion", "kind", "metadata", "spec")
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		keepFields(spec, "selectors", "extendedResourceName")
	}
}

// projectResourceSlice keeps a ResourceSlice's driver, node and device names: whether a
// GPU driver publishes devices is all the rules read. The attributes and capacities of
// every device are most of a slice.
func projectResourceSlice(u *unstructured.Unstructured) {
	keepFields(u.Object, "apiVersion", "kind", "metadata", "spec")
	spec, ok := u.Object["spec"].(map[string]any)
	if !ok {
		return
	}
	keepFields(spec, "driver", "nodeName", "devices")
	if devs, ok := spec["devices"].([]any); ok {
		for _, d := range devs {
			if m, ok := d.(map[string]any); ok {
				keepFields(m, "name")
			}
		}
	}
}

// stripUnstructured drops a custom object's managedFields and last-applied copy.
func stripUnstructured(o *unstructured.Unstructured) {
	o.SetManagedFields(nil)
	if a := o.GetAnnotations(); a[LastAppliedAnnotation] != "" {
		delete(a, LastAppliedAnnotation)
		o.SetAnnotations(a)
	}
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

// podAnnotation reports whether the rules read a pod annotation: the auditor's own
// (waivers), Kueue's, and the queue label spelled as an annotation (a finding says
// Kueue ignores it). Other annotations (sidecar injectors', Prometheus', kubectl's) can
// be most of a pod's metadata. Without a configuration (tests) every annotation but
// kubectl's last-applied copy is kept.
func (p *Projection) podAnnotation(k string) bool {
	if k == LastAppliedAnnotation {
		return false
	}
	return p.queueLabel == "" || k == p.queueLabel || strings.HasPrefix(k, "kueue.x-k8s.io/") ||
		strings.HasPrefix(k, WaiveAnnotation[:strings.IndexByte(WaiveAnnotation, '/')+1])
}

// resources keeps the GPU resources of a requirements block (the rules size GPU demand
// only); the block is shared when nothing is dropped.
func (p *Projection) resources(r corev1.ResourceRequirements) (corev1.ResourceRequirements, bool) {
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
func (p *Projection) containers(cs []corev1.Container) []corev1.Container {
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
// phase and IP. Rules keep reading *corev1.Pod; TestProjectionKeepsWhatRulesRead (in
// auditor/live) holds the projection to every rule's findings.
func (p *Projection) pod(o *corev1.Pod) *corev1.Pod {
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
			// The claims a pod takes devices through (Dynamic Resource Allocation).
			ResourceClaims: o.Spec.ResourceClaims,
		},
		// The claims generated for the pod from its claim templates (the claims it runs with).
		Status: corev1.PodStatus{Phase: o.Status.Phase, PodIP: o.Status.PodIP, ResourceClaimStatuses: o.Status.ResourceClaimStatuses},
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
