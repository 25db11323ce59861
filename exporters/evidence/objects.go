package evidence

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// snapObject is one object of the snapshot with a lazily computed fingerprint: a
// document hashes only the objects it lists, not the whole cluster.
type snapObject struct {
	ref     ObjectRef
	uid, rv string
	content func() (map[string]any, error)

	hashed          bool
	sha256, hashErr string
}

func (o *snapObject) key() string { return o.ref.Kind + "|" + o.ref.Namespace + "|" + o.ref.Name }

func (o *snapObject) fingerprint() (string, string) {
	if !o.hashed {
		o.hashed = true
		m, err := o.content()
		if err == nil {
			o.sha256, err = HashCanonical(m)
		}
		if err != nil {
			o.hashErr = err.Error()
		}
	}
	return o.sha256, o.hashErr
}

func (o *snapObject) evidence() Object {
	sum, herr := o.fingerprint()
	return Object{APIVersion: o.ref.APIVersion, Kind: o.ref.Kind, Namespace: o.ref.Namespace, Name: o.ref.Name,
		UID: o.uid, ResourceVersion: o.rv, SHA256: sum, HashError: herr}
}

// metaObject is what typed core objects have in common.
type metaObject interface {
	metav1.Object
	runtime.Object
}

func typedObjects[T metaObject](apiVersion, kind string, items []T) []*snapObject {
	out := make([]*snapObject, 0, len(items))
	for _, it := range items {
		if v := reflect.ValueOf(it); !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
			continue
		}
		it := it
		out = append(out, &snapObject{
			ref: ObjectRef{APIVersion: apiVersion, Kind: kind, Namespace: it.GetNamespace(), Name: it.GetName()},
			uid: string(it.GetUID()), rv: it.GetResourceVersion(),
			content: func() (map[string]any, error) {
				m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(it)
				if err != nil {
					return nil, err
				}
				return reduce(m, apiVersion, kind), nil
			},
		})
	}
	return out
}

// reduce keeps what a rule may read: the whole object except metadata, which shrinks to
// name, namespace, labels, annotations and ownerReferences (uid and resourceVersion are
// listed beside the hash; managedFields and timestamps are noise). apiVersion and kind
// are set because informers strip them from typed objects.
func reduce(obj map[string]any, apiVersion, kind string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "metadata" {
			out[k] = v
		}
	}
	out["apiVersion"] = apiVersion
	out["kind"] = kind
	md := map[string]any{}
	if m, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range []string{"name", "namespace", "labels", "annotations", "ownerReferences"} {
			if v, ok := m[k]; ok && v != nil {
				md[k] = v
			}
		}
	}
	out["metadata"] = md
	return out
}

func customObjects(items []*unstructured.Unstructured) []*snapObject {
	out := make([]*snapObject, 0, len(items))
	for _, u := range items {
		if u == nil {
			continue
		}
		u := u
		out = append(out, &snapObject{
			ref: ObjectRef{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()},
			uid: string(u.GetUID()), rv: u.GetResourceVersion(),
			content: func() (map[string]any, error) {
				return reduce(u.Object, u.GetAPIVersion(), u.GetKind()), nil
			},
		})
	}
	return out
}

func ownerObjects(owners []*auditor.Owner, info auditor.ResourceInfo) []*snapObject {
	var out []*snapObject
	for _, o := range owners {
		if o == nil || o.Kind != info.Kind || groupOf(o.APIVersion) != info.Group {
			continue
		}
		o := o
		out = append(out, &snapObject{
			ref: ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name},
			uid: string(o.UID),
			content: func() (map[string]any, error) {
				md := map[string]any{"name": o.Name}
				if o.Namespace != "" {
					md["namespace"] = o.Namespace
				}
				if len(o.Labels) > 0 {
					md["labels"] = o.Labels
				}
				if len(o.OwnerReferences) > 0 {
					// Through JSON, so the hash matches the object as the API serves it.
					b, err := json.Marshal(o.OwnerReferences)
					if err != nil {
						return nil, err
					}
					var refs any
					if err := json.Unmarshal(b, &refs); err != nil {
						return nil, err
					}
					md["ownerReferences"] = refs
				}
				return map[string]any{"apiVersion": o.APIVersion, "kind": o.Kind, "metadata": md}, nil
			},
		})
	}
	return out
}

func groupOf(apiVersion string) string {
	if i := strings.LastIndex(apiVersion, "/"); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// objectIndex enumerates the snapshot's objects per resource ID, once.
type objectIndex struct {
	s     *auditor.Snapshot
	cache map[string][]*snapObject
}

func newObjectIndex(s *auditor.Snapshot) *objectIndex {
	return &objectIndex{s: s, cache: map[string][]*snapObject{}}
}

func (x *objectIndex) of(resource string) []*snapObject {
	if objs, ok := x.cache[resource]; ok {
		return objs
	}
	objs := x.enumerate(resource)
	sort.SliceStable(objs, func(i, j int) bool {
		if objs[i].ref.Namespace != objs[j].ref.Namespace {
			return objs[i].ref.Namespace < objs[j].ref.Namespace
		}
		return objs[i].ref.Name < objs[j].ref.Name
	})
	x.cache[resource] = objs
	return objs
}

func (x *objectIndex) enumerate(resource string) []*snapObject {
	info, ok := auditor.LookupResource(resource)
	switch {
	case !ok:
		return nil
	case info.OwnerOnly:
		return ownerObjects(x.s.Owners, info)
	case info.Custom:
		return customObjects(x.s.Custom[info.GroupKind()])
	}
	// Built-in kinds: informers strip apiVersion and kind from typed objects, so they
	// come from the table. A ConfigMap's data is hashed with the rest; no value ever
	// enters the document.
	return typedObjects(info.APIVersion(), info.Kind, info.Objects(x.s))
}
