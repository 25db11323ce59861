package auditor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// sampleOf is an object of the kind r in namespace ns (ignored for cluster-scoped
// kinds), decoded the way a source decodes it, with a waiver annotation to find.
func sampleOf(t *testing.T, r ResourceInfo, ns, name string) any {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": r.APIVersion(), "kind": r.Kind}}
	u.SetName(name)
	if r.Namespaced {
		u.SetNamespace(ns)
	}
	u.SetAnnotations(map[string]string{WaiveAnnotation: "some-rule"})
	v, err := r.Decode(u)
	require.NoError(t, err, r.ID)
	return v
}

// TestEveryKindFlowsThroughTheSnapshot holds every consumer of the snapshot to the table
// of kinds: for each kind, an object added lands where the kind says, is counted, is
// found for waivers (unless the kind is kept as pod-owner metadata only), survives
// Restrict to its namespace and is dropped by Restrict to another, and is replaced by
// WithNamespaces. A kind missing from any of them fails here, by name.
func TestEveryKindFlowsThroughTheSnapshot(t *testing.T) {
	for _, r := range Kinds {
		t.Run(r.ID, func(t *testing.T) {
			s := &Snapshot{Now: time.Unix(0, 0)}
			obj := sampleOf(t, r, "team-a", "x")
			require.True(t, r.Add(s, obj), "Add refused what Decode returned")
			require.False(t, r.Add(s, struct{}{}), "Add accepted an object of another type")
			s.Index()
			require.Equal(t, 1, r.Len(s))

			ref := &ObjectRef{APIVersion: r.APIVersion(), Kind: r.Kind, Name: "x"}
			if r.Namespaced {
				ref.Namespace = "team-a"
			}
			if r.OwnerOnly {
				require.Len(t, s.Owners, 1)
				assert.Nil(t, r.Objects(s))
				assert.Nil(t, s.Annotations(ref), "owner kinds keep no annotations")
			} else {
				require.Len(t, r.Objects(s), 1)
				assert.Equal(t, "some-rule", s.Annotations(ref)[WaiveAnnotation], "waivers cannot find the object")
			}

			ns := "team-a"
			if !r.Namespaced {
				ns = "other" // cluster-scoped objects stay in every restriction
			}
			if r.Kind == "Namespace" {
				ns = "x" // a Namespace is its own namespace's object
			}
			assert.Equal(t, 1, r.Len(s.Restrict([]string{ns})), "Restrict to its namespace lost it")
			if r.Namespaced || r.Kind == "Namespace" {
				assert.Equal(t, 0, r.Len(s.Restrict([]string{"elsewhere"})), "Restrict kept another namespace's object")
			}

			// WithNamespaces: the namespace re-read without the object drops it (a
			// cluster-scoped object is re-read too: it always comes from the part).
			part := &Snapshot{Now: time.Unix(1, 0)}
			merged := s.WithNamespaces(part, []string{ns})
			assert.Equal(t, 0, r.Len(merged), "WithNamespaces kept an object the re-read namespace no longer has")
			// ...and another namespace re-read keeps it untouched.
			if r.Namespaced || r.Kind == "Namespace" {
				kept := s.WithNamespaces(&Snapshot{Now: time.Unix(1, 0)}, []string{"elsewhere"})
				assert.Equal(t, 1, r.Len(kept), "WithNamespaces lost an object of a namespace not re-read")
			}
		})
	}
}

// TestEveryKindProjects holds every entry's projection (what the caches and scan keep)
// to what every consumer needs: an object of the snapshot's type (Add accepts it), its
// managedFields and kubectl's last-applied copy gone, its waiver annotation kept (waivers
// apply to every kind), with and without a configuration.
func TestEveryKindProjects(t *testing.T) {
	for _, r := range Kinds {
		for name, p := range map[string]*Projection{"zero": nil, "configured": NewProjection(DefaultConfig(), nil)} {
			t.Run(r.ID+"/"+name, func(t *testing.T) {
				obj := sampleOf(t, r, "team-a", "x")
				if m, ok := obj.(MetaObject); ok {
					m.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "kubectl"}})
					m.SetAnnotations(map[string]string{WaiveAnnotation: "some-rule", LastAppliedAnnotation: "{}"})
				}
				out := r.Project(p, obj)
				require.NotNil(t, out)
				require.True(t, r.Add(&Snapshot{}, out), "Add refused what Project returned")
				if m, ok := out.(MetaObject); ok {
					assert.Nil(t, m.GetManagedFields())
					assert.NotContains(t, m.GetAnnotations(), LastAppliedAnnotation)
					assert.Equal(t, "some-rule", m.GetAnnotations()[WaiveAnnotation])
				} else {
					assert.True(t, r.OwnerOnly, "only owner kinds are kept as Owners")
				}
			})
		}
	}
}

func TestKindsTable(t *testing.T) {
	ids := map[string]bool{}
	gks := map[schema.GroupKind]bool{}
	for _, r := range Kinds {
		require.False(t, ids[r.ID], "duplicate ID %s", r.ID)
		require.False(t, gks[r.GroupKind()], "duplicate kind %s", r.GroupKind())
		ids[r.ID], gks[r.GroupKind()] = true, true
		require.NotEmpty(t, r.Versions, r.ID)
		require.NotEmpty(t, r.Why, "%s: say why the auditor reads it (docs/operate.md's RBAC table)", r.ID)
		require.NotNil(t, r.store, r.ID)
		got, ok := LookupResource(r.ID)
		require.True(t, ok)
		require.Equal(t, r.ID, got.ID)
		got, ok = LookupKind(r.GroupKind())
		require.True(t, ok)
		require.Equal(t, r.ID, got.ID)
		if r.OwnerOnly {
			require.True(t, r.Local, "%s: pod owners are namespace-local", r.ID)
		}
	}
	require.Len(t, KnownResources, len(Kinds)-len(OwnerResources))
	_, ok := LookupKind(schema.GroupKind{Kind: "Secret"})
	require.False(t, ok, "Secrets are never read")
}
