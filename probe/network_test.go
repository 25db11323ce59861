package probe

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func target(addr string) NetworkTarget {
	return NetworkTarget{Namespace: "serving", Target: auditor.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: "serving", Name: "vllm"}, Address: addr, Port: 8000}
}

// accepting returns a loopback address whose listener accepts connections.
func accepting(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// closedPort returns a loopback address nothing listens on: connecting is refused.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// blackhole returns a loopback address that drops SYNs: a listener that never accepts,
// its accept backlog shrunk to zero (Linux lets listen(2) be called again for that) and
// filled, so the kernel drops further handshakes and a dial times out.
func blackhole(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("dropping SYNs through a full accept queue relies on Linux behaviour")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	raw, err := l.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var lerr error
	require.NoError(t, raw.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), 0) }))
	require.NoError(t, lerr)
	addr := l.Addr().String()
	d := net.Dialer{Timeout: 150 * time.Millisecond}
	for i := 0; i < 8; i++ {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			var ne net.Error
			require.True(t, errors.As(err, &ne) && ne.Timeout(), "filling the backlog: %v", err)
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel kept accepting handshakes into a zero backlog; cannot build a blackhole here")
	return ""
}

func TestProbeRealSockets(t *testing.T) {
	open, refused, dropped := accepting(t), closedPort(t), blackhole(t)
	p := NewNetworkProber(NetworkProberOptions{Timeout: 200 * time.Millisecond, Concurrency: 3, RatePerSecond: 1000, Now: func() time.Time { return fixedNow }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	got := p.Probe(ctx, []NetworkTarget{target(open), target(refused), target(dropped)})
	assert.Less(t, time.Since(start), 2*time.Second, "attempts run concurrently and are bounded by the timeout")
	require.Len(t, got, 3)
	want := []struct {
		addr      string
		outcome   string
		reachable bool
	}{{open, auditor.OutcomeConnected, true}, {refused, auditor.OutcomeRefused, false}, {dropped, auditor.OutcomeTimeout, false}}
	for i, w := range want {
		assert.Equal(t, w.addr, got[i].Address, "results keep target order")
		assert.Equal(t, w.outcome, got[i].Outcome, "target %d", i)
		assert.Equal(t, w.reachable, got[i].Reachable, "target %d", i)
		assert.Equal(t, fixedNow, got[i].At)
		assert.Equal(t, "serving", got[i].Namespace)
		assert.Equal(t, "vllm", got[i].Target.Name)
		assert.Equal(t, int32(8000), got[i].Port)
	}
}

// recordingDialer stands in for the network: it records addresses and the largest
// number of attempts in flight, and answers with err after delay.
type recordingDialer struct {
	delay    time.Duration
	err      error
	mu       sync.Mutex
	addrs    []string
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (d *recordingDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+address)
	d.mu.Unlock()
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for {
		m := d.maxSeen.Load()
		if n <= m || d.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(d.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if d.err != nil {
		return nil, d.err
	}
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, nil
}

func TestProbeConcurrencyAndRate(t *testing.T) {
	d := &recordingDialer{delay: 20 * time.Millisecond}
	p := NewNetworkProber(NetworkProberOptions{Timeout: time.Second, Concurrency: 2, RatePerSecond: 50, Dialer: d})
	targets := make([]NetworkTarget, 6)
	for i := range targets {
		targets[i] = target("127.0.0.1:" + itoa(int32(i+1)))
	}
	start := time.Now()
	got := p.Probe(context.Background(), targets)
	elapsed := time.Since(start)
	require.Len(t, got, 6)
	for _, r := range got {
		assert.True(t, r.Reachable)
	}
	assert.Len(t, d.addrs, 6)
	assert.True(t, strings.HasPrefix(d.addrs[0], "tcp "), "probes are TCP: %v", d.addrs)
	assert.LessOrEqual(t, d.maxSeen.Load(), int32(2), "never more attempts in flight than Concurrency")
	assert.GreaterOrEqual(t, elapsed, 90*time.Millisecond, "6 attempts at 50/s with burst 1 take at least 100ms")
}

func TestProbeOutcomeClassification(t *testing.T) {
	cases := map[string]struct {
		dialer  *recordingDialer
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
		want    string
	}{
		"refused":         {dialer: &recordingDialer{err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, want: auditor.OutcomeRefused},
		"attempt timeout": {dialer: &recordingDialer{delay: time.Second}, timeout: 50 * time.Millisecond, want: auditor.OutcomeTimeout},
		"other error":     {dialer: &recordingDialer{err: errors.New("no route to host")}, want: "error: no route to host"},
		"run cancelled before the attempt is an error, not a timeout": {
			dialer: &recordingDialer{},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			want: "error: probe run ended before this target",
		},
		"run cancelled during the attempt is an error": {
			dialer: &recordingDialer{delay: time.Second},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			timeout: time.Second,
			want:    "error: probe run ended",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 200 * time.Millisecond
			}
			p := NewNetworkProber(NetworkProberOptions{Timeout: timeout, RatePerSecond: 1000, Dialer: tc.dialer})
			got := p.Probe(ctx, []NetworkTarget{target("127.0.0.1:1")})
			require.Len(t, got, 1)
			assert.False(t, got[0].Reachable)
			assert.True(t, strings.HasPrefix(got[0].Outcome, tc.want), "outcome %q, want prefix %q", got[0].Outcome, tc.want)
			assert.False(t, got[0].At.IsZero())
		})
	}
}

func TestProbeNoTargets(t *testing.T) {
	assert.Empty(t, NewNetworkProber(NetworkProberOptions{}).Probe(context.Background(), nil))
}

func svc(namespace, name string, spec corev1.ServiceSpec) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: spec}
}

func TestNetworkTargets(t *testing.T) {
	tcpPorts := []corev1.ServicePort{{Name: "http", Port: 8000}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "grpc", Port: 9000, Protocol: corev1.ProtocolTCP}}
	cases := map[string]struct {
		svc  *corev1.Service
		want []string
	}{
		"every TCP port of a ClusterIP service": {
			svc:  svc("serving", "vllm", corev1.ServiceSpec{ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"}, Ports: tcpPorts}),
			want: []string{"serving/vllm 10.96.0.10:8000", "serving/vllm 10.96.0.10:9000"},
		},
		"dual stack tries both families": {
			svc:  svc("inference", "gw", corev1.ServiceSpec{ClusterIPs: []string{"10.96.0.11", "fd00::11"}, Ports: []corev1.ServicePort{{Port: 80}}}),
			want: []string{"inference/gw 10.96.0.11:80", "inference/gw [fd00::11]:80"},
		},
		"only clusterIP set (older objects)": {
			svc:  svc("serving", "old", corev1.ServiceSpec{ClusterIP: "10.96.0.12", Ports: []corev1.ServicePort{{Port: 80}}}),
			want: []string{"serving/old 10.96.0.12:80"},
		},
		"headless skipped":      {svc: svc("serving", "h", corev1.ServiceSpec{ClusterIP: "None", ClusterIPs: []string{"None"}, Ports: tcpPorts})},
		"external name skipped": {svc: svc("serving", "x", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "api.example.com", Ports: tcpPorts})},
		"unprotected namespace": {svc: svc("team-web", "web", corev1.ServiceSpec{ClusterIP: "10.96.0.13", Ports: tcpPorts})},
		"no cluster IP yet":     {svc: svc("serving", "pending", corev1.ServiceSpec{Ports: tcpPorts})},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, tg := range NetworkTargets([]*corev1.Service{tc.svc, nil}, []string{"serving", "inference"}) {
				assert.Equal(t, "Service", tg.Target.Kind)
				assert.True(t, strings.HasSuffix(tg.Address, ":"+itoa(tg.Port)))
				got = append(got, tg.Target.Namespace+"/"+tg.Target.Name+" "+tg.Address)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func itoa(p int32) string { return strconv.Itoa(int(p)) }

func TestHeadlessTargets(t *testing.T) {
	headless := svc("serving", "vllm-headless", corev1.ServiceSpec{ClusterIP: "None", Selector: map[string]string{"app": "vllm"}, Ports: []corev1.ServicePort{
		{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
		{Name: "metrics", Port: 9090},
		{Name: "grpc", Port: 9000, TargetPort: intstr.FromInt32(9001)},
		{Name: "missing", Port: 81, TargetPort: intstr.FromString("nope")},
	}})
	running := func(name, ip string, kv ...string) *corev1.Pod {
		l := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: name, Labels: l},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "vllm", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}}}}},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
		}
	}
	pending := running("vllm-2", "10.0.0.3", "app", "vllm")
	pending.Status.Phase = corev1.PodPending
	pods := []*corev1.Pod{running("vllm-0", "10.0.0.1", "app", "vllm"), running("other", "10.0.0.2", "app", "x"), pending, running("no-ip", "", "app", "vllm")}
	var got []string
	for _, tg := range HeadlessTargets([]*corev1.Service{headless}, pods, []string{"serving"}) {
		got = append(got, tg.Target.Kind+" "+tg.Target.Name+" "+tg.Address)
	}
	assert.Equal(t, []string{"Pod vllm-0 10.0.0.1:8000", "Pod vllm-0 10.0.0.1:9001", "Pod vllm-0 10.0.0.1:9090"}, got)
	assert.Empty(t, HeadlessTargets([]*corev1.Service{headless}, pods, []string{"inference"}))
}

func TestValidateProbeNamespace(t *testing.T) {
	cfg := auditor.DefaultConfig()
	cases := map[string]struct {
		own     string
		wantErr string
	}{
		"untrusted namespace":   {own: "enforcement-auditor"},
		"unknown namespace":     {own: "", wantErr: "own namespace is unknown"},
		"protected namespace":   {own: "serving", wantErr: "protected namespace"},
		"trusted namespace":     {own: "monitoring", wantErr: "trusted namespace"},
		"protected and trusted": {own: "inference", wantErr: "protected namespace"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateProbeNamespace(tc.own, cfg)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}
