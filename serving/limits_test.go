package serving

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	certutil "k8s.io/client-go/util/cert"
)

// countingListener counts the connections the kernel handed over and that are still open:
// what the server holds, whatever it does with them.
type countingListener struct {
	net.Listener
	open, peak atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	n := l.open.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, 0 where /proc is absent.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	return 0
}

// heapPeak samples the live heap (runtime/metrics, no stop-the-world) until stop is
// closed, and returns the highest value seen.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestServerLimits attacks the server as an unauthenticated client could: 300 idle
// keep-alive connections and 100 concurrent headers of about 1 MiB, against a cap of 64
// connections. The large headers are refused (431) at once, idle connections are closed
// within the idle timeout, the server never holds more than the cap, /healthz keeps
// answering, and the process's peak heap and peak RSS grow by less than maxGrowth.
func TestServerLimits(t *testing.T) {
	const (
		idle, large = 300, 100
		maxConns    = 64
		idleTimeout = time.Second
		// maxGrowth bounds the peak RSS growth of the whole test process (server and
		// clients): without MaxHeaderBytes the 100 headers alone take 100 MiB.
		maxGrowth = 48 << 20
		deadline  = 20 * time.Second
	)
	base, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	counted := &countingListener{Listener: base}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv, ln := NewServer(counted, mux, Limits{ReadHeaderTimeout: 4 * time.Second, IdleTimeout: idleTimeout, MaxConnections: maxConns})
	assert.Equal(t, DefaultMaxHeaderBytes, srv.MaxHeaderBytes, "the default header limit")
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := base.Addr().String()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := peakRSS(t)
	stopSampling := make(chan struct{})
	peakHeap := heapPeak(stopSampling)
	// One header of about 1 MiB, shared by every sender.
	var hdr bytes.Buffer
	hdr.WriteString("GET /healthz HTTP/1.1\r\nHost: auditor\r\n")
	for hdr.Len() < 1000<<10 {
		hdr.WriteString("X-Padding: " + strings.Repeat("a", 8<<10) + "\r\n")
	}
	hdr.WriteString("\r\n")

	var wg sync.WaitGroup
	// Idle clients: one request, then keep the connection open until the server closes it.
	idleErrs := make(chan error, idle)
	var idleClosedLate atomic.Int32
	for range idle {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, deadline)
			if err != nil {
				idleErrs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(deadline))
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: auditor\r\n\r\n"); err != nil {
				return // closed unserved, to make room: an idle client's fate
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				return // closed before its turn, to make room
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			served := time.Now()
			// Idle: the server must close it, within the idle timeout (and some slack).
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) && !isReset(err) {
				idleErrs <- err
				return
			}
			if time.Since(served) > idleTimeout+3*time.Second {
				idleClosedLate.Add(1)
			}
		}()
	}
	// Large headers: 431 within a bound, whatever the idle clients hold.
	statuses := make(chan int, large)
	for range large {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, deadline)
			if err != nil {
				statuses <- -1
				return
			}
			defer c.Close()
			start := time.Now()
			_ = c.SetDeadline(start.Add(5 * time.Second))
			go func() { _, _ = c.Write(hdr.Bytes()) }()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Logf("after %v: %v", time.Since(start), err)
				statuses <- -2
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	// /healthz keeps answering during the attack.
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 5 {
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/healthz")
		require.NoError(t, err, "/healthz during the attack")
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Less(t, time.Since(start), 5*time.Second)
	}
	wg.Wait()
	close(stopSampling)
	heapGrowth := int64(<-peakHeap) - int64(before.HeapAlloc)
	close(idleErrs)
	close(statuses)
	rssAfter := peakRSS(t)

	for err := range idleErrs {
		assert.NoError(t, err, "an idle connection was not closed by the server")
	}
	assert.Zero(t, idleClosedLate.Load(), "idle connections closed later than the idle timeout")
	got := map[int]int{}
	for s := range statuses {
		got[s]++
	}
	assert.Equal(t, map[int]int{http.StatusRequestHeaderFieldsTooLarge: large}, got, "every large header refused with 431 within 5s")
	assert.LessOrEqual(t, counted.peak.Load(), int64(maxConns), "connections held at once")
	t.Logf("peak heap growth %d MiB, peak RSS %d MiB -> %d MiB (bound %d MiB each), peak connections %d",
		heapGrowth>>20, rssBefore>>20, rssAfter>>20, maxGrowth>>20, counted.peak.Load())
	assert.Less(t, heapGrowth, int64(maxGrowth), "peak heap growth")
	if rssBefore > 0 && !raceEnabled {
		assert.Less(t, rssAfter-rssBefore, int64(maxGrowth), "peak RSS growth")
	}
	// Once the clients are gone, every connection is released.
	require.Eventually(t, func() bool { return counted.open.Load() == 0 }, deadline, 10*time.Millisecond)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "use of closed"))
}

// TestLimitListenerEvictsIdlest: at the cap, a new connection takes the place of the
// one idle longest, so a client holding every slot cannot lock the kubelet out until the
// idle timeout.
func TestLimitListenerEvictsIdlest(t *testing.T) {
	base, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	srv, ln := NewServer(base, mux, Limits{IdleTimeout: time.Hour, ReadHeaderTimeout: 2 * time.Second, MaxConnections: 4})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := base.Addr().String()

	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		held = append(held, c)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/healthz")
	require.NoError(t, err, "a fifth client is served once the silent ones had their grace, not after the timeouts")
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_ = held[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = held[0].Read(make([]byte, 1))
	assert.True(t, errors.Is(err, io.EOF) || isReset(err), "the oldest idle connection was closed to make room: %v", err)
}

// TestLimitsOverHTTP2: the daemon serves HTTPS, where clients speak HTTP/2: headers over
// the limit are refused (431), and idle HTTP/2 connections are known idle, so at the cap
// a new client takes the place of one at once (the header timeout, and with it the grace
// of silent connections, is an hour here).
func TestLimitsOverHTTP2(t *testing.T) {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("localhost", nil, []string{"localhost"})
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	base, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) })
	srv, ln := NewServer(base, mux, Limits{ReadHeaderTimeout: time.Hour, IdleTimeout: time.Hour, MaxConnections: 2})
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	url := "https://" + base.Addr().String() + "/healthz"

	newClient := func() *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	}
	get := func(c *http.Client) (int, string) {
		resp, err := c.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	// Two clients hold the two slots with idle HTTP/2 connections.
	for range 2 {
		code, proto := get(newClient())
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "HTTP/2.0", proto)
	}
	start := time.Now()
	code, _ := get(newClient())
	assert.Equal(t, http.StatusOK, code)
	assert.Less(t, time.Since(start), 3*time.Second, "served at once, an idle connection closed to make room")

	// Headers over the limit, many fields or one: refused (431, or the connection ended
	// with GOAWAY), never served.
	for name, header := range map[string]http.Header{
		"16 fields of 4 KiB": func() http.Header {
			h := http.Header{}
			for i := range 16 {
				h.Set(fmt.Sprintf("X-Padding-%d", i), strings.Repeat("a", 4<<10))
			}
			return h
		}(),
		"one field of 64 KiB": {"X-Padding": {strings.Repeat("a", 64<<10)}},
	} {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		req.Header = header
		if resp, err := newClient().Do(req); err == nil {
			resp.Body.Close()
			assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, name)
		}
	}
	// The server lives on.
	code, _ = get(newClient())
	assert.Equal(t, http.StatusOK, code)
}
