package live

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// cached is what kind id's informer caches of obj: its transform (transformFor) with
// projection p.
func cached(t *testing.T, p *auditor.Projection, id string, obj any) any {
	t.Helper()
	r, ok := auditor.LookupResource(id)
	require.True(t, ok, id)
	out, err := transformFor(r, p)(obj)
	require.NoError(t, err)
	return out
}

func apierrorsForbidden(resource string) error {
	return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", nil)
}

// lockedDiscovery serves the API resources a test sets while the source's discovery
// loop reads them (the fake clientset's Resources field is not safe for that).
type lockedDiscovery struct {
	discovery.DiscoveryInterface
	mu        sync.Mutex
	resources []*metav1.APIResourceList
	delay     time.Duration // a slow discovery (a large cluster, a loaded apiserver)
}

func (d *lockedDiscovery) set(r []*metav1.APIResourceList) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.resources = r
}

func (d *lockedDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	d.mu.Lock()
	delay := d.delay
	d.mu.Unlock()
	time.Sleep(delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	return nil, append([]*metav1.APIResourceList(nil), d.resources...), nil
}

// runSource runs src until the test ends, then requires Run to have returned: every
// goroutine it started joined. The returned context ends when the source stops.
func runSource(t *testing.T, ctx context.Context, src *Source) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("live source did not stop within 10s of its context ending")
		}
	})
	return ctx
}
