package live

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// transformFor is the cache.TransformFunc of kind r's informer: the kind's projection
// from the table of kinds (auditor.ResourceInfo.Project, which the offline scan applies
// too) before objects enter the cache. An object the projection drops (a pod no rule
// reads) is cached as its key (podStub). It runs on the informer's goroutine, so it is
// cheap and never fails.
func transformFor(r auditor.ResourceInfo, p *auditor.Projection) cache.TransformFunc {
	return func(obj any) (any, error) {
		if _, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			// tombstones carry an object we never need to strip: it is about to be removed
			return obj, nil
		}
		out := r.Project(p, obj)
		if out == nil {
			key, err := cache.MetaNamespaceKeyFunc(obj)
			if err != nil {
				return obj, nil
			}
			return podStub(key), nil
		}
		return out, nil
	}
}

// podStub is what the pod cache keeps of a pod Options.KeepPod rejects: its key
// ("namespace/name"), which is all the informer needs to notice its update or deletion
// (cache.MetaNamespaceKeyFunc reads an ExplicitKey as the key itself). About 100 bytes
// with its store entry, against ~3 KB for a typed pod. Snapshots do not show it, the
// namespace index leaves it out, and its events wake nobody.
type podStub = cache.ExplicitKey

func isStub(obj any) bool {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	_, ok := obj.(podStub)
	return ok
}

// namespaceIndex is cache.MetaNamespaceIndexFunc for caches that may hold pod stubs:
// stubs are not indexed (partial snapshots never read them).
func namespaceIndex(obj any) ([]string, error) {
	if _, ok := obj.(podStub); ok {
		return nil, nil
	}
	return cache.MetaNamespaceIndexFunc(obj)
}

// ownerMeta is how metadata informers cache pod owners: the object's metadata and the
// auditor.Owner built from it once. Every snapshot then shares the same *Owner for an
// unchanged object, which lets incremental evaluation see that a namespace's owners did
// not change without comparing them field by field.
type ownerMeta struct {
	*metav1.PartialObjectMetadata
	owner *auditor.Owner
}

// ownerTransform is the transform of an owner kind's metadata informer: the kind's
// projection (metadata stripped), wrapped with the Owner built from it.
func ownerTransform(r auditor.ResourceInfo, apiVersion string) cache.TransformFunc {
	return func(obj any) (any, error) {
		o, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return transformFor(r, nil)(obj)
		}
		r.Project(nil, o)
		return &ownerMeta{PartialObjectMetadata: o, owner: &auditor.Owner{
			APIVersion: apiVersion, Kind: r.Kind, Namespace: o.Namespace, Name: o.Name,
			UID: o.UID, Labels: o.Labels, OwnerReferences: o.OwnerReferences,
		}}, nil
	}
}
