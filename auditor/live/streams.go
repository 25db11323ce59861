package live

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// streams watches the source's clients from their transport: for every resource, the
// watch streams open now and since when. An informer whose watch stream is open is
// receiving the cluster's changes; one in watch backoff (client-go retries a refused
// watch for up to 30 s without telling its error handler) is not, although its cache
// says synced. After an outage the source stays stale until every informer's stream is
// open again (Source.resumed).
type streams struct {
	mu   sync.Mutex
	open map[schema.GroupResource]map[*watchBody]time.Time
	// opened is called (without the lock) when a watch stream opens.
	opened func()
}

func newStreams() *streams {
	return &streams{open: map[schema.GroupResource]map[*watchBody]time.Time{}}
}

// wrap is a rest.Config transport wrapper.
func (s *streams) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK || req.Method != http.MethodGet {
			return resp, err
		}
		if w := req.URL.Query().Get("watch"); w != "true" && w != "1" {
			return resp, err
		}
		gr, ok := collectionOf(req.URL.Path)
		if !ok {
			return resp, err
		}
		b := &watchBody{ReadCloser: resp.Body, streams: s, gr: gr}
		s.mu.Lock()
		if s.open[gr] == nil {
			s.open[gr] = map[*watchBody]time.Time{}
		}
		s.open[gr][b] = time.Now()
		opened := s.opened
		s.mu.Unlock()
		if opened != nil {
			opened()
		}
		resp.Body = b
		return resp, nil
	})
}

// openSince returns when the oldest watch stream of a resource still open opened; zero
// when none is open.
func (s *streams) openSince(gr schema.GroupResource) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest time.Time
	for _, t := range s.open[gr] {
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	return oldest
}

type watchBody struct {
	io.ReadCloser
	streams *streams
	gr      schema.GroupResource
	once    sync.Once
}

// Read ends the stream's record on the first error (EOF included): a stream the
// apiserver closed is no longer open, whenever the reader gets round to Close.
func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done()
	}
	return n, err
}

func (b *watchBody) Close() error {
	b.done()
	return b.ReadCloser.Close()
}

func (b *watchBody) done() {
	b.once.Do(func() {
		b.streams.mu.Lock()
		delete(b.streams.open[b.gr], b)
		b.streams.mu.Unlock()
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// collectionOf parses a collection path: /api/v1/[namespaces/NS/]RESOURCE or
// /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE.
func collectionOf(path string) (schema.GroupResource, bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	var group string
	switch {
	case len(seg) >= 3 && seg[0] == "api":
		seg = seg[2:]
	case len(seg) >= 4 && seg[0] == "apis":
		group, seg = seg[1], seg[3:]
	default:
		return schema.GroupResource{}, false
	}
	switch {
	case len(seg) == 1:
		return schema.GroupResource{Group: group, Resource: seg[0]}, true
	case len(seg) == 3 && seg[0] == "namespaces":
		return schema.GroupResource{Group: group, Resource: seg[2]}, true
	}
	return schema.GroupResource{}, false
}
