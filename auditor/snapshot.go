package auditor

import (
	"sort"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// AvailabilityState says whether the auditor could see a resource.
type AvailabilityState string

const (
	// Synced: the resource is served and its cache holds the cluster's objects (or, for
	// manifests, the resource's objects were among the scanned files).
	Synced AvailabilityState = "synced"
	// NotServed: the API server does not serve the resource (CRD not installed), or no
	// object of it was among the scanned manifests.
	NotServed AvailabilityState = "not_served"
	// Forbidden: the auditor may not list or watch it.
	Forbidden AvailabilityState = "forbidden"
	// Pending: served, but the cache has not synced yet.
	Pending AvailabilityState = "pending"
	// Failing: listing or watching fails for another reason.
	Failing AvailabilityState = "failing"
)

// Availability is the state of one resource plus a human explanation.
type Availability struct {
	State   AvailabilityState
	Message string
}

// Owner is the metadata of an object that can own pods, enough to follow a controlling
// owner chain (labels for the queue name, owner references for the next link).
type Owner struct {
	APIVersion      string
	Kind            string
	Namespace       string
	Name            string
	UID             types.UID
	Labels          map[string]string
	OwnerReferences []metav1.OwnerReference
}

// Snapshot is a read-only, consistent view of everything rules read. Sources fill the
// exported fields and call Index once; rules must not modify anything reachable from it.
type Snapshot struct {
	// Now is when the snapshot was taken. Rules that judge time (waiver expiry, lease
	// staleness) read it here, so they stay pure.
	Now time.Time

	Namespaces      []*corev1.Namespace
	Pods            []*corev1.Pod
	Nodes           []*corev1.Node
	ConfigMaps      []*corev1.ConfigMap
	Services        []*corev1.Service
	NetworkPolicies []*networkingv1.NetworkPolicy
	DaemonSets      []*appsv1.DaemonSet
	Deployments     []*appsv1.Deployment
	Leases          []*coordinationv1.Lease

	ValidatingWebhookConfigurations []*admissionv1.ValidatingWebhookConfiguration
	ValidatingAdmissionPolicies     []*admissionv1.ValidatingAdmissionPolicy
	ValidatingAdmissionBindings     []*admissionv1.ValidatingAdmissionPolicyBinding

	// Owners holds every object that may own a pod (Jobs, ReplicaSets, JobSets, ...).
	Owners []*Owner

	// Custom holds CRD-backed objects as unstructured, keyed by group and kind. Rules read
	// them through the typed views of the rules/ leaf packages (rules/kyverno, rules/kueue...).
	Custom map[schema.GroupKind][]*unstructured.Unstructured

	// NetworkProbes and AdmissionProbes hold the latest active probe results (daemon with
	// --probe-network / --probe-admission only); nil when probing is off.
	NetworkProbes   []NetworkProbeResult
	AdmissionProbes []AdmissionProbeResult

	// Availability of each resource ID (see KnownResources). A resource missing from
	// the map is treated as Synced with no objects.
	Availability map[string]Availability

	// Locations holds where each object was read, when the source is manifest files;
	// nil for the live source. Findings on an object carry its location.
	Locations map[ObjectKey]Location

	// Seen, set by the manifests source only, holds the resources of which at least one
	// object was among the inputs: a scan sees only what it is given, so a kind absent
	// from it is unknown, not empty (see Saw). Nil for the live source.
	Seen map[string]bool

	// Partial, for a manifests snapshot, says that the inputs are some of the files
	// only (a CI job scanning what changed): a finding resting on an absence among them
	// (RuleMeta.Absence) is then not judged. False for a full scan and the live source.
	Partial bool

	// Scope, for a live snapshot, lists the only namespaces read (scan --namespace): the
	// namespaced objects of the others and their Namespace objects were not read, so a
	// finding resting on an absence there is not judged (RuleMeta.Absence), and a
	// control with nothing in scope is unknown, not a finding. Nil: the whole cluster.
	Scope []string

	nsByName  map[string]*corev1.Namespace
	podsByNS  map[string][]*corev1.Pod
	npByNS    map[string][]*networkingv1.NetworkPolicy
	cmByKey   map[string]*corev1.ConfigMap
	ownerUID  map[types.UID]*Owner
	ownerName map[string]*Owner
	podByUID  map[types.UID]*corev1.Pod

	// lazy, when set, builds the lookups on first use (snapshots made by WithNamespaces:
	// most are never queried, and indexing 100k pods costs more than merging them).
	lazy *lazyIndex
	// groups holds the objects grouped by namespace, for WithNamespaces.
	groups nsGroups
	// memo holds the rule families' views of one evaluation (see View, ForEvaluation).
	memo *memo
}

type lazyIndex struct{ once sync.Once }

// indexed builds the lookups of a lazily indexed snapshot.
func (s *Snapshot) indexed() {
	if s.lazy != nil {
		s.lazy.once.Do(s.Index)
	}
}

func nsKey(ns, name string) string { return ns + "/" + name }

// Index builds the lookups rules join on. Sources call it once after filling the snapshot.
func (s *Snapshot) Index() {
	s.nsByName = make(map[string]*corev1.Namespace, len(s.Namespaces))
	for _, n := range s.Namespaces {
		s.nsByName[n.Name] = n
	}
	s.podsByNS = make(map[string][]*corev1.Pod)
	s.podByUID = make(map[types.UID]*corev1.Pod, len(s.Pods))
	for _, p := range s.Pods {
		s.podsByNS[p.Namespace] = append(s.podsByNS[p.Namespace], p)
		if p.UID != "" {
			s.podByUID[p.UID] = p
		}
	}
	s.npByNS = make(map[string][]*networkingv1.NetworkPolicy)
	for _, p := range s.NetworkPolicies {
		s.npByNS[p.Namespace] = append(s.npByNS[p.Namespace], p)
	}
	s.cmByKey = make(map[string]*corev1.ConfigMap, len(s.ConfigMaps))
	for _, c := range s.ConfigMaps {
		s.cmByKey[nsKey(c.Namespace, c.Name)] = c
	}
	s.ownerUID = make(map[types.UID]*Owner, len(s.Owners)+len(s.Deployments))
	s.ownerName = make(map[string]*Owner, len(s.Owners)+len(s.Deployments))
	// Deployments own ReplicaSets; they are typed here, so index them as owners too.
	for _, d := range s.Deployments {
		o := &Owner{APIVersion: "apps/v1", Kind: "Deployment", Namespace: d.Namespace, Name: d.Name, UID: d.UID, Labels: d.Labels, OwnerReferences: d.OwnerReferences}
		if o.UID != "" {
			s.ownerUID[o.UID] = o
		}
		s.ownerName[o.Namespace+"/"+o.Kind+"/"+o.Name] = o
	}
	for _, o := range s.Owners {
		if o.UID != "" {
			s.ownerUID[o.UID] = o
		}
		s.ownerName[o.Namespace+"/"+o.Kind+"/"+o.Name] = o
	}
}

// Namespace returns the named namespace or nil.
func (s *Snapshot) Namespace(name string) *corev1.Namespace {
	s.indexed()
	return s.nsByName[name]
}

// PodsIn returns the pods of one namespace.
func (s *Snapshot) PodsIn(ns string) []*corev1.Pod {
	s.indexed()
	return s.podsByNS[ns]
}

// PodByUID returns a pod by UID or nil.
func (s *Snapshot) PodByUID(uid types.UID) *corev1.Pod {
	s.indexed()
	return s.podByUID[uid]
}

// NetworkPoliciesIn returns the NetworkPolicies of one namespace.
func (s *Snapshot) NetworkPoliciesIn(ns string) []*networkingv1.NetworkPolicy {
	s.indexed()
	return s.npByNS[ns]
}

// ConfigMap returns a ConfigMap or nil.
func (s *Snapshot) ConfigMap(ns, name string) *corev1.ConfigMap {
	s.indexed()
	return s.cmByKey[nsKey(ns, name)]
}

// Owner resolves an owner reference from an object in namespace ns: by UID when the
// reference has one in the snapshot, else by kind and name (manifests often lack UIDs).
func (s *Snapshot) Owner(ns string, ref metav1.OwnerReference) *Owner {
	s.indexed()
	if ref.UID != "" {
		if o := s.ownerUID[ref.UID]; o != nil {
			return o
		}
	}
	return s.ownerName[ns+"/"+ref.Kind+"/"+ref.Name]
}

// CustomObjects returns the unstructured objects of a group and kind.
func (s *Snapshot) CustomObjects(group, kind string) []*unstructured.Unstructured {
	return s.Custom[schema.GroupKind{Group: group, Kind: kind}]
}

// AvailabilityOf returns the state of a resource ID.
func (s *Snapshot) AvailabilityOf(resource string) Availability {
	if a, ok := s.Availability[resource]; ok {
		return a
	}
	return Availability{State: Synced}
}

// Saw reports whether the snapshot's objects of the resource are knowledge: live, its
// cache synced (a synced, empty list says there is none) or the API server does not
// serve it (there is none); offline, at least one object of the kind was among the
// inputs.
func (s *Snapshot) Saw(resource string) bool {
	if s.Seen != nil {
		return s.Seen[resource]
	}
	switch s.AvailabilityOf(resource).State {
	case Synced, NotServed:
		return true
	}
	return false
}

// Offline reports whether the snapshot was read from manifests (see Seen).
func (s *Snapshot) Offline() bool { return s.Seen != nil }

// Visible reports whether the resource's objects can be trusted to be complete.
func (s *Snapshot) Visible(resource string) bool { return s.AvailabilityOf(resource).State == Synced }

// SortedNamespaceNames returns the namespace names in order.
func (s *Snapshot) SortedNamespaceNames() []string {
	out := make([]string, 0, len(s.Namespaces))
	for _, n := range s.Namespaces {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out
}

// Annotations returns the annotations of the object a finding names, or nil when the
// object is not in the snapshot (or is of a kind kept as metadata of pod owners only).
func (s *Snapshot) Annotations(ref *ObjectRef) map[string]string {
	if ref == nil {
		return nil
	}
	r, ok := LookupKind(schema.GroupKind{Group: groupOfAPIVersion(ref.APIVersion), Kind: ref.Kind})
	if !ok {
		return nil
	}
	if o := r.store.find(r, s, ref.Namespace, ref.Name); o != nil {
		return o.GetAnnotations()
	}
	return nil
}
