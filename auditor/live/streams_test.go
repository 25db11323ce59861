package live

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestCollectionOf(t *testing.T) {
	cases := map[string]struct {
		path string
		want schema.GroupResource
		ok   bool
	}{
		"core, cluster-wide":       {path: "/api/v1/pods", want: schema.GroupResource{Resource: "pods"}, ok: true},
		"core namespaces":          {path: "/api/v1/namespaces", want: schema.GroupResource{Resource: "namespaces"}, ok: true},
		"core, one namespace":      {path: "/api/v1/namespaces/kyverno/configmaps", want: schema.GroupResource{Resource: "configmaps"}, ok: true},
		"group, cluster-wide":      {path: "/apis/kueue.x-k8s.io/v1beta2/workloads", want: schema.GroupResource{Group: "kueue.x-k8s.io", Resource: "workloads"}, ok: true},
		"group, one namespace":     {path: "/apis/coordination.k8s.io/v1/namespaces/kyverno/leases", want: schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, ok: true},
		"one object is no watch":   {path: "/api/v1/namespaces/team"},
		"a subresource":            {path: "/api/v1/namespaces/team/pods/p/status"},
		"discovery":                {path: "/apis"},
		"version":                  {path: "/version"},
		"a group's resource lists": {path: "/apis/apps/v1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := collectionOf(tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestStreamsSeeWatchesOpenAndEnd: a watch response opens a stream of its resource; the
// server ending it (EOF) or the client closing it ends it; lists and failed watches are
// no streams.
func TestStreamsSeeWatchesOpenAndEnd(t *testing.T) {
	end := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		if r.URL.Query().Get("watch") == "true" {
			<-end
		}
	}))
	defer srv.Close()
	st := newStreams()
	opened := 0
	st.opened = func() { opened++ }
	c := &http.Client{Transport: st.wrap(http.DefaultTransport)}
	pods := schema.GroupResource{Resource: "pods"}
	get := func(query string) *http.Response {
		resp, err := c.Get(srv.URL + "/api/v1/pods?" + query)
		require.NoError(t, err)
		return resp
	}

	list := get("limit=500")
	_, _ = io.ReadAll(list.Body)
	list.Body.Close()
	get("watch=true&fail=1").Body.Close()
	assert.True(t, st.openSince(pods).IsZero(), "lists and refused watches are no streams")

	w := get("watch=true")
	assert.False(t, st.openSince(pods).IsZero(), "the watch is open")
	assert.Equal(t, 1, opened)
	close(end)
	_, _ = io.ReadAll(w.Body) // EOF: the server ended it
	assert.True(t, st.openSince(pods).IsZero(), "ended by the server")
	w.Body.Close()

	w = get("watch=1")
	assert.False(t, st.openSince(pods).IsZero())
	w.Body.Close()
	assert.True(t, st.openSince(pods).IsZero(), "closed by the client")
}

// TestSourceStaysStaleUntilWatchesResume: after an outage, discovery answering is not
// enough: the source is stale until every informer's watch stream has been open for
// resumeGrace.
func TestSourceStaysStaleUntilWatchesResume(t *testing.T) {
	src, _, _ := newFakeSource(t, nil)
	src.streams = newStreams()
	src.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))

	// The outage, as discovery sees it, then the apiserver answering again.
	src.stale.Store(true)
	src.recovering.Store(true)
	src.stale.Store(false)
	src.checkResumed()
	assert.True(t, src.Stale(), "no watch resumed yet")

	// Every informer's watch opens; one of them only just now.
	src.mu.RLock()
	src.streams.mu.Lock()
	var last schema.GroupResource
	for _, w := range src.resources {
		gr := w.gvr.GroupResource()
		src.streams.open[gr] = map[*watchBody]time.Time{{}: time.Now().Add(-2 * resumeGrace)}
		last = gr
	}
	src.streams.open[last] = map[*watchBody]time.Time{{}: time.Now()}
	src.streams.mu.Unlock()
	src.mu.RUnlock()
	src.checkResumed()
	assert.True(t, src.Stale(), "a watch open for less than resumeGrace may still end with 'too old resource version'")
	time.Sleep(resumeGrace)
	src.checkResumed()
	assert.False(t, src.Stale(), "every watch resumed")
	assert.Equal(t, "watches resumed", src.Changes().Reason)
}

// TestSourceFollowsTheServedVersion: when discovery's preferred version of a custom
// resource changes in place (Kueue serving v1beta2 beside v1beta1), the informer restarts
// on it without a process restart.
func TestSourceFollowsTheServedVersion(t *testing.T) {
	v2 := schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: "v1beta2", Resource: "workloads"}
	scheme := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(scheme))
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{workloadGVR: "WorkloadList", v2: "WorkloadList"})
	for _, gvr := range []schema.GroupVersionResource{workloadGVR, v2} {
		wl := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": gvr.GroupVersion().String(), "kind": "Workload",
			"metadata": map[string]any{"name": "w", "namespace": "team"},
		}}
		_, err := dyn.Resource(gvr).Namespace("team").Create(context.Background(), wl, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	src := NewForClients(fake.NewClientset(), dyn, metafake.NewSimpleMetadataClient(metafake.NewTestScheme()),
		Options{DiscoveryInterval: 20 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	src.disc = &lockedDiscovery{DiscoveryInterface: src.disc}
	served := func(versions ...string) {
		var lists []*metav1.APIResourceList
		for _, v := range versions {
			lists = append(lists, &metav1.APIResourceList{GroupVersion: "kueue.x-k8s.io/" + v,
				APIResources: []metav1.APIResource{{Name: "workloads", Namespaced: true, Kind: "Workload"}}})
		}
		setServed(src, lists)
	}
	served("v1beta1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	apiVersion := func() string {
		s, err := src.Snapshot(time.Now())
		if err != nil || !s.Visible(auditor.ResourceKueueWorkloads) {
			return ""
		}
		wls := s.CustomObjects("kueue.x-k8s.io", "Workload")
		if len(wls) != 1 {
			return ""
		}
		return wls[0].GetAPIVersion()
	}
	require.Eventually(t, func() bool { return apiVersion() == "kueue.x-k8s.io/v1beta1" }, 3*time.Second, 10*time.Millisecond)

	served("v1beta1", "v1beta2")
	require.Eventually(t, func() bool { return apiVersion() == "kueue.x-k8s.io/v1beta2" }, 3*time.Second, 10*time.Millisecond,
		"the informer follows the preferred version")
}
