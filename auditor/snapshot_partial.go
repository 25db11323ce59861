package auditor

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Partial snapshots for incremental evaluation (see RuleScope). A namespace's own
// objects are its namespaced objects and its Namespace object.

// Restrict returns a partial snapshot: the given namespaces' own objects and every other
// cluster-scoped object (what ScopeNamespace rules are re-evaluated on). Now,
// availability and probe results are s's. Objects are shared.
func (s *Snapshot) Restrict(namespaces []string) *Snapshot {
	in := namespaceSet(namespaces)
	keep := func(ns string) bool { return ns == "" || in(ns) }
	out := &Snapshot{
		Now:                             s.Now,
		Namespaces:                      filterBy(s.Namespaces, func(n *corev1.Namespace) bool { return in(n.Name) }),
		Nodes:                           s.Nodes,
		ValidatingWebhookConfigurations: s.ValidatingWebhookConfigurations,
		ValidatingAdmissionPolicies:     s.ValidatingAdmissionPolicies,
		ValidatingAdmissionBindings:     s.ValidatingAdmissionBindings,
		Pods:                            filterBy(s.Pods, func(o *corev1.Pod) bool { return keep(o.Namespace) }),
		ConfigMaps:                      filterBy(s.ConfigMaps, func(o *corev1.ConfigMap) bool { return keep(o.Namespace) }),
		NetworkPolicies:                 filterBy(s.NetworkPolicies, func(o *networkingv1.NetworkPolicy) bool { return keep(o.Namespace) }),
		DaemonSets:                      filterBy(s.DaemonSets, func(o *appsv1.DaemonSet) bool { return keep(o.Namespace) }),
		Deployments:                     filterBy(s.Deployments, func(o *appsv1.Deployment) bool { return keep(o.Namespace) }),
		Leases:                          filterBy(s.Leases, func(o *coordinationv1.Lease) bool { return keep(o.Namespace) }),
		Owners:                          filterBy(s.Owners, func(o *Owner) bool { return keep(o.Namespace) }),
		Custom:                          make(map[schema.GroupKind][]*unstructured.Unstructured, len(s.Custom)),
		NetworkProbes:                   s.NetworkProbes,
		AdmissionProbes:                 s.AdmissionProbes,
		Availability:                    s.Availability,
	}
	for gk, objs := range s.Custom {
		out.Custom[gk] = filterBy(objs, func(o *unstructured.Unstructured) bool { return keep(o.GetNamespace()) })
	}
	out.Index()
	return out
}

func namespaceSet(namespaces []string) func(string) bool {
	if len(namespaces) == 1 {
		only := namespaces[0]
		return func(ns string) bool { return ns == only }
	}
	set := make(map[string]bool, len(namespaces))
	for _, n := range namespaces {
		set[n] = true
	}
	return func(ns string) bool { return set[ns] }
}

func filterBy[T any](objs []T, keep func(T) bool) []T {
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}

// WithNamespaces returns the snapshot s would be if the given namespaces were read again
// into part (a partial snapshot, see Restrict): those namespaces' own objects, the other
// cluster-scoped objects, Now and availability come from part; the other namespaces'
// objects and the probe results from s. Neither input is modified; objects are shared;
// the result's lookups are built on first use.
//
// It never reads the objects of the namespaces it keeps: at 100k pods, touching every
// pod costs ~10ms of cache misses, more than the rest of an incremental evaluation.
// The namespaced objects are kept grouped by namespace (built once per source snapshot,
// see PrepareWithNamespaces), so merging copies slice headers and pointers only, and a
// kind whose objects in those namespaces did not change is shared with s.
// WithNamespaces and PrepareWithNamespaces must not run concurrently on one snapshot.
func (s *Snapshot) WithNamespaces(part *Snapshot, namespaces []string) *Snapshot {
	nss := append([]string(nil), namespaces...)
	sort.Strings(nss)
	old := s.prepareGroups()
	fresh := groupSnapshot(part)
	g := &nsGroups{custom: map[schema.GroupKind]groups[*unstructured.Unstructured]{}}
	out := &Snapshot{
		Now:                             part.Now,
		Nodes:                           part.Nodes,
		ValidatingWebhookConfigurations: part.ValidatingWebhookConfigurations,
		ValidatingAdmissionPolicies:     part.ValidatingAdmissionPolicies,
		ValidatingAdmissionBindings:     part.ValidatingAdmissionBindings,
		NetworkProbes:                   s.NetworkProbes,
		AdmissionProbes:                 s.AdmissionProbes,
		Availability:                    part.Availability,
		Custom:                          make(map[schema.GroupKind][]*unstructured.Unstructured, len(s.Custom)+len(part.Custom)),
		lazy:                            &lazyIndex{},
		groups:                          g,
	}
	g.namespaces, out.Namespaces = merge(old.namespaces, fresh.namespaces, nss, s.Namespaces)
	g.pods, out.Pods = merge(old.pods, fresh.pods, nss, s.Pods)
	g.configMaps, out.ConfigMaps = merge(old.configMaps, fresh.configMaps, nss, s.ConfigMaps)
	g.networkPolicies, out.NetworkPolicies = merge(old.networkPolicies, fresh.networkPolicies, nss, s.NetworkPolicies)
	g.daemonSets, out.DaemonSets = merge(old.daemonSets, fresh.daemonSets, nss, s.DaemonSets)
	g.deployments, out.Deployments = merge(old.deployments, fresh.deployments, nss, s.Deployments)
	g.leases, out.Leases = merge(old.leases, fresh.leases, nss, s.Leases)
	g.owners, out.Owners = merge(old.owners, fresh.owners, nss, s.Owners)
	for gk := range s.Custom {
		g.custom[gk], out.Custom[gk] = merge(old.custom[gk], fresh.custom[gk], nss, s.Custom[gk])
	}
	for gk := range part.Custom {
		if _, done := s.Custom[gk]; !done {
			g.custom[gk], out.Custom[gk] = merge(old.custom[gk], fresh.custom[gk], nss, nil)
		}
	}
	return out
}

// PrepareWithNamespaces groups s's namespaced objects by namespace, which the first
// WithNamespaces on s would otherwise do; the engine calls it after a full evaluation
// so that the first incremental one costs what the next ones do.
func (s *Snapshot) PrepareWithNamespaces() { s.prepareGroups() }

func (s *Snapshot) prepareGroups() *nsGroups {
	if s.groups == nil {
		s.groups = groupSnapshot(s)
	}
	return s.groups
}

// nsGroups are a snapshot's namespaced objects by namespace; Namespace objects are
// grouped under their own name, cluster-scoped custom objects under "".
type nsGroups struct {
	namespaces      groups[*corev1.Namespace]
	pods            groups[*corev1.Pod]
	configMaps      groups[*corev1.ConfigMap]
	networkPolicies groups[*networkingv1.NetworkPolicy]
	daemonSets      groups[*appsv1.DaemonSet]
	deployments     groups[*appsv1.Deployment]
	leases          groups[*coordinationv1.Lease]
	owners          groups[*Owner]
	custom          map[schema.GroupKind]groups[*unstructured.Unstructured]
}

func groupSnapshot(s *Snapshot) *nsGroups {
	g := &nsGroups{
		namespaces:      groupBy(s.Namespaces, func(o *corev1.Namespace) string { return o.Name }),
		pods:            groupBy(s.Pods, func(o *corev1.Pod) string { return o.Namespace }),
		configMaps:      groupBy(s.ConfigMaps, func(o *corev1.ConfigMap) string { return o.Namespace }),
		networkPolicies: groupBy(s.NetworkPolicies, func(o *networkingv1.NetworkPolicy) string { return o.Namespace }),
		daemonSets:      groupBy(s.DaemonSets, func(o *appsv1.DaemonSet) string { return o.Namespace }),
		deployments:     groupBy(s.Deployments, func(o *appsv1.Deployment) string { return o.Namespace }),
		leases:          groupBy(s.Leases, func(o *coordinationv1.Lease) string { return o.Namespace }),
		owners:          groupBy(s.Owners, func(o *Owner) string { return o.Namespace }),
		custom:          make(map[schema.GroupKind]groups[*unstructured.Unstructured], len(s.Custom)),
	}
	for gk, objs := range s.Custom {
		g.custom[gk] = groupBy(objs, func(o *unstructured.Unstructured) string { return o.GetNamespace() })
	}
	return g
}

// groups are objects by namespace: keys sorted, vals[i] the objects of keys[i]. Values
// are never modified once built: merged groups share them.
type groups[T comparable] struct {
	keys []string
	vals [][]T
}

func groupBy[T comparable](objs []T, nsOf func(T) string) groups[T] {
	by := map[string][]T{}
	for _, o := range objs {
		ns := nsOf(o)
		by[ns] = append(by[ns], o)
	}
	g := groups[T]{keys: make([]string, 0, len(by))}
	for k := range by {
		g.keys = append(g.keys, k)
	}
	sort.Strings(g.keys)
	g.vals = make([][]T, len(g.keys))
	for i, k := range g.keys {
		g.vals[i] = by[k]
	}
	return g
}

func (g groups[T]) get(key string) []T {
	if i := sort.SearchStrings(g.keys, key); i < len(g.keys) && g.keys[i] == key {
		return g.vals[i]
	}
	return nil
}

// merge replaces the groups of the namespaces nss (sorted) and of the cluster-scoped
// key "" by fresh's, and returns the merged groups and their objects flattened. When
// nothing changed it returns old and flat (the previous objects) unchanged.
func merge[T comparable](old, fresh groups[T], nss []string, flat []T) (groups[T], []T) {
	replaced := nss
	if len(nss) == 0 || nss[0] != "" {
		replaced = append([]string{""}, nss...)
	}
	same := true
	for _, k := range replaced {
		if !sameObjects(old.get(k), fresh.get(k)) {
			same = false
			break
		}
	}
	if same && flat != nil {
		return old, flat
	}
	out := groups[T]{keys: make([]string, 0, len(old.keys)+len(replaced)), vals: make([][]T, 0, len(old.keys)+len(replaced))}
	// Walk old's keys in runs between the replaced keys (binary search, no per-key work).
	pos := 0
	for _, k := range replaced {
		i := sort.SearchStrings(old.keys, k)
		if i < pos {
			i = pos
		}
		out.keys = append(out.keys, old.keys[pos:i]...)
		out.vals = append(out.vals, old.vals[pos:i]...)
		if v := fresh.get(k); len(v) > 0 {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, v)
		}
		pos = i
		if pos < len(old.keys) && old.keys[pos] == k {
			pos++
		}
	}
	out.keys = append(out.keys, old.keys[pos:]...)
	out.vals = append(out.vals, old.vals[pos:]...)
	n := 0
	for _, v := range out.vals {
		n += len(v)
	}
	objs := make([]T, 0, n)
	for _, v := range out.vals {
		objs = append(objs, v...)
	}
	return out, objs
}

// sameObjects reports whether a and b hold the same objects (pointers), in any order:
// an informer's namespace index returns them in no fixed order.
func sameObjects[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 64 {
		seen := make(map[T]int, len(a))
		for _, o := range a {
			seen[o]++
		}
		for _, o := range b {
			if seen[o] == 0 {
				return false
			}
			seen[o]--
		}
		return true
	}
	for _, o := range a {
		found := false
		for _, p := range b {
			if o == p {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
