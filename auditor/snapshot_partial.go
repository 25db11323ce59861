package auditor

import (
	"sort"

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
		Now:             s.Now,
		Custom:          make(map[schema.GroupKind][]*unstructured.Unstructured, len(s.Custom)),
		NetworkProbes:   s.NetworkProbes,
		AdmissionProbes: s.AdmissionProbes,
		Availability:    s.Availability,
		Locations:       s.Locations,
		Seen:            s.Seen,
		Partial:         s.Partial,
	}
	for _, r := range slots() {
		r.store.restrict(r, out, s, keep)
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
	g := nsGroups{}
	out := &Snapshot{
		Now:             part.Now,
		NetworkProbes:   s.NetworkProbes,
		AdmissionProbes: s.AdmissionProbes,
		Availability:    part.Availability,
		Locations:       part.Locations,
		Seen:            part.Seen,
		Partial:         part.Partial,
		Custom:          make(map[schema.GroupKind][]*unstructured.Unstructured, len(s.Custom)+len(part.Custom)),
		lazy:            &lazyIndex{},
		groups:          g,
	}
	// The namespaces re-read, and the cluster-scoped group "": what part replaces.
	replaced := nss
	if len(nss) == 0 || nss[0] != "" {
		replaced = append([]string{""}, nss...)
	}
	for _, r := range slots() {
		k := r.store.key(r)
		if r.store.empty(r, s) && r.store.empty(r, part) {
			continue // nothing to merge (most CRD kinds of most clusters)
		}
		if m := r.store.merge(r, out, s, old[k], fresh[k], replaced); m != nil {
			g[k] = m
		}
	}
	return out
}

// PrepareWithNamespaces groups s's namespaced objects by namespace, which the first
// WithNamespaces on s would otherwise do; the engine calls it after a full evaluation
// so that the first incremental one costs what the next ones do.
func (s *Snapshot) PrepareWithNamespaces() { s.prepareGroups() }

func (s *Snapshot) prepareGroups() nsGroups {
	if s.groups == nil {
		s.groups = groupSnapshot(s)
	}
	return s.groups
}

// nsGroups are a snapshot's objects by namespace, one *groups[T] per slot (see slots);
// Namespace objects are grouped under their own name, cluster-scoped objects under "".
type nsGroups map[string]any

// groupSnapshot groups the objects of every slot that holds some; a slot absent from
// the map is empty.
func groupSnapshot(s *Snapshot) nsGroups {
	g := make(nsGroups, len(slots()))
	for _, r := range slots() {
		if !r.store.empty(r, s) {
			g[r.store.key(r)] = r.store.group(r, s)
		}
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
func merge[T comparable](old, fresh groups[T], replaced []string, flat []T) (groups[T], []T) {
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
