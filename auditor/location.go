package auditor

import "k8s.io/apimachinery/pkg/runtime/schema"

// Location is where an object was read from: a manifest file, the 1-based document in
// it and the line (counted in the file) where that document starts. Live objects have none.
type Location struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Line     int    `json:"line"`
}

// ObjectKey identifies an object across versions of its API: group, kind, namespace, name.
type ObjectKey struct {
	Group, Kind, Namespace, Name string
}

// KeyOf is the identity of the object a reference names.
func KeyOf(ref *ObjectRef) ObjectKey {
	return ObjectKey{Group: groupOfAPIVersion(ref.APIVersion), Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name}
}

// ObjectKeyOf is the identity of an object of the given group and kind.
func ObjectKeyOf(gk schema.GroupKind, namespace, name string) ObjectKey {
	return ObjectKey{Group: gk.Group, Kind: gk.Kind, Namespace: namespace, Name: name}
}

// LocationOf returns where the referenced object was read, or nil when the snapshot does
// not know (a live source, a cluster-wide finding).
func (s *Snapshot) LocationOf(ref *ObjectRef) *Location {
	if ref == nil || s.Locations == nil {
		return nil
	}
	if l, ok := s.Locations[KeyOf(ref)]; ok {
		return &l
	}
	return nil
}
