package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/cmd/enforcement-auditor/app"
	"github.com/llm-platform/enforcement-auditor/probe"
)

// The SR1 network probe end to end, in two network namespaces this test creates: a
// listener standing in for a model server at a Service's cluster IP in "server", the
// daemon's probe dialing from "untrusted", joined by one veth pair. Nothing is routed
// outside the two namespaces: they hold only the addresses the test gives them, and the
// root namespace is never changed. The enforcing CNI is stood in for by a blackhole route
// in the server namespace for the prober's address: the model server's SYN-ACK is
// dropped, as a DROP rule would drop the SYN (iproute2 only: no iptables or nft needed).

const (
	probeNS          = "it-probe-serving" // the protected Kubernetes namespace
	probeService     = "model-server"
	probePort        = 8000
	probeUntrustedIP = "10.213.0.1" // veth end in the untrusted network namespace
	probeServerIP    = "10.213.0.2" // veth end in the server network namespace
)

// netnsPair is the two network namespaces of one test.
type netnsPair struct{ server, untrusted string }

// ipCmd runs `ip args...`, returning its combined output in the error.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// newNetnsPair creates the namespaces and the veth pair between them, or skips where
// network namespaces cannot be made (not root, no CAP_NET_ADMIN, no iproute2). On CI,
// which runs as root, it must work.
func newNetnsPair(t *testing.T) netnsPair {
	t.Helper()
	suffix := strconv.Itoa(os.Getpid())
	p := netnsPair{server: "ea-it-server-" + suffix, untrusted: "ea-it-untrusted-" + suffix}
	if err := ipCmd("netns", "add", p.server); err != nil {
		if os.Getenv("CI") != "" && os.Geteuid() == 0 {
			t.Fatalf("CI runs as root, so this test must run: %v", err)
		}
		t.Skipf("skipping the network probe test: cannot create network namespaces here (needs root or CAP_NET_ADMIN and iproute2): %v", err)
	}
	t.Cleanup(func() {
		if err := ipCmd("netns", "del", p.server); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	require.NoError(t, ipCmd("netns", "add", p.untrusted))
	t.Cleanup(func() {
		if err := ipCmd("netns", "del", p.untrusted); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	// The veth pair is created inside the untrusted namespace with its peer in the server
	// namespace: neither end ever exists in the root namespace.
	for _, args := range [][]string{
		{"-n", p.untrusted, "link", "add", "eau", "type", "veth", "peer", "name", "eas", "netns", p.server},
		{"-n", p.untrusted, "addr", "add", probeUntrustedIP + "/30", "dev", "eau"},
		{"-n", p.server, "addr", "add", probeServerIP + "/30", "dev", "eas"},
		{"-n", p.untrusted, "link", "set", "lo", "up"},
		{"-n", p.untrusted, "link", "set", "eau", "up"},
		{"-n", p.server, "link", "set", "lo", "up"},
		{"-n", p.server, "link", "set", "eas", "up"},
	} {
		require.NoError(t, ipCmd(args...))
	}
	return p
}

// inNetns runs f on an OS thread switched into the named network namespace; sockets
// created by f stay in that namespace. The thread switches back afterwards; if it
// cannot, it is left locked and dies with its goroutine, never reused.
func inNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			errc <- err
			return
		}
		defer own.Close()
		target, err := os.Open("/run/netns/" + name)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return // the thread stays locked and exits with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// netnsDialer dials from inside a network namespace: the daemon's probe, as if it ran in
// a pod of an untrusted namespace.
type netnsDialer struct{ netns string }

func (d netnsDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var conn net.Conn
	err := inNetns(d.netns, func() error {
		var err error
		conn, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return conn, err
}

func TestNetworkProbeInNetworkNamespaces(t *testing.T) {
	ns := newNetnsPair(t)
	ctx := context.Background()

	// The protected namespace and the model server's Service; the API server assigns the
	// cluster IP, which the server network namespace then holds.
	createNamespace(t, probeNS, nil)
	t.Cleanup(func() { deleteNamespaceNow(t, probeNS) })
	svc, err := client.CoreV1().Services(probeNS).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: probeService},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app.kubernetes.io/component": "model-server"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: probePort}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.CoreV1().Services(probeNS).Delete(ctx, probeService, metav1.DeleteOptions{}) })
	clusterIP := svc.Spec.ClusterIP
	require.NotNil(t, net.ParseIP(clusterIP).To4(), "an IPv4 cluster IP, got %q", clusterIP)
	require.NoError(t, ipCmd("-n", ns.server, "addr", "add", clusterIP+"/32", "dev", "lo"))
	require.NoError(t, ipCmd("-n", ns.untrusted, "route", "add", clusterIP+"/32", "via", probeServerIP))
	// The untrusted side can reach the server namespace and nothing else.
	routes, err := exec.Command("ip", "-n", ns.untrusted, "-4", "route", "show").Output()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"10.213.0.0/30", clusterIP}, routeDestinations(string(routes)), "routes of %s:\n%s", ns.untrusted, routes)

	// The model server: a TCP listener at the cluster IP, inside the server namespace.
	var ln net.Listener
	require.NoError(t, inNetns(ns.server, func() error {
		var err error
		ln, err = net.Listen("tcp", net.JoinHostPort(clusterIP, strconv.Itoa(probePort)))
		return err
	}))
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()

	// The daemon in-process, its network probe dialing from the untrusted namespace.
	cfg := auditor.DefaultConfig()
	cfg.SR1.ProtectedNamespaces = []string{probeNS}
	metricsLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	runCtx, stop := context.WithCancel(ctx)
	var runErr error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		runErr = app.Run(runCtx, app.Options{
			Config: cfg, RESTConfig: restConfig, Logger: logger, Listener: metricsLn,
			Debounce: 100 * time.Millisecond, MaxDelay: time.Second, DiscoveryInterval: time.Second,
			Resync: time.Minute, ShutdownTimeout: 10 * time.Second, InsecureServing: true,
			Probes: []probe.Prober{&probe.NetworkProbe{
				Prober: probe.NewNetworkProber(probe.NetworkProberOptions{Timeout: time.Second, Dialer: netnsDialer{netns: ns.untrusted}}),
				Config: cfg, Logger: logger,
			}},
			ProbeInterval: time.Second,
		})
	}()
	t.Cleanup(func() {
		stop()
		<-finished
		require.NoError(t, runErr)
		if t.Failed() {
			t.Logf("daemon logs:\n%s", logs.String())
		}
	})
	metrics := func() string {
		select {
		case <-finished:
			t.Fatalf("the daemon stopped: %v", runErr)
		default:
		}
		c := http.Client{Timeout: 2 * time.Second}
		resp, err := c.Get("http://" + metricsLn.Addr().String() + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor := func(what string, patterns ...string) {
		t.Helper()
		var last string
		ok := assertEventually(30*time.Second, func() bool {
			last = metrics()
			for _, p := range patterns {
				if !regexp.MustCompile(p).MatchString(last) {
					return false
				}
			}
			return true
		})
		require.True(t, ok, "%s: want %q; metrics:\n%s", what, patterns, grepLines(last, "enforcement_auditor_"))
	}
	open := findingSeries("serving-reachable-from-untrusted", probeNS, "Service", probeService)
	targets := func(outcome string, n int) string {
		return fmt.Sprintf(`enforcement_auditor_network_probe_targets\{namespace="%s",outcome="%s"\} %d\n`, probeNS, outcome, n)
	}

	// No policy, no enforcement: the probe completes a handshake from the untrusted side.
	waitFor("the model server is reachable from the untrusted namespace", open, targets("connected", 1))

	// The enforcing CNI's DROP: the server namespace discards what it would send to the
	// prober, so the handshake never completes and the probe times out.
	require.NoError(t, ipCmd("-n", ns.server, "route", "add", "blackhole", probeUntrustedIP+"/32"))
	waitFor("the DROP resolves the finding", targets("timeout", 1), targets("connected", 0))
	require.NotRegexp(t, open, metrics())
}

// routeDestinations lists the destinations of `ip route show` output.
func routeDestinations(out string) []string {
	var dsts []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			dsts = append(dsts, f[0])
		}
	}
	return dsts
}

// lockedBuffer collects the in-process daemon's logs for a failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
