// Package snapshottest builds indexed auditor.Snapshots from literal objects, so that
// every rule test describes its cluster the same way.
package snapshottest

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Option sets a snapshot field that is not an object (see At).
type Option func(*auditor.Snapshot)

// At sets the snapshot's Now.
func At(now time.Time) Option { return func(s *auditor.Snapshot) { s.Now = now } }

// Offline makes the snapshot one of manifests: as the manifests source does, it records
// the kinds of which it holds at least one object (Snapshot.Seen); the others were not
// seen.
func Offline() Option { return func(s *auditor.Snapshot) { s.Seen = map[string]bool{} } }

// New returns an indexed snapshot holding objs. It accepts a pointer to any typed kind
// of auditor.Snapshot, *unstructured.Unstructured (into Custom, by group and kind),
// *auditor.Owner, network and admission probe results (one or a slice), a
// map[string]auditor.Availability (merged into Availability), an Option, and []any
// (flattened); nil is skipped. Any other type panics, so a forgotten kind fails the test.
func New(objs ...any) *auditor.Snapshot {
	s := &auditor.Snapshot{
		Custom:       map[schema.GroupKind][]*unstructured.Unstructured{},
		Availability: map[string]auditor.Availability{},
	}
	for _, o := range objs {
		add(s, o)
	}
	if s.Seen != nil {
		for _, r := range auditor.Kinds {
			if r.Len(s) > 0 {
				s.Seen[r.ID] = true
			}
		}
	}
	s.Index()
	return s
}

func add(s *auditor.Snapshot, o any) {
	switch v := o.(type) {
	case nil:
	case []any:
		for _, e := range v {
			add(s, e)
		}
	case Option:
		v(s)
	case *unstructured.Unstructured:
		// CRD kinds go where the table says; an unknown kind is kept in Custom too,
		// as rules read unknown kinds nowhere else.
		if r, ok := auditor.LookupKind(v.GroupVersionKind().GroupKind()); ok && r.Custom && !r.OwnerOnly {
			r.Add(s, v)
			return
		}
		gk := v.GroupVersionKind().GroupKind()
		s.Custom[gk] = append(s.Custom[gk], v)
	case auditor.NetworkProbeResult:
		s.NetworkProbes = append(s.NetworkProbes, v)
	case []auditor.NetworkProbeResult:
		s.NetworkProbes = append(s.NetworkProbes, v...)
	case auditor.AdmissionProbeResult:
		s.AdmissionProbes = append(s.AdmissionProbes, v)
	case []auditor.AdmissionProbeResult:
		s.AdmissionProbes = append(s.AdmissionProbes, v...)
	case map[string]auditor.Availability:
		for k, a := range v {
			s.Availability[k] = a
		}
	default:
		// Typed objects and owners: the first kind of the table that takes them.
		for _, r := range auditor.Kinds {
			if r.Add(s, o) {
				return
			}
		}
		panic(fmt.Sprintf("snapshottest.New: unsupported object of type %T (add its kind to auditor.Kinds)", o))
	}
}
