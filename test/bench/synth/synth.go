// Package synth generates synthetic clusters for benchmarks and load tests: the example
// platform (SR1 protected namespaces and policies, the Kyverno gate, LiteLLM and its
// database) plus tenant namespaces of 20 pods each, with GPU Jobs, Kueue Workloads,
// NetworkPolicies and a steady proportion of violations. The same cluster can be turned
// into an auditor.Snapshot (rule benchmarks), into objects for a fake clientset (informer
// benchmarks), into manifests (`enforcement-auditor scan`), or created on an API server
// (test/load).
package synth

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

//go:embed platform.yaml
var platformYAML []byte

// Labels and names the generated objects use.
const (
	ManagedLabel = "llm-platform/kueue-managed"
	QueueLabel   = "kueue.x-k8s.io/queue-name"
	GPUResource  = "nvidia.com/gpu"
	TenantPrefix = "tenant-"
	// PodsPerNamespace is the size of a tenant namespace.
	PodsPerNamespace = 20
)

// WorkloadGVR is the Kueue Workload resource the generated Workloads belong to.
var WorkloadGVR = schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: "v1beta2", Resource: "workloads"}

// Options shape a cluster. Zero values take the defaults.
type Options struct {
	// Pods is the number of tenant pods, rounded up to whole namespaces of 20.
	Pods int
	// Now anchors waiver expiries (default 2026-03-01T00:00:00Z).
	Now time.Time
}

// Cluster is a generated cluster. Platform holds the example platform's objects as
// decoded from YAML; the rest are the tenant objects, typed.
type Cluster struct {
	Now      time.Time
	Platform []manifests.Object

	Namespaces      []*corev1.Namespace
	Pods            []*corev1.Pod
	NetworkPolicies []*networkingv1.NetworkPolicy
	Deployments     []*appsv1.Deployment
	ReplicaSets     []*appsv1.ReplicaSet
	Jobs            []*batchv1.Job
	Nodes           []*corev1.Node
	Workloads       []*unstructured.Unstructured

	// platform is the platform's objects whole (Platform keeps what a snapshot keeps).
	platform []*unstructured.Unstructured
	nodes    int
}

// Tenant namespace layout (20 pods): a Deployment "web" whose ReplicaSet owns 14 CPU pods;
// a Job "train" with 4 GPU pods (queue-labelled and covered by an admitted Workload in
// Kueue-managed namespaces); a GPU notebook pod with its own queue label and Workload; a
// CPU debug pod. Every second namespace is Kueue-managed. Proportional defects:
//   - every 50th namespace: the notebook has no queue label and no Workload
//     (gpu-pod-missing-queue-name); every second one of those carries a valid waiver;
//   - every 40th namespace (offset 2): the Job's Workload is not admitted
//     (gpu-pod-not-admitted on its 4 pods);
//   - every 200th namespace (offset 100): the debug pod carries a waiver without a
//     reason (waiver-invalid);
//   - every 10th namespace (offset 3): the Job's pods have Succeeded (not counted).
const (
	webReplicas = 14
	jobPods     = 4
)

// Generate builds a cluster deterministically from its options.
func Generate(o Options) (*Cluster, error) {
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	platform, err := manifests.Decode("platform.yaml", bytes.NewReader(platformYAML))
	if err != nil {
		return nil, fmt.Errorf("synth: decoding the platform: %w", err)
	}
	whole, err := decodeWhole(platformYAML)
	if err != nil {
		return nil, fmt.Errorf("synth: decoding the platform: %w", err)
	}
	c := &Cluster{Now: o.Now, Platform: platform, platform: whole, nodes: max(3, o.Pods/100)}
	nss := (o.Pods + PodsPerNamespace - 1) / PodsPerNamespace
	for i := 0; i < nss; i++ {
		c.addTenant(i)
	}
	for i := 0; i < c.nodes; i++ {
		c.Nodes = append(c.Nodes, &corev1.Node{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
			ObjectMeta: metav1.ObjectMeta{Name: NodeName(i), UID: uid("node", i, 0), Labels: map[string]string{"kubernetes.io/os": "linux"}},
			Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.34.2", ContainerRuntimeVersion: "containerd://2.1.4"}},
		})
	}
	return c, nil
}

// decodeWhole decodes a YAML stream into unstructured objects, whole.
func decodeWhole(data []byte) ([]*unstructured.Unstructured, error) {
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var out []*unstructured.Unstructured
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, err
		}
		if m != nil {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
}

// uid returns a stable UID for generated object n of a kind in namespace i.
func uid(kind string, i, n int) types.UID {
	h := uint32(2166136261)
	for _, b := range []byte(kind) {
		h = (h ^ uint32(b)) * 16777619
	}
	return types.UID(fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", h, i&0xffff, (i>>16)&0xfff, n&0xfff, uint64(i)<<16|uint64(n)))
}

// NodeName returns the name of node i.
func NodeName(i int) string { return fmt.Sprintf("node-%05d", i) }

// TenantNamespace returns the name of tenant namespace i.
func TenantNamespace(i int) string { return fmt.Sprintf("%s%05d", TenantPrefix, i) }

// Managed reports whether tenant namespace i is Kueue-managed.
func Managed(i int) bool { return i%2 == 0 }

func (c *Cluster) addTenant(i int) {
	ns := TenantNamespace(i)
	managed := Managed(i)
	labels := map[string]string{"llm-platform/team": fmt.Sprintf("team-%d", i%97), corev1.LabelMetadataName: ns}
	if managed {
		labels[ManagedLabel] = "true"
	}
	c.Namespaces = append(c.Namespaces, &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns, UID: uid("ns", i, 0), Labels: labels},
	})
	tcp := corev1.ProtocolTCP
	c.NetworkPolicies = append(c.NetworkPolicies,
		&networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default-deny-ingress", UID: uid("np", i, 0)},
			Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
		},
		&networkingv1.NetworkPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-same-namespace", UID: uid("np", i, 1)},
			Spec: networkingv1.NetworkPolicySpec{
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}},
				}},
			},
		})

	// web: Deployment -> ReplicaSet -> 14 CPU pods.
	webLabels := map[string]string{"app.kubernetes.io/name": "web", "pod-template-hash": "5d8f7c9b6"}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", UID: uid("deploy", i, 0), Labels: map[string]string{"app.kubernetes.io/name": "web"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(webReplicas)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "web"}},
				Spec:       podSpec("web", "registry.example/web:1", cpu("100m"), false),
			},
		},
	}
	rs := &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-5d8f7c9b6", UID: uid("rs", i, 0), Labels: webLabels,
			OwnerReferences: []metav1.OwnerReference{controllerRef("apps/v1", "Deployment", dep.Name, dep.UID)}},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr(int32(webReplicas)),
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: webLabels}, Spec: dep.Spec.Template.Spec},
		},
	}
	c.Deployments = append(c.Deployments, dep)
	c.ReplicaSets = append(c.ReplicaSets, rs)
	for n := 0; n < webReplicas; n++ {
		c.Pods = append(c.Pods, pod(ns, fmt.Sprintf("web-5d8f7c9b6-%05d", n), uid("pod", i, n), webLabels,
			[]metav1.OwnerReference{controllerRef("apps/v1", "ReplicaSet", rs.Name, rs.UID)},
			podSpec("web", "registry.example/web:1", cpu("100m"), false), corev1.PodRunning, NodeName((i*PodsPerNamespace+n)%c.nodes)))
	}

	// train: Job -> 4 GPU pods, covered by a Workload in managed namespaces.
	jobLabels := map[string]string{}
	if managed {
		jobLabels[QueueLabel] = "research"
	}
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "train", UID: uid("job", i, 0), Labels: jobLabels},
		Spec: batchv1.JobSpec{
			Parallelism: ptr(int32(jobPods)), Completions: ptr(int32(jobPods)),
			Template: corev1.PodTemplateSpec{Spec: podSpec("trainer", "registry.example/trainer:1", gpu(1), true)},
		},
	}
	c.Jobs = append(c.Jobs, job)
	phase := corev1.PodRunning
	if i%10 == 3 {
		phase = corev1.PodSucceeded
	}
	for n := 0; n < jobPods; n++ {
		c.Pods = append(c.Pods, pod(ns, fmt.Sprintf("train-%05d", n), uid("pod", i, webReplicas+n),
			map[string]string{"batch.kubernetes.io/job-name": "train"},
			[]metav1.OwnerReference{controllerRef("batch/v1", "Job", job.Name, job.UID)},
			podSpec("trainer", "registry.example/trainer:1", gpu(1), true), phase, ""))
	}
	if managed {
		c.Workloads = append(c.Workloads, workload(ns, "job-train", "batch/v1", "Job", job.Name, job.UID, i%40 != 2))
	}

	// notebook: a GPU pod with its own queue label and Workload (pod integration).
	nbLabels := map[string]string{"app.kubernetes.io/name": "jupyter"}
	nbUID := uid("pod", i, webReplicas+jobPods)
	missing := i%50 == 0
	if managed && !missing {
		nbLabels[QueueLabel] = "research"
	}
	nb := pod(ns, "notebook", nbUID, nbLabels, nil, podSpec("notebook", "registry.example/notebook:1", gpu(1), false), corev1.PodRunning, "")
	if missing && i%100 == 50 {
		nb.Annotations = map[string]string{
			auditor.WaiveAnnotation:       "gpu-pod-missing-queue-name",
			auditor.WaiveReasonAnnotation: "benchmark notebook outside quota, accepted by the platform team (RISK-1)",
			auditor.WaiveUntilAnnotation:  c.Now.Add(30 * 24 * time.Hour).Format(time.RFC3339),
		}
	}
	c.Pods = append(c.Pods, nb)
	if managed && !missing {
		c.Workloads = append(c.Workloads, workload(ns, "pod-notebook", "v1", "Pod", nb.Name, nb.UID, true))
	}

	// debug: a CPU pod, sometimes with an invalid waiver.
	dbg := pod(ns, "debug", uid("pod", i, webReplicas+jobPods+1), map[string]string{"app.kubernetes.io/name": "debug"}, nil,
		podSpec("debug", "registry.example/toolbox:1", cpu("10m"), false), corev1.PodRunning, "")
	if i%200 == 100 {
		dbg.Annotations = map[string]string{auditor.WaiveAnnotation: "gpu-pod-missing-queue-name"}
	}
	c.Pods = append(c.Pods, dbg)
}

func ptr[T any](v T) *T { return &v }

func controllerRef(apiVersion, kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
}

func cpu(q string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}}
}

func gpu(n int64) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Limits: corev1.ResourceList{GPUResource: *resource.NewQuantity(n, resource.DecimalSI)}}
}

func podSpec(container, image string, res corev1.ResourceRequirements, batch bool) corev1.PodSpec {
	s := corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: image, Resources: res}}}
	if batch {
		s.RestartPolicy = corev1.RestartPolicyNever
	}
	return s
}

func pod(ns, name string, id types.UID, labels map[string]string, owners []metav1.OwnerReference, spec corev1.PodSpec, phase corev1.PodPhase, node string) *corev1.Pod {
	spec.NodeName = node
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: id, Labels: labels, OwnerReferences: owners},
		Spec:       spec,
		Status:     corev1.PodStatus{Phase: phase},
	}
}

// workload is a Kueue Workload owned by a Job or a Pod; admitted or waiting for quota.
func workload(ns, name, ownerAPIVersion, ownerKind, ownerName string, ownerUID types.UID, admitted bool) *unstructured.Unstructured {
	status := "True"
	reason := "Admitted"
	if !admitted {
		status, reason = "False", "Pending"
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": WorkloadGVR.GroupVersion().String(),
		"kind":       "Workload",
		"metadata": map[string]any{
			"namespace": ns, "name": name,
			"uid":    string(ownerUID) + "-wl",
			"labels": map[string]any{"kueue.x-k8s.io/job-uid": string(ownerUID)},
			"ownerReferences": []any{map[string]any{
				"apiVersion": ownerAPIVersion, "kind": ownerKind, "name": ownerName, "uid": string(ownerUID),
				"controller": true, "blockOwnerDeletion": true,
			}},
		},
		"spec": map[string]any{
			"queueName": "research",
			"podSets":   []any{map[string]any{"name": "main", "count": int64(1), "template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "main", "image": "registry.example/trainer:1"}}}}}},
		},
		"status": map[string]any{
			"admission": map[string]any{"clusterQueue": "gpu", "podSetAssignments": []any{map[string]any{
				"name": "main", "count": int64(1), "flavors": map[string]any{GPUResource: "h100"}, "resourceUsage": map[string]any{GPUResource: "1"}}}},
			"conditions": []any{
				map[string]any{"type": "QuotaReserved", "status": status, "reason": reason, "message": "generated", "lastTransitionTime": "2026-03-01T00:00:00Z"},
				map[string]any{"type": "Admitted", "status": status, "reason": reason, "message": "generated", "lastTransitionTime": "2026-03-01T00:00:00Z"},
			},
		},
	}}
	if !admitted {
		unstructured.RemoveNestedField(u.Object, "status", "admission")
	}
	return u
}

// Snapshot returns the cluster as the live source would see it with every known
// resource synced (the optional owner kinds such as JobSet are not served). The tenant
// objects are shared with the cluster: do not modify them.
func (c *Cluster) Snapshot(now time.Time) (*auditor.Snapshot, error) {
	s, err := manifests.Snapshot(c.Platform)
	if err != nil {
		return nil, err
	}
	s.Now = now
	// manifests.Snapshot treats every scanned object as a possible owner; the live source
	// only reads owner kinds. Keep those.
	var owners []*auditor.Owner
	for _, o := range s.Owners {
		if info, ok := auditor.LookupKind(schema.GroupKind{Group: groupOf(o.APIVersion), Kind: o.Kind}); ok && info.OwnerOnly {
			owners = append(owners, o)
		}
	}
	s.Owners = owners
	s.Namespaces = append(s.Namespaces, c.Namespaces...)
	s.Pods = append(s.Pods, c.Pods...)
	s.NetworkPolicies = append(s.NetworkPolicies, c.NetworkPolicies...)
	s.Deployments = append(s.Deployments, c.Deployments...)
	s.Nodes = append(s.Nodes, c.Nodes...)
	for _, rs := range c.ReplicaSets {
		s.Owners = append(s.Owners, ownerOf("apps/v1", "ReplicaSet", rs.ObjectMeta))
	}
	for _, j := range c.Jobs {
		s.Owners = append(s.Owners, ownerOf("batch/v1", "Job", j.ObjectMeta))
	}
	wk := schema.GroupKind{Group: WorkloadGVR.Group, Kind: "Workload"}
	s.Custom[wk] = append(s.Custom[wk], c.Workloads...)
	s.Availability = LiveAvailability()
	s.Index()
	return s, nil
}

// LiveAvailability is what the live source reports on a cluster where every CRD the
// rules read is installed and no optional owner kind is.
func LiveAvailability() map[string]auditor.Availability {
	out := map[string]auditor.Availability{}
	for _, r := range auditor.KnownResources {
		out[r.ID] = auditor.Availability{State: auditor.Synced}
	}
	for _, r := range auditor.OwnerResources {
		out[r.ID] = auditor.Availability{State: auditor.NotServed, Message: "the API server does not serve " + r.ID}
	}
	return out
}

func groupOf(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}

func ownerOf(apiVersion, kind string, m metav1.ObjectMeta) *auditor.Owner {
	return &auditor.Owner{APIVersion: apiVersion, Kind: kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID, Labels: m.Labels, OwnerReferences: m.OwnerReferences}
}

// TypedObjects returns the tenant objects and the platform's core-kind objects, typed,
// for a fake clientset; CustomObjects returns the rest (Kyverno, Kueue, CNPG objects).
func (c *Cluster) TypedObjects() ([]runtime.Object, error) {
	var out []runtime.Object
	for _, u := range c.platform {
		t, err := typed(u)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, t)
		}
	}
	for _, n := range c.Namespaces {
		out = append(out, n)
	}
	for _, n := range c.Nodes {
		out = append(out, n)
	}
	for _, p := range c.NetworkPolicies {
		out = append(out, p)
	}
	for _, d := range c.Deployments {
		out = append(out, d)
	}
	for _, r := range c.ReplicaSets {
		out = append(out, r)
	}
	for _, j := range c.Jobs {
		out = append(out, j)
	}
	for _, p := range c.Pods {
		out = append(out, p)
	}
	return out, nil
}

// PlatformObjects returns the platform's objects whole, as written in its YAML (copies).
func (c *Cluster) PlatformObjects() []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(c.platform))
	for i, u := range c.platform {
		out[i] = u.DeepCopy()
	}
	return out
}

// CustomObjects returns the CRD-backed objects: the platform's and the Workloads.
func (c *Cluster) CustomObjects() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, u := range c.platform {
		if t, _ := typed(u); t == nil {
			out = append(out, u)
		}
	}
	return append(out, c.Workloads...)
}

// typed converts a platform object of a built-in kind; nil for CRD-backed kinds.
func typed(u *unstructured.Unstructured) (runtime.Object, error) {
	var obj runtime.Object
	switch u.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Kind: "Namespace"}:
		obj = &corev1.Namespace{}
	case schema.GroupKind{Kind: "Pod"}:
		obj = &corev1.Pod{}
	case schema.GroupKind{Kind: "ConfigMap"}:
		obj = &corev1.ConfigMap{}
	case schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:
		obj = &networkingv1.NetworkPolicy{}
	case schema.GroupKind{Group: "apps", Kind: "DaemonSet"}:
		obj = &appsv1.DaemonSet{}
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}:
		obj = &appsv1.Deployment{}
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		obj = &batchv1.Job{}
	default:
		return nil, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
		return nil, fmt.Errorf("synth: %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	if p, ok := obj.(*networkingv1.NetworkPolicy); ok {
		auditor.DefaultNetworkPolicy(p)
	}
	if m, ok := obj.(metav1.Object); ok && m.GetNamespace() == "" && u.GetKind() != "Namespace" {
		m.SetNamespace("default")
	}
	return obj, nil
}

// tenantObjects groups the namespaced objects by namespace, in the order the manifests
// list them: policies, owners, pods, Workloads.
func (c *Cluster) tenantObjects() map[string][]any {
	byNS := map[string][]any{}
	add := func(ns string, o any) { byNS[ns] = append(byNS[ns], o) }
	for _, o := range c.NetworkPolicies {
		add(o.Namespace, o)
	}
	for _, o := range c.Deployments {
		add(o.Namespace, o)
	}
	for _, o := range c.ReplicaSets {
		add(o.Namespace, o)
	}
	for _, o := range c.Jobs {
		add(o.Namespace, o)
	}
	for _, o := range c.Pods {
		add(o.Namespace, o)
	}
	for _, o := range c.Workloads {
		add(o.GetNamespace(), o.Object)
	}
	return byNS
}

// WriteManifests writes the cluster as YAML into dir: the platform, then one file per
// 1000 tenant namespaces, so `enforcement-auditor scan -f dir` audits it offline.
func (c *Cluster) WriteManifests(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "00-platform.yaml"), platformYAML, 0o644); err != nil {
		return err
	}
	var objs []any
	for _, n := range c.Nodes {
		objs = append(objs, n)
	}
	if err := writeYAML(filepath.Join(dir, "01-nodes.yaml"), objs); err != nil {
		return err
	}
	byNS := c.tenantObjects()
	for start := 0; start < len(c.Namespaces); start += 1000 {
		var chunk []any
		for i := start; i < min(start+1000, len(c.Namespaces)); i++ {
			ns := c.Namespaces[i]
			chunk = append(chunk, ns)
			chunk = append(chunk, byNS[ns.Name]...)
		}
		if err := writeYAML(filepath.Join(dir, fmt.Sprintf("10-tenants-%05d.yaml", start)), chunk); err != nil {
			return err
		}
	}
	return nil
}

// WriteManifestSet writes exactly objects objects (the platform first, then the nodes and
// the tenant namespaces in order, cut at the count) as YAML files of perFile documents
// each: the sets `make bench-scan` measures `enforcement-auditor scan -f` on.
func (c *Cluster) WriteManifestSet(dir string, objects, perFile int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var all []any
	for _, u := range c.platform {
		all = append(all, u.Object)
	}
	for _, n := range c.Nodes {
		all = append(all, n)
	}
	byNS := c.tenantObjects()
	for _, ns := range c.Namespaces {
		all = append(all, ns)
		all = append(all, byNS[ns.Name]...)
	}
	if len(all) < objects {
		return fmt.Errorf("synth: the cluster has %d objects, fewer than the %d asked for", len(all), objects)
	}
	all = all[:objects]
	for i := 0; i < len(all); i += perFile {
		if err := writeYAML(filepath.Join(dir, fmt.Sprintf("set-%06d.yaml", i/perFile)), all[i:min(i+perFile, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

func writeYAML(path string, objs []any) error {
	var b bytes.Buffer
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
