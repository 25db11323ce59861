package serving

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// The defaults of Limits: what one client the server has not authenticated yet can hold.
const (
	// DefaultReadHeaderTimeout bounds how long a client takes to send a request's headers
	// (a connection that sends nothing is closed after it too).
	DefaultReadHeaderTimeout = 5 * time.Second
	// DefaultIdleTimeout closes a keep-alive connection with no request in flight; above
	// the one-minute scrape interval Prometheus defaults to, so a scraper keeps its
	// connection between scrapes.
	DefaultIdleTimeout = 90 * time.Second
	// DefaultMaxHeaderBytes bounds a request's headers (a bearer token is a few KiB);
	// larger ones are answered 431. net/http's own default is 1 MiB.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxConnections caps the connections open at once: scrapers, kubelet probes
	// and evidence collectors are a handful.
	DefaultMaxConnections = 256
)

// Limits bound the HTTP server before authentication. Zero fields take the defaults.
type Limits struct {
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// MaxConnections caps the connections open at once. At the cap, a new connection
	// takes the place of the one idle longest between requests (keep-alive), else of
	// the oldest that has not sent a request for half the ReadHeaderTimeout; otherwise
	// it waits in the listen backlog.
	MaxConnections int
}

// WithDefaults returns l with every unset (zero or negative) limit at its default.
func (l Limits) WithDefaults() Limits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l
}

// NewServer returns the server of h within the limits, and ln capped to their number of
// connections: serve the one with the other (Serve, or ServeTLS for HTTPS). Every limit
// holds before a request reaches h, so before authentication.
func NewServer(ln net.Listener, h http.Handler, l Limits) (*http.Server, net.Listener) {
	l = l.WithDefaults()
	capped := &limitListener{Listener: ln, max: l.MaxConnections, grace: l.ReadHeaderTimeout / 2, open: map[*limitConn]struct{}{}}
	capped.cond = sync.NewCond(&capped.mu)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ConnState:         capped.connState,
	}
	return srv, capped
}

// limitListener accepts at most max connections open at once. The server reports each
// connection's state (ConnState), so at the cap the connection idle longest is closed to
// make room: an idle client cannot hold the port against the kubelet's probes.
type limitListener struct {
	net.Listener
	max int
	// grace is how long a new connection may stay silent before it can be closed.
	grace time.Duration

	mu     sync.Mutex
	cond   *sync.Cond // signalled when a connection closes or turns idle, or the listener closes
	open   map[*limitConn]struct{}
	closed bool
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
	// idleSince is when the connection last turned idle (new, or between requests);
	// zero while a request is in flight. Guarded by l.mu.
	idleSince time.Time
	// evictable: the connection is between requests, or has not sent its first one.
	evictable bool
	// isNew: it has not sent its first request yet.
	isNew bool
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	for len(l.open) >= l.max && !l.closed {
		victim, retry := l.idlest(time.Now())
		if victim != nil {
			victim.evictable = false // chosen once; its Close releases the slot
			l.mu.Unlock()
			_ = victim.Close()
			l.mu.Lock()
			continue
		}
		if retry > 0 {
			// A new connection becomes evictable once its grace is over.
			t := time.AfterFunc(retry, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
			l.cond.Wait()
			t.Stop()
			continue
		}
		l.cond.Wait()
	}
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l, idleSince: time.Now(), evictable: true, isNew: true}
	l.mu.Lock()
	l.open[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// idlest is the connection to close to make room: the one idle longest between
// requests, else the oldest that has sent nothing for the grace (half the header
// timeout: a flood of new connections must not close a scraper's or the kubelet's
// before it had time to speak). Nil when none is;
// retry is then when a new connection's grace ends (0: every one has a request in
// flight).
func (l *limitListener) idlest(now time.Time) (victim *limitConn, retry time.Duration) {
	var idle, fresh *limitConn
	for c := range l.open {
		switch {
		case !c.evictable:
		case !c.isNew:
			if idle == nil || c.idleSince.Before(idle.idleSince) {
				idle = c
			}
		case fresh == nil || c.idleSince.Before(fresh.idleSince):
			fresh = c
		}
	}
	switch {
	case idle != nil:
		return idle, 0
	case fresh == nil:
		return nil, 0
	case now.Sub(fresh.idleSince) >= l.grace:
		return fresh, 0
	}
	return nil, l.grace - now.Sub(fresh.idleSince)
}

func (l *limitListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.Listener.Close()
}

// connState follows the server's view of each connection (http.Server.ConnState).
func (l *limitListener) connState(c net.Conn, state http.ConnState) {
	lc := unwrap(c)
	if lc == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateIdle:
		lc.idleSince, lc.evictable, lc.isNew = time.Now(), true, false
		l.cond.Broadcast()
	case http.StateActive, http.StateHijacked:
		lc.evictable, lc.isNew = false, false
	}
}

// unwrap finds the limitConn under a connection the server reports (TLS wraps it).
func unwrap(c net.Conn) *limitConn {
	for c != nil {
		if lc, ok := c.(*limitConn); ok {
			return lc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.cond.Broadcast()
		c.l.mu.Unlock()
	})
	return err
}
