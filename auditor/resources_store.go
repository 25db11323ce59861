package auditor

import (
	"encoding/json"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// MetaObject is a Kubernetes object with its metadata: typed API objects and
// unstructured ones.
type MetaObject interface {
	metav1.Object
	runtime.Object
}

// slot is where one kind's objects live in a Snapshot and how they move between
// snapshots: the typed field of a built-in kind, the Custom map entry of a CRD kind, or
// the shared Owners list of every owner kind. Snapshot operations (Restrict,
// WithNamespaces, Annotations) iterate over the distinct slots of Kinds.
type slot interface {
	key(r ResourceInfo) string
	// empty reports whether the slot holds no object in s (owner kinds share one slot).
	empty(r ResourceInfo, s *Snapshot) bool
	decode(r ResourceInfo, u *unstructured.Unstructured) (any, error)
	// decodeJSON is decode from JSON, without an unstructured copy where the slot keeps
	// none.
	decodeJSON(r ResourceInfo, data []byte) (any, error)
	add(r ResourceInfo, s *Snapshot, obj any) bool
	// reserve makes room for n more objects (a source about to add a whole list).
	reserve(r ResourceInfo, s *Snapshot, n int)
	count(r ResourceInfo, s *Snapshot) int
	metas(r ResourceInfo, s *Snapshot) []MetaObject
	find(r ResourceInfo, s *Snapshot, namespace, name string) MetaObject
	// restrict copies into dst the objects of src whose namespace keep accepts
	// (cluster-scoped objects have namespace "").
	restrict(r ResourceInfo, dst, src *Snapshot, keep func(string) bool)
	// group returns src's objects grouped by namespace (a *groups[T]).
	group(r ResourceInfo, src *Snapshot) any
	// project is ResourceInfo.Project (p is not nil).
	project(r ResourceInfo, p *Projection, obj any) any
	// merge sets dst's objects to old's groups with the groups replaced (namespaces and
	// "" for cluster-scoped objects, sorted) taken from fresh's, and returns the merged
	// groups: old itself when nothing changed, nil when empty. old and fresh may be nil
	// (no object). flat is the snapshot holding old's objects flattened.
	merge(r ResourceInfo, dst, flat *Snapshot, old, fresh any, replaced []string) any
}

// slots returns one resource per distinct slot, in Kinds order.
func slots() []ResourceInfo { return distinctSlots }

var distinctSlots = func() []ResourceInfo {
	seen := map[string]bool{}
	var out []ResourceInfo
	for _, r := range Kinds {
		if k := r.store.key(r); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}()

// typedSlot keeps a built-in kind in its typed Snapshot field.
type typedSlot[T any] struct {
	field    func(*Snapshot) *[]*T
	defaults func(*T)
	// groupByName groups objects by their own name (Namespace objects: a namespace's own
	// objects include its Namespace).
	groupByName bool
	// inNamespace, when set, is an indexed lookup of one namespace's objects.
	inNamespace func(*Snapshot, string) []*T
	// projection, when set, is the kind's projection onto what the rules read (nil: the
	// object with its metadata stripped, see stripMeta); it returns nil for an object not
	// to keep.
	projection func(*Projection, *T) *T
}

func typed[T any](field func(*Snapshot) *[]*T, defaults func(*T)) typedSlot[T] {
	return typedSlot[T]{field: field, defaults: defaults}
}

func (t typedSlot[T]) byName() typedSlot[T] { t.groupByName = true; return t }

func (t typedSlot[T]) lookup(in func(*Snapshot, string) []*T) typedSlot[T] {
	t.inNamespace = in
	return t
}

func (t typedSlot[T]) projected(f func(*Projection, *T) *T) typedSlot[T] {
	t.projection = f
	return t
}

func metaOf[T any](o *T) MetaObject { return any(o).(MetaObject) }

func (t typedSlot[T]) groupKey(o *T) string {
	m := metaOf(o)
	if t.groupByName {
		return m.GetName()
	}
	return m.GetNamespace()
}

func (t typedSlot[T]) key(r ResourceInfo) string { return r.ID }

func (t typedSlot[T]) empty(r ResourceInfo, s *Snapshot) bool { return len(*t.field(s)) == 0 }

func (t typedSlot[T]) decode(r ResourceInfo, u *unstructured.Unstructured) (any, error) {
	v, err := convert[T](u)
	if err != nil {
		return nil, err
	}
	if t.defaults != nil {
		t.defaults(v)
	}
	return v, nil
}

func (t typedSlot[T]) decodeJSON(r ResourceInfo, data []byte) (any, error) {
	v, err := convertJSON[T](data)
	if err != nil {
		return nil, err
	}
	if t.defaults != nil {
		t.defaults(v)
	}
	return v, nil
}

func (t typedSlot[T]) add(r ResourceInfo, s *Snapshot, obj any) bool {
	v, ok := obj.(*T)
	if ok {
		f := t.field(s)
		*f = append(*f, v)
	}
	return ok
}

func (t typedSlot[T]) reserve(r ResourceInfo, s *Snapshot, n int) {
	f := t.field(s)
	*f = slices.Grow(*f, n)
}

func (t typedSlot[T]) count(r ResourceInfo, s *Snapshot) int { return len(*t.field(s)) }

func (t typedSlot[T]) metas(r ResourceInfo, s *Snapshot) []MetaObject {
	items := *t.field(s)
	out := make([]MetaObject, 0, len(items))
	for _, o := range items {
		if o != nil {
			out = append(out, metaOf(o))
		}
	}
	return out
}

func (t typedSlot[T]) find(r ResourceInfo, s *Snapshot, namespace, name string) MetaObject {
	items := *t.field(s)
	if t.inNamespace != nil {
		items = t.inNamespace(s, namespace)
	}
	for _, o := range items {
		if m := metaOf(o); m.GetNamespace() == namespace && m.GetName() == name {
			return m
		}
	}
	return nil
}

func (t typedSlot[T]) project(r ResourceInfo, p *Projection, obj any) any {
	v, ok := obj.(*T)
	if !ok {
		return dropManagedFields(obj)
	}
	if t.projection == nil {
		stripMeta(metaOf(v))
		return v
	}
	if out := t.projection(p, v); out != nil {
		return out
	}
	return nil
}

func (t typedSlot[T]) restrict(r ResourceInfo, dst, src *Snapshot, keep func(string) bool) {
	*t.field(dst) = filterBy(*t.field(src), func(o *T) bool { return keep(t.groupKey(o)) })
}

func (t typedSlot[T]) group(r ResourceInfo, src *Snapshot) any {
	g := groupBy(*t.field(src), t.groupKey)
	return &g
}

func (t typedSlot[T]) merge(r ResourceInfo, dst, flat *Snapshot, old, fresh any, replaced []string) any {
	g, objs := mergeAny[*T](old, fresh, replaced, *t.field(flat))
	*t.field(dst) = objs
	return g
}

// mergeAny is merge over the boxed groups of a slot (nil: empty), returning old's box
// when nothing changed so that an unchanged kind costs no allocation.
func mergeAny[T comparable](old, fresh any, replaced []string, flat []T) (any, []T) {
	var o, f groups[T]
	op, _ := old.(*groups[T])
	if op != nil {
		o = *op
	}
	if fp, _ := fresh.(*groups[T]); fp != nil {
		f = *fp
	}
	g, objs := merge(o, f, replaced, flat)
	switch {
	case len(g.keys) == 0:
		return nil, objs
	case op != nil && sameGroups(g, o):
		return op, objs
	}
	return &g, objs
}

// sameGroups reports whether merge handed back the groups it was given.
func sameGroups[T comparable](a, b groups[T]) bool {
	return len(a.keys) == len(b.keys) && (len(a.keys) == 0 || &a.keys[0] == &b.keys[0])
}

// custom keeps a CRD kind as unstructured objects in Snapshot.Custom.
type custom struct {
	// projection, when set, projects the kind's objects further than stripUnstructured.
	projection func(*unstructured.Unstructured)
}

func (custom) key(r ResourceInfo) string { return "custom:" + r.Group + "/" + r.Kind }

func (custom) empty(r ResourceInfo, s *Snapshot) bool { return len(s.Custom[r.GroupKind()]) == 0 }

func (custom) decode(r ResourceInfo, u *unstructured.Unstructured) (any, error) { return u, nil }

func (custom) decodeJSON(r ResourceInfo, data []byte) (any, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func (custom) add(r ResourceInfo, s *Snapshot, obj any) bool {
	u, ok := obj.(*unstructured.Unstructured)
	if ok {
		if s.Custom == nil {
			s.Custom = map[schema.GroupKind][]*unstructured.Unstructured{}
		}
		s.Custom[r.GroupKind()] = append(s.Custom[r.GroupKind()], u)
	}
	return ok
}

func (custom) reserve(r ResourceInfo, s *Snapshot, n int) {
	if s.Custom == nil {
		s.Custom = map[schema.GroupKind][]*unstructured.Unstructured{}
	}
	s.Custom[r.GroupKind()] = slices.Grow(s.Custom[r.GroupKind()], n)
}

func (custom) count(r ResourceInfo, s *Snapshot) int { return len(s.Custom[r.GroupKind()]) }

func (custom) metas(r ResourceInfo, s *Snapshot) []MetaObject {
	items := s.Custom[r.GroupKind()]
	out := make([]MetaObject, 0, len(items))
	for _, u := range items {
		if u != nil {
			out = append(out, u)
		}
	}
	return out
}

func (custom) find(r ResourceInfo, s *Snapshot, namespace, name string) MetaObject {
	for _, u := range s.Custom[r.GroupKind()] {
		if u.GetNamespace() == namespace && u.GetName() == name {
			return u
		}
	}
	return nil
}

func (c custom) project(r ResourceInfo, p *Projection, obj any) any {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return dropManagedFields(obj)
	}
	stripUnstructured(u)
	if c.projection != nil {
		c.projection(u)
	}
	return u
}

func (custom) restrict(r ResourceInfo, dst, src *Snapshot, keep func(string) bool) {
	objs, ok := src.Custom[r.GroupKind()]
	if !ok {
		return
	}
	if dst.Custom == nil {
		dst.Custom = map[schema.GroupKind][]*unstructured.Unstructured{}
	}
	dst.Custom[r.GroupKind()] = filterBy(objs, func(o *unstructured.Unstructured) bool { return keep(o.GetNamespace()) })
}

func (custom) group(r ResourceInfo, src *Snapshot) any {
	g := groupBy(src.Custom[r.GroupKind()], (*unstructured.Unstructured).GetNamespace)
	return &g
}

func (custom) merge(r ResourceInfo, dst, flat *Snapshot, old, fresh any, replaced []string) any {
	gk := r.GroupKind()
	prev, had := flat.Custom[gk]
	g, objs := mergeAny[*unstructured.Unstructured](old, fresh, replaced, prev)
	if had || len(objs) > 0 {
		if dst.Custom == nil {
			dst.Custom = map[schema.GroupKind][]*unstructured.Unstructured{}
		}
		dst.Custom[gk] = objs
	}
	return g
}

// owners keeps every owner kind's objects, metadata only, in Snapshot.Owners.
type owners struct{}

func (owners) key(ResourceInfo) string { return "owners" }

func (owners) empty(r ResourceInfo, s *Snapshot) bool { return len(s.Owners) == 0 }

func (owners) decode(r ResourceInfo, u *unstructured.Unstructured) (any, error) {
	return OwnerOf(u), nil
}

func (owners) decodeJSON(r ResourceInfo, data []byte) (any, error) { return OwnerOfJSON(data) }

func (owners) add(r ResourceInfo, s *Snapshot, obj any) bool {
	o, ok := obj.(*Owner)
	if ok {
		s.Owners = append(s.Owners, o)
	}
	return ok
}

func (owners) reserve(r ResourceInfo, s *Snapshot, n int) { s.Owners = slices.Grow(s.Owners, n) }

func (owners) count(r ResourceInfo, s *Snapshot) int {
	n := 0
	for _, o := range s.Owners {
		if o.Kind == r.Kind && groupOfAPIVersion(o.APIVersion) == r.Group {
			n++
		}
	}
	return n
}

func (owners) metas(ResourceInfo, *Snapshot) []MetaObject { return nil }

func (owners) find(ResourceInfo, *Snapshot, string, string) MetaObject { return nil }

// project keeps an Owner as it is (it holds only the metadata the owner chain reads);
// the metadata a metadata-only informer lists, which the Owner is built from, loses
// managedFields and kubectl's last-applied copy.
func (owners) project(r ResourceInfo, p *Projection, obj any) any {
	if m, ok := obj.(metav1.Object); ok {
		stripMeta(m)
	}
	return obj
}

func (owners) restrict(r ResourceInfo, dst, src *Snapshot, keep func(string) bool) {
	dst.Owners = filterBy(src.Owners, func(o *Owner) bool { return keep(o.Namespace) })
}

func (owners) group(r ResourceInfo, src *Snapshot) any {
	g := groupBy(src.Owners, func(o *Owner) string { return o.Namespace })
	return &g
}

func (owners) merge(r ResourceInfo, dst, flat *Snapshot, old, fresh any, replaced []string) any {
	g, objs := mergeAny[*Owner](old, fresh, replaced, flat.Owners)
	dst.Owners = objs
	return g
}

// OwnerOf is the owner-chain metadata of any object.
func OwnerOf(o metav1.Object) *Owner {
	apiVersion, kind := "", ""
	if t, ok := o.(runtime.Object); ok {
		apiVersion, kind = t.GetObjectKind().GroupVersionKind().ToAPIVersionAndKind()
	}
	return &Owner{APIVersion: apiVersion, Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(),
		UID: o.GetUID(), Labels: o.GetLabels(), OwnerReferences: o.GetOwnerReferences()}
}

func groupOfAPIVersion(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}
