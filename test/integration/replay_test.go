package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// Replaying manifests into the real API server, as `kubectl apply` and the controllers
// would leave them: objects through the main resource, their status through the status
// subresource, owner references resolved by kind and name to the UIDs the API server
// assigned (a UID written in a manifest never survives a create).

// wholePlatforms are the inputs that describe a complete platform (namespaces, SR1, SR2,
// SR3): the shipped example and the benchmarks' copy of it.
var wholePlatforms = []string{"examples/platform", "test/bench/synth/platform.yaml"}

// platformCRDs are the upstream CRDs of every custom kind the whole platforms use.
var platformCRDs = []struct {
	module string
	files  []string
}{
	{kyvernoModule, []string{"config/crds/kyverno/kyverno.io_clusterpolicies.yaml", "config/crds/kyverno/kyverno.io_policies.yaml"}},
	{kueueModule, []string{"config/components/crd/bases/kueue.x-k8s.io_workloads.yaml",
		"config/components/crd/bases/kueue.x-k8s.io_localqueues.yaml", "config/components/crd/bases/kueue.x-k8s.io_clusterqueues.yaml"}},
	{cnpgModule, []string{"config/crd/bases/postgresql.cnpg.io_clusters.yaml"}},
}

// installPlatformCRDs installs them for the test and removes them at its end.
func installPlatformCRDs(t *testing.T) {
	t.Helper()
	for _, c := range platformCRDs {
		crds := installCRDs(t, c.module, c.files...)
		t.Cleanup(func() { uninstallCRDs(t, crds) })
	}
}

// readPlatform reads a whole platform as the scan does, paths relative to the repository,
// keeping each object whole (manifests.Options.Raw) so it can be applied.
func readPlatform(t *testing.T, path string) []manifests.Object {
	t.Helper()
	objs, err := manifests.ReadWith([]string{filepath.Join(repoRoot(), path)}, nil, manifests.Options{Raw: true})
	require.NoError(t, err, "reading %s", path)
	require.NotEmpty(t, objs, path)
	return objs
}

// replayer writes manifests into the API server and removes what it wrote at cleanup.
type replayer struct {
	t      *testing.T
	dyn    dynamic.Interface
	mapper meta.RESTMapper
	dryRun bool

	assigned map[string]types.UID    // namespace/Kind/name -> UID the API server assigned
	pinned   map[types.UID]types.UID // UID written in a manifest -> UID assigned to that object
	created  []*unstructured.Unstructured
	newNS    []string // namespaces this replay created
}

// replay applies objs. With dryRun every object is a server-side dry run, except that the
// namespaces the objects need are created, and an object with a status is created for
// real (without it) so that its status can be dry-run through the status subresource:
// that is where a CRD's status schema and rules are enforced. Everything created is
// deleted at cleanup.
func replay(t *testing.T, objs []manifests.Object, dryRun bool) *replayer {
	t.Helper()
	r := &replayer{
		t: t, dyn: dynamic.NewForConfigOrDie(restConfig), dryRun: dryRun,
		mapper:   restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(restConfig))),
		assigned: map[string]types.UID{}, pinned: map[types.UID]types.UID{},
	}
	t.Cleanup(r.cleanup)

	// Namespaces first, then every namespace an object needs, then owners before the
	// objects they own.
	var rest []manifests.Object
	for _, o := range objs {
		if whole(o).GetAPIVersion() == "v1" && o.GetKind() == "Namespace" {
			r.apply(o)
			continue
		}
		rest = append(rest, o)
	}
	for _, o := range rest {
		if m := r.mapping(o); m.Scope.Name() == meta.RESTScopeNameNamespace {
			r.ensureNamespace(namespaceOf(o))
		}
	}
	inputs := map[string]bool{}
	for _, o := range rest {
		inputs[objectKey(namespaceOf(o), o.GetKind(), o.GetName())] = true
	}
	for len(rest) > 0 {
		var later []manifests.Object
		for _, o := range rest {
			if !r.ownersReady(o, inputs) {
				later = append(later, o)
				continue
			}
			r.apply(o)
		}
		if len(later) == len(rest) {
			t.Fatalf("owner references form a cycle among %d objects, e.g. %s", len(later), where(later[0]))
		}
		rest = later
	}
	return r
}

// whole is the object as read with manifests.Options.Raw.
func whole(o manifests.Object) *unstructured.Unstructured {
	return o.Value.(*unstructured.Unstructured)
}

func namespaceOf(o manifests.Object) string {
	if ns := o.GetNamespace(); ns != "" {
		return ns
	}
	return metav1.NamespaceDefault
}

func objectKey(ns, kind, name string) string { return ns + "/" + kind + "/" + name }

func where(o manifests.Object) string {
	return fmt.Sprintf("%s: document %d (line %d): %s %s/%s", o.File, o.Doc, o.Line, o.GetKind(), o.GetNamespace(), o.GetName())
}

func (r *replayer) mapping(o manifests.Object) *meta.RESTMapping {
	gvk := o.GroupVersionKind()
	m, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(r.t, err, "%s: the API server does not serve %s (is its upstream CRD in platformCRDs?)", where(o), gvk)
	return m
}

func (r *replayer) resource(m *meta.RESTMapping, ns string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return r.dyn.Resource(m.Resource).Namespace(ns)
	}
	return r.dyn.Resource(m.Resource)
}

// ownersReady: every owner reference names an object already applied; an owner that is
// not among the inputs at all is an error (its UID could never be resolved).
func (r *replayer) ownersReady(o manifests.Object, inputs map[string]bool) bool {
	for _, ref := range whole(o).GetOwnerReferences() {
		k := objectKey(namespaceOf(o), ref.Kind, ref.Name)
		require.True(r.t, inputs[k], "%s: owner reference to %s %s names no object among the inputs", where(o), ref.Kind, ref.Name)
		if _, ok := r.assigned[k]; !ok {
			return false
		}
	}
	return true
}

func (r *replayer) ensureNamespace(name string) {
	ctx := context.Background()
	if _, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err == nil {
		return
	}
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(r.t, err, "creating namespace %s", name)
	r.newNS = append(r.newNS, name)
}

// apply writes one object, then its status.
func (r *replayer) apply(o manifests.Object) {
	t, ctx := r.t, context.Background()
	m := r.mapping(o)
	body := whole(o).DeepCopy()
	pinned := body.GetUID()
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"} {
		unstructured.RemoveNestedField(body.Object, "metadata", f)
	}
	status, hasStatus := body.Object["status"]
	delete(body.Object, "status")
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		body.SetNamespace(namespaceOf(o))
	}
	if !r.dryRun {
		// What a controller writes: the owner's real UID, in references and labels.
		refs := body.GetOwnerReferences()
		for i := range refs {
			refs[i].UID = r.assigned[objectKey(body.GetNamespace(), refs[i].Kind, refs[i].Name)]
		}
		body.SetOwnerReferences(refs)
		if lbls := body.GetLabels(); lbls != nil {
			for k, v := range lbls {
				if uid, ok := r.pinned[types.UID(v)]; ok {
					lbls[k] = string(uid)
				}
			}
			body.SetLabels(lbls)
		}
	}
	ri := r.resource(m, body.GetNamespace())
	isNS := whole(o).GetAPIVersion() == "v1" && o.GetKind() == "Namespace"
	existed := false
	if isNS || !r.dryRun {
		_, err := ri.Get(ctx, body.GetName(), metav1.GetOptions{})
		existed = err == nil
	}
	opts := metav1.PatchOptions{FieldManager: "enforcement-auditor-it-replay", Force: ptr(true)}
	forReal := !r.dryRun || (hasStatus && !existed)
	if !forReal {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	data, err := body.MarshalJSON()
	require.NoError(t, err)
	out, err := ri.Patch(ctx, body.GetName(), types.ApplyPatchType, data, opts)
	require.NoError(t, err, "%s: server-side apply (dry run %v)", where(o), !forReal)
	if r.dryRun && isNS && !existed {
		// The objects of a dry run still need their namespace.
		r.ensureNamespace(o.GetName())
	}
	// A dry run answers with a UID too: owners resolve the same way in both modes.
	r.assigned[objectKey(body.GetNamespace(), out.GetKind(), out.GetName())] = out.GetUID()
	if forReal {
		switch {
		case existed:
		case isNS:
			r.newNS = append(r.newNS, o.GetName())
		default:
			r.created = append(r.created, out)
		}
		if pinned != "" {
			r.pinned[pinned] = out.GetUID()
		}
	}
	if !hasStatus {
		return
	}
	st := &unstructured.Unstructured{Object: map[string]any{"apiVersion": body.GetAPIVersion(), "kind": body.GetKind(), "status": status}}
	st.SetName(body.GetName())
	st.SetNamespace(body.GetNamespace())
	data, err = st.MarshalJSON()
	require.NoError(t, err)
	sopts := metav1.PatchOptions{FieldManager: "enforcement-auditor-it-replay", Force: ptr(true)}
	if r.dryRun {
		sopts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Patch(ctx, body.GetName(), types.ApplyPatchType, data, sopts, "status")
	require.NoError(t, err, "%s: status through the status subresource (dry run %v)", where(o), r.dryRun)
}

// cleanup deletes what the replay created, newest first, then the namespaces it created
// (finalized by hand: no namespace controller runs here), and waits until they are gone.
func (r *replayer) cleanup() {
	ctx := context.Background()
	zero := int64(0)
	for i := len(r.created) - 1; i >= 0; i-- {
		o := r.created[i]
		gvk := o.GroupVersionKind()
		m, err := r.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			r.t.Errorf("cleanup: %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
			continue
		}
		err = r.resource(m, o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			r.t.Errorf("cleanup: deleting %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
		}
	}
	sort.Strings(r.newNS)
	for _, ns := range r.newNS {
		deleteNamespaceNow(r.t, ns)
	}
}

// deleteNamespaceNow deletes an (emptied) namespace and removes its finalizer.
func deleteNamespaceNow(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	err := client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		t.Errorf("cleanup: deleting namespace %s: %v", name, err)
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ns, err := client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if err == nil && len(ns.Spec.Finalizers) > 0 {
			ns.Spec.Finalizers = nil
			_, _ = client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("cleanup: namespace %s still present after 30s", name)
}
