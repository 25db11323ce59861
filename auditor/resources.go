package auditor

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"
)

// Resource identifiers used in RuleMeta.Inputs, Snapshot availability and metrics
// (the `resource` label). They are the plural resource name plus the group, as kubectl
// spells them.
const (
	ResourceNamespaces                      = "namespaces"
	ResourcePods                            = "pods"
	ResourceNodes                           = "nodes"
	ResourceConfigMaps                      = "configmaps"
	ResourceServices                        = "services"
	ResourceNetworkPolicies                 = "networkpolicies.networking.k8s.io"
	ResourceDaemonSets                      = "daemonsets.apps"
	ResourceDeployments                     = "deployments.apps"
	ResourceReplicaSets                     = "replicasets.apps"
	ResourceStatefulSets                    = "statefulsets.apps"
	ResourceJobs                            = "jobs.batch"
	ResourceLeases                          = "leases.coordination.k8s.io"
	ResourceValidatingWebhookConfigurations = "validatingwebhookconfigurations.admissionregistration.k8s.io"
	ResourceValidatingAdmissionPolicies     = "validatingadmissionpolicies.admissionregistration.k8s.io"
	ResourceValidatingAdmissionBindings     = "validatingadmissionpolicybindings.admissionregistration.k8s.io"
	ResourceKyvernoClusterPolicies          = "clusterpolicies.kyverno.io"
	ResourceKyvernoPolicies                 = "policies.kyverno.io"
	ResourceKyvernoValidatingPolicies       = "validatingpolicies.policies.kyverno.io"
	ResourceKyvernoPolicyExceptions         = "policyexceptions.kyverno.io"
	ResourceKyvernoCELPolicyExceptions      = "policyexceptions.policies.kyverno.io"
	ResourceKueueWorkloads                  = "workloads.kueue.x-k8s.io"
	ResourceCNPGClusters                    = "clusters.postgresql.cnpg.io"
	ResourceAdminNetworkPolicies            = "adminnetworkpolicies.policy.networking.k8s.io"
	ResourceBaselineAdminNetworkPolicies    = "baselineadminnetworkpolicies.policy.networking.k8s.io"
	ResourceClusterNetworkPolicies          = "clusternetworkpolicies.policy.networking.k8s.io"
)

// ResourceInfo describes a resource kind the auditor reads: its API, whether it is
// namespaced, where its objects go in a Snapshot and how they are decoded. Sources,
// snapshots (partial and merged), waivers and evidence all iterate over Kinds: adding a
// kind is one entry there (plus, for a built-in kind, its typed Snapshot field) and the
// rules that read it.
type ResourceInfo struct {
	ID         string
	Group      string
	Resource   string
	Kind       string
	Namespaced bool
	// Versions lists the API versions the auditor accepts, preferred first. Custom
	// resources are read as unstructured, so several versions can be served and the
	// live source picks the first one discovery shows.
	Versions []string
	// Custom marks resources that come from CRDs (or optional APIs): they are watched
	// through dynamic informers started only when discovery shows them.
	Custom bool
	// OwnerOnly marks resources read only to follow pods' owner chains (metadata only):
	// their objects are Snapshot.Owners.
	OwnerOnly bool
	// Local marks the resources only ScopeNamespace rules may read (see ScopeCluster):
	// a change of them re-evaluates the changed namespaces only, anything else is a
	// full evaluation.
	Local bool
	// Narrow, when set, restricts what the live source watches of this resource (one
	// object in one namespace: Kyverno's health Lease, not every node lease).
	Narrow *Narrow

	store slot
}

// Narrow restricts a watch to the object Name in the namespace Namespace(cfg).
type Narrow struct {
	Name      string
	Namespace func(Config) string
}

// GroupKind returns the resource's group and kind.
func (r ResourceInfo) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

// GroupResource returns the resource's group and plural name.
func (r ResourceInfo) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}
}

// GroupVersionResource returns the resource in its preferred version.
func (r ResourceInfo) GroupVersionResource() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: r.Group, Version: r.Versions[0], Resource: r.Resource}
}

// APIVersion returns the preferred group/version, as an object's apiVersion spells it.
func (r ResourceInfo) APIVersion() string {
	return schema.GroupVersion{Group: r.Group, Version: r.Versions[0]}.String()
}

// Typed reports whether the resource is a built-in kind with a typed Snapshot field
// (watched through typed informers, converted from manifests).
func (r ResourceInfo) Typed() bool { return !r.Custom && !r.OwnerOnly }

// Decode converts a manifest's object into what the snapshot keeps of this kind (a
// typed object with the API server's defaulting, the unstructured object itself, or an
// Owner), naming the field when the object does not fit the kind's schema.
func (r ResourceInfo) Decode(u *unstructured.Unstructured) (any, error) { return r.store.decode(r, u) }

// DecodeJSON is Decode from the object's JSON: a built-in kind is decoded straight into
// its typed object (no unstructured copy), with the same result and the same messages
// as Decode.
func (r ResourceInfo) DecodeJSON(data []byte) (any, error) { return r.store.decodeJSON(r, data) }

// Add appends a decoded object (see Decode; informer objects are already decoded) to the
// snapshot. It reports false when obj is not of this kind's type.
func (r ResourceInfo) Add(s *Snapshot, obj any) bool { return r.store.add(r, s, obj) }

// Reserve makes room in the snapshot for n more objects of this kind (a source about
// to add a whole list).
func (r ResourceInfo) Reserve(s *Snapshot, n int) { r.store.reserve(r, s, n) }

// Len returns how many objects of this kind the snapshot holds.
func (r ResourceInfo) Len(s *Snapshot) int { return r.store.count(r, s) }

// Objects returns the snapshot's objects of this kind as their Kubernetes metadata
// (typed and custom kinds; nil for owner kinds, whose objects are Snapshot.Owners).
func (r ResourceInfo) Objects(s *Snapshot) []MetaObject { return r.store.metas(r, s) }

// Kinds is every resource the auditor reads, in a stable order (metrics and evidence
// list resources in it).
var Kinds = []ResourceInfo{
	{ID: ResourceNamespaces, Resource: "namespaces", Kind: "Namespace", Versions: []string{"v1"},
		store: typed(func(s *Snapshot) *[]*corev1.Namespace { return &s.Namespaces }, defaultNamespace).byName()},
	{ID: ResourcePods, Resource: "pods", Kind: "Pod", Namespaced: true, Versions: []string{"v1"}, Local: true,
		store: typed[corev1.Pod](func(s *Snapshot) *[]*corev1.Pod { return &s.Pods }, nil).lookup((*Snapshot).PodsIn)},
	{ID: ResourceNodes, Resource: "nodes", Kind: "Node", Versions: []string{"v1"},
		store: typed[corev1.Node](func(s *Snapshot) *[]*corev1.Node { return &s.Nodes }, nil)},
	{ID: ResourceConfigMaps, Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, Versions: []string{"v1"},
		store: typed[corev1.ConfigMap](func(s *Snapshot) *[]*corev1.ConfigMap { return &s.ConfigMaps }, nil)},
	{ID: ResourceServices, Resource: "services", Kind: "Service", Namespaced: true, Versions: []string{"v1"},
		store: typed[corev1.Service](func(s *Snapshot) *[]*corev1.Service { return &s.Services }, nil)},
	{ID: ResourceNetworkPolicies, Group: "networking.k8s.io", Resource: "networkpolicies", Kind: "NetworkPolicy", Namespaced: true, Versions: []string{"v1"},
		store: typed(func(s *Snapshot) *[]*networkingv1.NetworkPolicy { return &s.NetworkPolicies }, DefaultNetworkPolicy).lookup((*Snapshot).NetworkPoliciesIn)},
	{ID: ResourceDaemonSets, Group: "apps", Resource: "daemonsets", Kind: "DaemonSet", Namespaced: true, Versions: []string{"v1"},
		store: typed[appsv1.DaemonSet](func(s *Snapshot) *[]*appsv1.DaemonSet { return &s.DaemonSets }, nil)},
	{ID: ResourceDeployments, Group: "apps", Resource: "deployments", Kind: "Deployment", Namespaced: true, Versions: []string{"v1"},
		store: typed[appsv1.Deployment](func(s *Snapshot) *[]*appsv1.Deployment { return &s.Deployments }, nil)},
	{ID: ResourceReplicaSets, Group: "apps", Resource: "replicasets", Kind: "ReplicaSet", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true, Local: true, store: owners{}},
	{ID: ResourceStatefulSets, Group: "apps", Resource: "statefulsets", Kind: "StatefulSet", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true, Local: true, store: owners{}},
	{ID: ResourceJobs, Group: "batch", Resource: "jobs", Kind: "Job", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true, Local: true, store: owners{}},
	{ID: ResourceLeases, Group: "coordination.k8s.io", Resource: "leases", Kind: "Lease", Namespaced: true, Versions: []string{"v1"},
		Narrow: &Narrow{Name: "kyverno-health", Namespace: func(c Config) string { return c.SR2.KyvernoNamespace }},
		store:  typed[coordinationv1.Lease](func(s *Snapshot) *[]*coordinationv1.Lease { return &s.Leases }, nil)},
	{ID: ResourceValidatingWebhookConfigurations, Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Kind: "ValidatingWebhookConfiguration", Versions: []string{"v1"},
		store: typed[admissionv1.ValidatingWebhookConfiguration](func(s *Snapshot) *[]*admissionv1.ValidatingWebhookConfiguration {
			return &s.ValidatingWebhookConfigurations
		}, nil)},
	{ID: ResourceValidatingAdmissionPolicies, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Kind: "ValidatingAdmissionPolicy", Versions: []string{"v1"},
		store: typed[admissionv1.ValidatingAdmissionPolicy](func(s *Snapshot) *[]*admissionv1.ValidatingAdmissionPolicy { return &s.ValidatingAdmissionPolicies }, nil)},
	{ID: ResourceValidatingAdmissionBindings, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Kind: "ValidatingAdmissionPolicyBinding", Versions: []string{"v1"},
		store: typed[admissionv1.ValidatingAdmissionPolicyBinding](func(s *Snapshot) *[]*admissionv1.ValidatingAdmissionPolicyBinding {
			return &s.ValidatingAdmissionBindings
		}, nil)},
	{ID: ResourceKyvernoClusterPolicies, Group: "kyverno.io", Resource: "clusterpolicies", Kind: "ClusterPolicy", Versions: []string{"v1"}, Custom: true, store: custom{}},
	{ID: ResourceKyvernoPolicies, Group: "kyverno.io", Resource: "policies", Kind: "Policy", Namespaced: true, Versions: []string{"v1"}, Custom: true, store: custom{}},
	{ID: ResourceKyvernoValidatingPolicies, Group: "policies.kyverno.io", Resource: "validatingpolicies", Kind: "ValidatingPolicy", Versions: []string{"v1", "v1beta1", "v1alpha1"}, Custom: true, store: custom{}},
	{ID: ResourceKyvernoPolicyExceptions, Group: "kyverno.io", Resource: "policyexceptions", Kind: "PolicyException", Namespaced: true, Versions: []string{"v2", "v2beta1"}, Custom: true, store: custom{}},
	{ID: ResourceKyvernoCELPolicyExceptions, Group: "policies.kyverno.io", Resource: "policyexceptions", Kind: "PolicyException", Namespaced: true, Versions: []string{"v1", "v1beta1", "v1alpha1"}, Custom: true, store: custom{}},
	{ID: ResourceKueueWorkloads, Group: "kueue.x-k8s.io", Resource: "workloads", Kind: "Workload", Namespaced: true, Versions: []string{"v1beta2", "v1beta1"}, Custom: true, Local: true, store: custom{}},
	{ID: ResourceCNPGClusters, Group: "postgresql.cnpg.io", Resource: "clusters", Kind: "Cluster", Namespaced: true, Versions: []string{"v1"}, Custom: true, store: custom{}},
	{ID: ResourceAdminNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "adminnetworkpolicies", Kind: "AdminNetworkPolicy", Versions: []string{"v1alpha1"}, Custom: true, store: custom{}},
	{ID: ResourceBaselineAdminNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "baselineadminnetworkpolicies", Kind: "BaselineAdminNetworkPolicy", Versions: []string{"v1alpha1"}, Custom: true, store: custom{}},
	{ID: ResourceClusterNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies", Kind: "ClusterNetworkPolicy", Versions: []string{"v1beta1", "v1alpha2", "v1alpha1"}, Custom: true, store: custom{}},

	// Custom workload kinds that can own GPU pods: only their metadata (labels and owner
	// references) is read, to follow a pod's controlling owner chain.
	{ID: "jobsets.jobset.x-k8s.io", Group: "jobset.x-k8s.io", Resource: "jobsets", Kind: "JobSet", Namespaced: true, Versions: []string{"v1alpha2"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "rayclusters.ray.io", Group: "ray.io", Resource: "rayclusters", Kind: "RayCluster", Namespaced: true, Versions: []string{"v1", "v1alpha1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "rayjobs.ray.io", Group: "ray.io", Resource: "rayjobs", Kind: "RayJob", Namespaced: true, Versions: []string{"v1", "v1alpha1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "leaderworkersets.leaderworkerset.x-k8s.io", Group: "leaderworkerset.x-k8s.io", Resource: "leaderworkersets", Kind: "LeaderWorkerSet", Namespaced: true, Versions: []string{"v1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "pytorchjobs.kubeflow.org", Group: "kubeflow.org", Resource: "pytorchjobs", Kind: "PyTorchJob", Namespaced: true, Versions: []string{"v1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "mpijobs.kubeflow.org", Group: "kubeflow.org", Resource: "mpijobs", Kind: "MPIJob", Namespaced: true, Versions: []string{"v2beta1", "v1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "trainjobs.trainer.kubeflow.org", Group: "trainer.kubeflow.org", Resource: "trainjobs", Kind: "TrainJob", Namespaced: true, Versions: []string{"v1alpha1"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
	{ID: "appwrappers.workload.codeflare.dev", Group: "workload.codeflare.dev", Resource: "appwrappers", Kind: "AppWrapper", Namespaced: true, Versions: []string{"v1beta2"}, Custom: true, OwnerOnly: true, Local: true, store: owners{}},
}

// KnownResources are the kinds rules read, built-in owner kinds included; OwnerResources
// the custom workload kinds read as pod owners only. Both are views of Kinds.
var (
	KnownResources = filterBy(Kinds, func(r ResourceInfo) bool { return !(r.Custom && r.OwnerOnly) })
	OwnerResources = filterBy(Kinds, func(r ResourceInfo) bool { return r.Custom && r.OwnerOnly })
)

// LookupKind finds the resource of a group and kind.
func LookupKind(gk schema.GroupKind) (ResourceInfo, bool) {
	for _, r := range Kinds {
		if r.Group == gk.Group && r.Kind == gk.Kind {
			return r, true
		}
	}
	return ResourceInfo{}, false
}

// LookupResource finds a resource by ID.
func LookupResource(id string) (ResourceInfo, bool) {
	for _, r := range Kinds {
		if r.ID == id {
			return r, true
		}
	}
	return ResourceInfo{}, false
}

// defaultNamespace sets the label the control plane puts on every namespace
// (kubernetes.io/metadata.name, immutable): selectors pin namespaces with it.
func defaultNamespace(n *corev1.Namespace) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[corev1.LabelMetadataName] = n.Name
}

// DefaultNetworkPolicy applies the API server's defaulting (SetDefaults_NetworkPolicy):
// omitted policyTypes become [Ingress], plus Egress when egress rules exist; port
// protocols default to TCP. Objects read from the API already carry these values.
func DefaultNetworkPolicy(p *networkingv1.NetworkPolicy) {
	if len(p.Spec.PolicyTypes) == 0 {
		p.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(p.Spec.Egress) != 0 {
			p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	tcp := corev1.ProtocolTCP
	for i := range p.Spec.Ingress {
		for j := range p.Spec.Ingress[i].Ports {
			if p.Spec.Ingress[i].Ports[j].Protocol == nil {
				p.Spec.Ingress[i].Ports[j].Protocol = &tcp
			}
		}
	}
	for i := range p.Spec.Egress {
		for j := range p.Spec.Egress[i].Ports {
			if p.Spec.Egress[i].Ports[j].Protocol == nil {
				p.Spec.Egress[i].Ports[j].Protocol = &tcp
			}
		}
	}
}

// convert decodes an unstructured object into a typed one; a type error names the field
// (see fieldError).
func convert[T any](u *unstructured.Unstructured) (*T, error) {
	var t T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &t, true); err != nil {
		return nil, fieldError[T](u, err)
	}
	return &t, nil
}

// convertJSON is convert from JSON. The fast path is the strict, case-sensitive decoder
// the API machinery uses (sigs.k8s.io/json); whatever it refuses goes through convert,
// whose verdict and message are the reference, so both paths agree on every input.
func convertJSON[T any](data []byte) (*T, error) {
	var t T
	if strict, err := sigsjson.UnmarshalStrict(data, &t, sigsjson.DisallowUnknownFields); err == nil && len(strict) == 0 {
		return &t, nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return convert[T](&unstructured.Unstructured{Object: m})
}

// OwnerOfJSON is OwnerOf of an object's JSON, reading only apiVersion, kind and
// metadata.
func OwnerOfJSON(data []byte) (*Owner, error) {
	var head struct {
		APIVersion any `json:"apiVersion"`
		Kind       any `json:"kind"`
		Metadata   any `json:"metadata"`
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, &head); err != nil {
		return nil, err
	}
	m := map[string]any{}
	if head.APIVersion != nil {
		m["apiVersion"] = head.APIVersion
	}
	if head.Kind != nil {
		m["kind"] = head.Kind
	}
	if head.Metadata != nil {
		m["metadata"] = head.Metadata
	}
	return OwnerOf(&unstructured.Unstructured{Object: m}), nil
}

// fieldError names the field of a type error ("cannot restore map from slice" does
// not): the object is decoded again with encoding/json, whose errors carry the path.
// Types are named, values never.
func fieldError[T any](u *unstructured.Unstructured, err error) error {
	j, jerr := json.Marshal(u.Object)
	if jerr != nil {
		return err
	}
	var t T
	var te *json.UnmarshalTypeError
	if errors.As(json.Unmarshal(j, &t), &te) && te.Field != "" {
		return fmt.Errorf("%s: %s where %s is expected", te.Field, jsonKind(te.Value), goKind(te.Type))
	}
	return err
}

// jsonKind names what encoding/json found: "array", "string", "number"...
func jsonKind(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "string", "number", "bool":
		return "a " + v
	}
	return "a " + strings.Fields(v)[0]
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.String()
}
