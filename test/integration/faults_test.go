package integration

// Fault-injection tests: the apiserver going away and coming back, broken watches,
// missing RBAC, CRDs coming and going, surprising objects, an unwritable evidence
// directory, and SIGTERM in the middle of a burst of findings.

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

const faultsMissingQueue = "gpu-pod-missing-queue-name"

var faultsManaged = map[string]string{"llm-platform/kueue-managed": "true"}

// ---------------------------------------------------------------------------------------
// Helpers (prefixed "faults" to keep clear of the other files of the package).

// faultsAuditorOpts start the auditor binary with more control than startAuditor.
type faultsAuditorOpts struct {
	kubeconfig string   // default: the shared admin kubeconfig
	env        []string // added to the test's environment (OTEL_* from it are dropped)
	shell      string   // when set, run through `sh -c "<shell>; exec binary args"`
	args       []string
}

func faultsStartAuditor(t testing.TB, o faultsAuditorOpts) *auditorProcess {
	t.Helper()
	if o.kubeconfig == "" {
		o.kubeconfig = kubeconfig
	}
	p := &auditorProcess{addr: freeAddr(t), scheme: "http", done: make(chan error, 1)}
	args := append([]string{"run", "--kubeconfig", o.kubeconfig, "--listen-address", p.addr,
		"--discovery-interval", "1s", "--debounce", "100ms", "--max-delay", "1s", "--insecure-serving"}, o.args...)
	if o.shell != "" {
		p.cmd = exec.Command("sh", append([]string{"-c", o.shell + `; exec "$0" "$@"`, binary}, args...)...)
	} else {
		p.cmd = exec.Command(binary, args...)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	p.cmd.Env = append(env, o.env...)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.Write(sc.Bytes())
			p.logs.WriteByte('\n')
			p.mu.Unlock()
		}
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("auditor logs:\n%s", faultsTail(p.Logs(), 200))
		}
	})
	require.Eventually(t, func() bool {
		code, _ := p.get("/readyz")
		return code == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "auditor never became ready")
	return p
}

func faultsTail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines skipped)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// faultsFindingLines returns the enforcement_auditor_finding lines about objects of a namespace.
func faultsFindingLines(metrics, ns string) []string {
	var out []string
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "enforcement_auditor_finding{") && strings.Contains(l, `namespace="`+ns+`"`) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// faultsExactly reports whether the namespace's finding lines are exactly the wanted
// series: each wanted regexp matches one line and no line is left over.
func faultsExactly(metrics, ns string, want ...string) bool {
	lines := faultsFindingLines(metrics, ns)
	if len(lines) != len(want) {
		return false
	}
	for _, w := range want {
		re := regexp.MustCompile(w)
		n := 0
		for _, l := range lines {
			if re.MatchString(l) {
				n++
			}
		}
		if n != 1 {
			return false
		}
	}
	return true
}

// faultsWaitExactly polls until the namespace's findings are exactly want.
func faultsWaitExactly(t testing.TB, a *auditorProcess, d time.Duration, ns string, want ...string) {
	t.Helper()
	var last string
	if !assertEventually(d, func() bool {
		last = a.metrics(t)
		return faultsExactly(last, ns, want...)
	}) {
		t.Fatalf("findings of namespace %s are not exactly %q within %s; they are:\n%s",
			ns, want, d, strings.Join(faultsFindingLines(last, ns), "\n"))
	}
}

func faultsPodSeries(ns, name string) string {
	return findingSeries(faultsMissingQueue, ns, "Pod", name)
}

func faultsCreateNamespace(t testing.TB, c kubernetes.Interface, name string, labels map[string]string) {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
	// Namespaces are never finalized here; their pods and config maps can be removed.
	t.Cleanup(func() { faultsEmptyNamespace(c, name) })
}

func faultsEmptyNamespace(c kubernetes.Interface, ns string) {
	ctx := context.Background()
	zero := int64(0)
	_ = c.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	_ = c.CoreV1().ConfigMaps(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
}

func faultsCreatePod(t testing.TB, c kubernetes.Interface, ns, name string, labels map[string]string) {
	t.Helper()
	_, err := c.CoreV1().Pods(ns).Create(context.Background(), gpuPod(ns, name, labels), metav1.CreateOptions{})
	require.NoError(t, err)
}

func faultsDeletePod(t testing.TB, c kubernetes.Interface, ns, name string) {
	t.Helper()
	zero := int64(0)
	require.NoError(t, c.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
}

// faultsWaitReady polls /readyz for the wanted status code.
func faultsWaitReady(t testing.TB, a *auditorProcess, d time.Duration, want int) {
	t.Helper()
	var code int
	var body string
	if !assertEventually(d, func() bool {
		code, body = a.get("/readyz")
		return code == want
	}) {
		t.Fatalf("/readyz is %d (%s), want %d within %s", code, strings.TrimSpace(body), want, d)
	}
}

// faultsHold requires cond to hold on every poll for d (an observation window, e.g.
// "nothing changes while the apiserver is down").
func faultsHold(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, detail := cond(); !ok {
			t.Fatalf("%s: %s", what, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// faultsWriteKubeconfig writes the shared admin kubeconfig with its server replaced.
func faultsWriteKubeconfig(t testing.TB, server string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	require.NoError(t, err)
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// faultsLogLines returns the auditor's JSON log records whose msg is msg.
func faultsLogLines(logs, msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(logs, "\n") {
		if !strings.Contains(l, `"msg":"`+msg+`"`) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// faultsMemKiB reads VmRSS and VmHWM (peak RSS) of a process, in KiB.
func faultsMemKiB(t testing.TB, pid int) (rss, hwm int) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	require.NotZero(t, rss, "VmRSS not found in /proc/%d/status", pid)
	return rss, hwm
}

// faultsMetricValue returns the value of the first sample line matching the regexp.
func faultsMetricValue(metrics, pattern string) (float64, bool) {
	re := regexp.MustCompile(`^` + pattern + ` (\S+)$`)
	for _, l := range strings.Split(metrics, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// faultsEvalStats logs the evaluations since (count0, sum0) and returns the totals.
func faultsEvalStats(t testing.TB, a *auditorProcess, what string, count0, sum0 float64) [2]float64 {
	t.Helper()
	m := a.metrics(t)
	count, _ := faultsMetricValue(m, `enforcement_auditor_evaluation_duration_seconds_count`)
	sum, _ := faultsMetricValue(m, `enforcement_auditor_evaluation_duration_seconds_sum`)
	if n := count - count0; n > 0 {
		t.Logf("%s: %v evaluations, mean %.3fs", what, n, (sum-sum0)/n)
	}
	return [2]float64{count, sum}
}

// faultsProxy is a TCP proxy on 127.0.0.1 in front of the apiserver (TLS passes through:
// the serving certificate names 127.0.0.1, whatever the port). Cut closes every
// connection; until Restore new ones are either refused (the port is closed: a stopped
// apiserver, a partition answered with RST) or accepted and closed at once (a load
// balancer whose backend is gone: the client sees EOF or a reset mid-handshake).
type faultsProxy struct {
	addr   string
	target string

	mu      sync.Mutex
	ln      net.Listener // nil while refusing
	reset   bool         // accept and close at once
	conns   map[net.Conn]struct{}
	total   int // connections forwarded
	stopped bool
}

func faultsStartProxy(t testing.TB, target string) *faultsProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &faultsProxy{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve(ln)
	t.Cleanup(func() {
		p.Cut(true)
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
	})
	return p
}

func (p *faultsProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c, true) {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.total++
		p.mu.Unlock()
		go p.forward(c)
	}
}

// track adds (false when the proxy is cut) or removes a connection.
func (p *faultsProxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !add {
		delete(p.conns, c)
		return true
	}
	if p.reset || p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *faultsProxy) forward(c net.Conn) {
	defer func() { _ = c.Close(); p.track(c, false) }()
	b, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer func() { _ = b.Close(); p.track(b, false) }()
	if !p.track(b, true) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done
}

// Cut breaks every connection; until Restore new ones are refused (refuse) or
// accepted and closed at once.
func (p *faultsProxy) Cut(refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if refuse {
		if p.ln != nil {
			_ = p.ln.Close()
			p.ln = nil
		}
	} else {
		p.reset = true
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Restore forwards new connections again, on the same address.
func (p *faultsProxy) Restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reset = false
	if p.ln != nil || p.stopped {
		return
	}
	var ln net.Listener
	require.True(t, assertEventually(10*time.Second, func() bool {
		var err error
		ln, err = net.Listen("tcp", p.addr)
		return err == nil
	}), "cannot listen on %s again", p.addr)
	p.ln = ln
	go p.serve(ln)
}

// faultsCluster is a second control plane owned by one test, so that its apiserver can
// be stopped and restarted without disturbing the shared one.
type faultsCluster struct {
	env        *envtest.Environment
	client     kubernetes.Interface
	kubeconfig string
}

const faultsStopTimeout = 10 * time.Second

func faultsStartCluster(t testing.TB) *faultsCluster {
	t.Helper()
	// A fixed certificate directory survives APIServer.Stop (a generated one is removed),
	// so the restarted apiserver keeps its serving certificate, client CA and port.
	certDir := t.TempDir()
	e := &envtest.Environment{
		ControlPlaneStartTimeout: 2 * time.Minute,
		// With a client's watches open, kube-apiserver's graceful shutdown takes about a
		// minute; after this it is killed (which is a fault worth surviving too).
		ControlPlaneStopTimeout: faultsStopTimeout,
		ControlPlane:            envtest.ControlPlane{APIServer: &envtest.APIServer{CertDir: certDir}},
	}
	cfg, err := e.Start()
	require.NoError(t, err, "starting a second kube-apiserver and etcd")
	t.Cleanup(func() { _ = e.Stop() })
	user, err := e.ControlPlane.AddUser(envtest.User{Name: "it-faults-admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, kc, 0o600))
	return &faultsCluster{env: e, client: kubernetes.NewForConfigOrDie(cfg), kubeconfig: path}
}

// ---------------------------------------------------------------------------------------
// 1. The apiserver stops and comes back mid-run.

// TestFaultsAPIServerRestart: with the apiserver stopped, the daemon keeps serving its
// last findings, marked stale (/readyz 503, stale 1), and nothing changes; after the
// apiserver restarts (same etcd, port and certificates) and the cluster changes, the
// daemon recovers without a restart to exactly the findings the cluster warrants.
func TestFaultsAPIServerRestart(t *testing.T) {
	const ns = "it-faults-restart"
	c := faultsStartCluster(t)
	a := faultsStartAuditor(t, faultsAuditorOpts{kubeconfig: c.kubeconfig})
	faultsCreateNamespace(t, c.client, ns, faultsManaged)
	faultsCreatePod(t, c.client, ns, "before", nil)
	faultsWaitExactly(t, a, 10*time.Second, ns, faultsPodSeries(ns, "before"))
	a.waitMetric(t, 5*time.Second, `(?m)^enforcement_auditor_stale 0$`)

	start := time.Now()
	if err := c.env.ControlPlane.APIServer.Stop(); err != nil {
		require.ErrorContains(t, err, "timeout waiting for process kube-apiserver to stop")
		t.Logf("apiserver did not finish its graceful shutdown within %s (SIGTERM); killed", faultsStopTimeout)
	}
	t.Logf("apiserver stopped in %s", time.Since(start).Round(time.Millisecond))
	stopped := time.Now()
	a.waitMetric(t, 10*time.Second, `(?m)^enforcement_auditor_stale 1$`)
	faultsWaitReady(t, a, 5*time.Second, http.StatusServiceUnavailable)
	t.Logf("stale after %s", time.Since(stopped).Round(time.Millisecond))

	// While it is down: the last findings stay, still stale, still alive, nothing changes.
	before := faultsFindingLines(a.metrics(t), ns)
	require.Len(t, before, 1)
	require.Regexp(t, faultsPodSeries(ns, "before"), before[0])
	faultsHold(t, 4*time.Second, "while the apiserver is down", func() (bool, string) {
		m := a.metrics(t)
		if got := faultsFindingLines(m, ns); strings.Join(got, "\n") != strings.Join(before, "\n") {
			return false, fmt.Sprintf("findings changed:\n%s\nwas:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
		}
		if !regexp.MustCompile(`(?m)^enforcement_auditor_stale 1$`).MatchString(m) {
			return false, "stale went back to 0"
		}
		if code, _ := a.get("/readyz"); code != http.StatusServiceUnavailable {
			return false, fmt.Sprintf("/readyz %d", code)
		}
		if code, _ := a.get("/healthz"); code != http.StatusOK {
			return false, fmt.Sprintf("/healthz %d: an apiserver outage must not fail liveness", code)
		}
		return true, ""
	})
	require.Regexp(t, `(?m)^enforcement_auditor_control_status\{control="SR2",state="unknown"\} 1$`, a.metrics(t),
		"a stale daemon must not claim a control enforced or violated")
	require.Contains(t, a.Logs(), "apiserver unreachable; serving the last known findings as stale")

	start = time.Now()
	require.NoError(t, c.env.ControlPlane.APIServer.Start(), "restarting the apiserver on the same port and etcd")
	t.Logf("apiserver restarted in %s", time.Since(start).Round(time.Millisecond))
	restarted := time.Now()
	faultsDeletePod(t, c.client, ns, "before")
	faultsCreatePod(t, c.client, ns, "after", nil)

	var staleCleared, findingsRight time.Time
	require.True(t, assertEventually(90*time.Second, func() bool {
		m := a.metrics(t)
		if staleCleared.IsZero() && regexp.MustCompile(`(?m)^enforcement_auditor_stale 0$`).MatchString(m) {
			staleCleared = time.Now()
		}
		if findingsRight.IsZero() && faultsExactly(m, ns, faultsPodSeries(ns, "after")) {
			findingsRight = time.Now()
		}
		return !staleCleared.IsZero() && !findingsRight.IsZero()
	}), "the daemon did not recover within 90s of the restart; findings:\n%s", strings.Join(faultsFindingLines(a.metrics(t), ns), "\n"))
	faultsWaitReady(t, a, 5*time.Second, http.StatusOK)
	a.waitMetric(t, 5*time.Second, `(?m)^enforcement_auditor_control_status\{control="SR2",state="violated"\} 1$`)
	t.Logf("after restart: stale 0 after %s, findings right after %s",
		staleCleared.Sub(restarted).Round(time.Millisecond), findingsRight.Sub(restarted).Round(time.Millisecond))
	if findingsRight.After(staleCleared) {
		t.Logf("NOTE: for %s the daemon reported fresh (stale 0, /readyz 200) findings that were outdated",
			findingsRight.Sub(staleCleared).Round(time.Millisecond))
	}
	require.Contains(t, a.Logs(), "apiserver reachable again")
	a.stop(t, 20*time.Second)
}

// ---------------------------------------------------------------------------------------
// 2. Watches break and informers relist.

// TestFaultsWatchBreakRelist: every connection of the auditor to the apiserver is cut
// (watches break, new requests fail) while the cluster changes behind its back; after
// the connections are restored the informers relist or resume their watches and the
// findings are exactly what the cluster warrants: none lost, none left behind, none for
// a pod that came and went during the cut. Two faults: connections refused, and
// connections accepted then reset (a load balancer without a backend).
func TestFaultsWatchBreakRelist(t *testing.T) {
	u, err := url.Parse(restConfig.Host)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		refuse bool
		// staleWithin bounds how long the daemon takes to notice; see the report for why
		// resets take longer (client-go retries a failing GET 10 times, a second apart).
		staleWithin time.Duration
	}{
		"refused": {refuse: true, staleWithin: 10 * time.Second},
		"reset":   {refuse: false, staleWithin: 40 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			ns := "it-faults-watch-" + name
			proxy := faultsStartProxy(t, u.Host)
			a := faultsStartAuditor(t, faultsAuditorOpts{kubeconfig: faultsWriteKubeconfig(t, "https://"+proxy.addr)})
			faultsCreateNamespace(t, client, ns, faultsManaged)
			for _, name := range []string{"kept", "deleted-during-cut", "fixed-during-cut"} {
				faultsCreatePod(t, client, ns, name, nil)
			}
			before := []string{faultsPodSeries(ns, "kept"), faultsPodSeries(ns, "deleted-during-cut"), faultsPodSeries(ns, "fixed-during-cut")}
			faultsWaitExactly(t, a, 10*time.Second, ns, before...)

			proxy.Cut(tc.refuse)
			cut := time.Now()
			// Behind the auditor's back (the test's own client talks to the apiserver directly).
			ctx := context.Background()
			faultsDeletePod(t, client, ns, "deleted-during-cut")
			_, err = client.CoreV1().Pods(ns).Patch(ctx, "fixed-during-cut", types.MergePatchType,
				[]byte(`{"metadata":{"labels":{"kueue.x-k8s.io/queue-name":"research"}}}`), metav1.PatchOptions{})
			require.NoError(t, err)
			faultsCreatePod(t, client, ns, "created-during-cut", nil)
			faultsCreatePod(t, client, ns, "phantom", nil)
			faultsDeletePod(t, client, ns, "phantom")

			a.waitMetric(t, tc.staleWithin, `(?m)^enforcement_auditor_stale 1$`)
			t.Logf("stale %s after the cut", time.Since(cut).Round(time.Millisecond))
			faultsWaitReady(t, a, 5*time.Second, http.StatusServiceUnavailable)
			// While cut: the last known findings stay, marked stale.
			faultsHold(t, 2*time.Second, "during the cut", func() (bool, string) {
				m := a.metrics(t)
				if !regexp.MustCompile(`(?m)^enforcement_auditor_stale 1$`).MatchString(m) {
					return false, "stale went back to 0"
				}
				return faultsExactly(m, ns, before...), "findings changed:\n" + strings.Join(faultsFindingLines(m, ns), "\n")
			})

			proxy.Restore(t)
			restored := time.Now()
			t.Logf("connections cut for %s", restored.Sub(cut).Round(time.Millisecond))
			after := []string{faultsPodSeries(ns, "kept"), faultsPodSeries(ns, "created-during-cut")}
			faultsWaitExactly(t, a, 60*time.Second, ns, after...)
			t.Logf("findings right %s after the restore", time.Since(restored).Round(time.Millisecond))
			a.waitMetric(t, 10*time.Second, `(?m)^enforcement_auditor_stale 0$`)
			faultsWaitReady(t, a, 10*time.Second, http.StatusOK)
			a.waitMetric(t, 30*time.Second, `(?m)^enforcement_auditor_resource_sync_state\{resource="pods",state="synced"\} 1$`)
			// Every resource that failed during the cut recovers (no restart needed).
			a.waitNoMetric(t, 30*time.Second, `(?m)^enforcement_auditor_resource_sync_state\{[^}]*state="(failing|pending)"\} 1$`)
			// And it stays so (no late phantom from a replayed event).
			faultsHold(t, 2*time.Second, "after the restore", func() (bool, string) {
				m := a.metrics(t)
				return faultsExactly(m, ns, after...), strings.Join(faultsFindingLines(m, ns), "\n")
			})
			for _, l := range faultsLogLines(a.Logs(), "finding opened") {
				require.NotEqual(t, "Pod/"+ns+"/phantom", l["object"], "a pod that came and went during the cut was reported")
			}
			errs := grepLines(a.metrics(t), "enforcement_auditor_list_watch_errors_total{")
			t.Logf("%d proxied connections; list/watch errors:\n%s", proxy.total, errs)
			a.stop(t, 20*time.Second)
		})
	}
}

// ---------------------------------------------------------------------------------------
// 3. A resource the auditor may not read.

// faultsAuditorRole grants get/list/watch on every resource the auditor reads, except
// those left out, plus discovery.
func faultsAuditorRole(name string, except ...string) *rbacv1.ClusterRole {
	skip := map[string]bool{}
	for _, e := range except {
		skip[e] = true
	}
	byGroup := map[string][]string{}
	var groups []string
	for _, list := range [][]auditor.ResourceInfo{auditor.KnownResources, auditor.OwnerResources} {
		for _, r := range list {
			if skip[r.ID] {
				continue
			}
			if _, ok := byGroup[r.Group]; !ok {
				groups = append(groups, r.Group)
			}
			byGroup[r.Group] = append(byGroup[r.Group], r.Resource)
		}
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, g := range groups {
		role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: byGroup[g], Verbs: []string{"get", "list", "watch"}})
	}
	role.Rules = append(role.Rules, rbacv1.PolicyRule{
		NonResourceURLs: []string{"/api", "/api/*", "/apis", "/apis/*", "/version", "/openapi", "/openapi/*"}, Verbs: []string{"get"}})
	return role
}

// TestFaultsRBACForbidden: an auditor that may read everything but ConfigMaps is ready,
// reports configmaps forbidden (and nothing else), SR3 unknown, and SR2 still works.
func TestFaultsRBACForbidden(t *testing.T) {
	const ns, name = "it-faults-rbac", "it-faults-rbac-auditor"
	ctx := context.Background()
	user, err := env.ControlPlane.AddUser(envtest.User{Name: name}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, kc, 0o600))

	_, err = client.RbacV1().ClusterRoles().Create(ctx, faultsAuditorRole(name, auditor.ResourceConfigMaps), metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: name}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
	})

	start := time.Now()
	a := faultsStartAuditor(t, faultsAuditorOpts{kubeconfig: kcPath}) // waits for /readyz 200
	t.Logf("ready %s after start with configmaps forbidden", time.Since(start).Round(time.Millisecond))
	a.waitMetric(t, 10*time.Second, `(?m)^enforcement_auditor_resource_sync_state\{resource="configmaps",state="forbidden"\} 1$`)
	m := a.metrics(t)
	// Exactly configmaps is forbidden: the role is complete otherwise, so the test
	// isolates the one missing permission.
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, "enforcement_auditor_resource_sync_state{") && strings.Contains(l, `state="forbidden"} 1`) {
			require.Contains(t, l, `resource="configmaps"`, "only configmaps should be forbidden")
		}
	}
	require.Regexp(t, `(?m)^enforcement_auditor_resource_sync_state\{resource="pods",state="synced"\} 1$`, m)
	a.waitMetric(t, 5*time.Second, `(?m)^enforcement_auditor_control_status\{control="SR3",state="unknown"\} 1$`)
	// The rules reading config maps say why they cannot judge.
	a.waitMetric(t, 5*time.Second, `(?m)^enforcement_auditor_rule_inconclusive\{control="SR3",rule="budget-fail-open-in-prod"\} 1$`)

	faultsCreateNamespace(t, client, ns, faultsManaged)
	faultsCreatePod(t, client, ns, "unlabelled", nil)
	faultsWaitExactly(t, a, 10*time.Second, ns, faultsPodSeries(ns, "unlabelled"))
	code, _ := a.get("/readyz")
	require.Equal(t, http.StatusOK, code, "a forbidden resource must not block readiness")
	require.Regexp(t, `(?m)^enforcement_auditor_stale 0$`, a.metrics(t))
	a.stop(t, 20*time.Second)
}

// ---------------------------------------------------------------------------------------
// 4. A CRD installed after start, then removed.

// TestFaultsCRDInstalledThenRemoved: the Workload CRD appears while the daemon runs: its
// informer starts, syncs and feeds the rules (a queued GPU pod without a Workload becomes
// a gpu-pod-not-admitted finding); the CRD goes: the informer stops, the resource is
// not_served and the finding resolves. No restart.
func TestFaultsCRDInstalledThenRemoved(t *testing.T) {
	const ns, res = "it-faults-crd", "workloads.kueue.x-k8s.io"
	// A short debounce evaluates right after the informer starts, before its first LIST
	// returns: the sync itself must then lead to another evaluation.
	a := faultsStartAuditor(t, faultsAuditorOpts{args: []string{"--debounce", "1ms", "--max-delay", "10ms"}})
	state := func(st string) string {
		return fmt.Sprintf(`(?m)^enforcement_auditor_resource_sync_state\{resource="%s",state="%s"\} 1$`, regexp.QuoteMeta(res), st)
	}
	if !regexp.MustCompile(state("not_served")).MatchString(a.metrics(t)) {
		t.Fatalf("%s is served before the test installs it: another test left the Kueue CRDs installed", res)
	}
	faultsCreateNamespace(t, client, ns, faultsManaged)
	faultsCreatePod(t, client, ns, "queued", map[string]string{"kueue.x-k8s.io/queue-name": "research"})
	notAdmitted := findingSeries("gpu-pod-not-admitted", ns, "Pod", "queued")
	// Without Workloads the queue label is all there is: no finding, the rule is inconclusive.
	faultsHold(t, 1500*time.Millisecond, "before the CRD", func() (bool, string) {
		m := a.metrics(t)
		return len(faultsFindingLines(m, ns)) == 0, strings.Join(faultsFindingLines(m, ns), "\n")
	})

	pid := a.cmd.Process.Pid
	crds := installCRDs(t, kueueModule, "config/components/crd/bases/kueue.x-k8s.io_workloads.yaml")
	installed := true
	t.Cleanup(func() {
		if installed {
			uninstallCRDs(t, crds)
		}
	})
	start := time.Now()
	a.waitMetric(t, 10*time.Second, state("synced"))
	t.Logf("workloads synced %s after the CRD was served", time.Since(start).Round(time.Millisecond))
	// Nothing else changes: the informer's sync alone must lead to a re-evaluation.
	if !assertEventually(10*time.Second, func() bool { return faultsExactly(a.metrics(t), ns, notAdmitted) }) {
		t.Errorf("workloads.kueue.x-k8s.io synced (no Workload exists) but no evaluation followed: " +
			"gpu-pod-not-admitted stays inconclusive until an unrelated change or the periodic resync " +
			"(the source must wake the engine when a new informer syncs: an empty list brings no event)")
		// Nudge with an unrelated change so the rest of the scenario still runs.
		_, err := client.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "nudge"}}, metav1.CreateOptions{})
		require.NoError(t, err)
		faultsWaitExactly(t, a, 10*time.Second, ns, notAdmitted)
	}

	uninstallCRDs(t, crds)
	installed = false
	start = time.Now()
	a.waitMetric(t, 10*time.Second, state("not_served"))
	t.Logf("workloads not_served %s after the CRD was gone", time.Since(start).Round(time.Millisecond))
	faultsWaitExactly(t, a, 10*time.Second, ns)
	require.Equal(t, pid, a.cmd.Process.Pid)
	require.Nil(t, a.cmd.ProcessState, "the daemon must not restart")
	var started, stopped bool
	for _, l := range faultsLogLines(a.Logs(), "resource served; watching it") {
		started = started || l["resource"] == res
	}
	for _, l := range faultsLogLines(a.Logs(), "resource no longer served; stopping its informer") {
		stopped = stopped || l["resource"] == res
	}
	require.True(t, started, "no log of the workloads informer starting")
	require.True(t, stopped, "no log of the workloads informer stopping")
	code, _ := a.get("/readyz")
	require.Equal(t, http.StatusOK, code)
	a.stop(t, 20*time.Second)
}

// ---------------------------------------------------------------------------------------
// 5. Malformed or surprising objects.

// faultsKyvernoRule is one of many odd but schema-valid Kyverno rules: the fields under
// x-kubernetes-preserve-unknown-fields (pattern, anyPattern, deny.conditions,
// preconditions) hold strings, numbers, nulls and deep nesting where objects belong.
func faultsKyvernoRule(i int) map[string]any {
	validate := map[string]any{"message": "GPU pods need a queue name"}
	switch i % 6 {
	case 0:
		validate["pattern"] = "not an object"
	case 1:
		validate["anyPattern"] = float64(i)
	case 2:
		validate["deny"] = map[string]any{"conditions": "kueue.x-k8s.io/queue-name"}
	case 3:
		deep := any("nvidia.com/gpu")
		for d := 0; d < 40; d++ {
			deep = map[string]any{fmt.Sprintf("level%d", d): []any{deep, nil, true}}
		}
		validate["pattern"] = deep
	case 4:
		validate["anyPattern"] = []any{nil, "x", float64(1), []any{}}
	default:
		validate["pattern"] = map[string]any{"metadata": map[string]any{"labels": map[string]any{"kueue.x-k8s.io/queue-name": "?*"}}}
	}
	r := map[string]any{
		"name":     fmt.Sprintf("rule-%04d", i),
		"match":    map[string]any{"any": []any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}}}}},
		"validate": validate,
	}
	if i%7 == 0 {
		r["preconditions"] = float64(7)
	}
	return r
}

// TestFaultsMalformedObjects: invalid YAML in litellm-config, a ~900KiB config, a Kyverno
// ClusterPolicy with 2000 oddly shaped rules and a Workload whose status.conditions is a
// string (if the schema let it in): the daemon stays healthy with bounded memory and its
// findings name the objects.
func TestFaultsMalformedObjects(t *testing.T) {
	const ns = "it-faults-malformed"
	ctx := context.Background()
	kyvernoCRDs := installCRDs(t, kyvernoModule, "config/crds/kyverno/kyverno.io_clusterpolicies.yaml")
	t.Cleanup(func() { uninstallCRDs(t, kyvernoCRDs) })
	kueueCRDs := installCRDs(t, kueueModule, "config/components/crd/bases/kueue.x-k8s.io_workloads.yaml")
	t.Cleanup(func() { uninstallCRDs(t, kueueCRDs) })
	dyn := dynamic.NewForConfigOrDie(restConfig)

	a := faultsStartAuditor(t, faultsAuditorOpts{})
	pid := a.cmd.Process.Pid
	faultsCreateNamespace(t, client, ns, faultsManaged)

	// Invalid YAML in the chart's config map.
	_, err := client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "litellm-config"},
		Data:       map[string]string{"config.yaml": "model_list:\n  - model_name: gpt\n    litellm_params: {model: [unclosed\ngeneral_settings:\n  master_key: sk-do-not-print\n"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// ~900KiB of config: valid YAML for 900KiB, broken on its very last line, so the
	// finding (with its line number) proves the whole document was read.
	var big strings.Builder
	big.WriteString("model_list:\n")
	n := 0
	for big.Len() < 900<<10 {
		fmt.Fprintf(&big, "  - model_name: model-%06d\n    litellm_params: {model: openai/model-%06d, rpm: %d}\n", n, n, n)
		n++
	}
	lastLine := strings.Count(big.String(), "\n") + 1
	big.WriteString("general_settings: [unclosed\n")
	_, err = client.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "huge-litellm-config"},
		Data:       map[string]string{"config.yaml": big.String()},
	}, metav1.CreateOptions{})
	require.NoError(t, err, "a %d byte config map", big.Len())

	a.waitMetric(t, 15*time.Second, findingSeries("litellm-config-unparseable", ns, "ConfigMap", "huge-litellm-config"))
	evals := faultsEvalStats(t, a, "with the 900KiB config", 0, 0)

	// A ClusterPolicy under the gate's name with 2000 odd rules.
	rules := make([]any, 2000)
	for i := range rules {
		rules[i] = faultsKyvernoRule(i)
	}
	cpGVR := schema.GroupVersionResource{Group: "kyverno.io", Version: "v1", Resource: "clusterpolicies"}
	cp := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
		"metadata": map[string]any{"name": "require-kueue-queue-name"},
		"spec":     map[string]any{"validationFailureAction": "Enforce", "rules": rules},
	}}
	_, err = dyn.Resource(cpGVR).Create(ctx, cp, metav1.CreateOptions{})
	require.NoError(t, err, "the CRD schema should accept odd shapes under x-kubernetes-preserve-unknown-fields")
	t.Cleanup(func() {
		_ = dyn.Resource(cpGVR).Delete(context.Background(), "require-kueue-queue-name", metav1.DeleteOptions{})
	})

	// A Workload whose status.conditions is a string.
	wlGVR := schema.GroupVersionResource{Group: "kueue.x-k8s.io", Version: "v1beta2", Resource: "workloads"}
	wl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
		"metadata": map[string]any{"name": "odd", "namespace": ns},
		"spec": map[string]any{"queueName": "research", "podSets": []any{map[string]any{
			"name": "main", "count": int64(1),
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "registry.example/c:1"}}}},
		}}},
	}}
	created, err := dyn.Resource(wlGVR).Namespace(ns).Create(ctx, wl, metav1.CreateOptions{})
	require.NoError(t, err)
	created.Object["status"] = map[string]any{"conditions": "Admitted"}
	_, err = dyn.Resource(wlGVR).Namespace(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	oddWorkloadStored := err == nil
	if oddWorkloadStored {
		t.Log("the Workload schema accepted status.conditions as a string")
	} else {
		require.True(t, apierrors.IsInvalid(err), "want a schema rejection, got %v", err)
		t.Logf("the Workload schema rejects status.conditions as a string: %v", err)
	}

	// Findings name each object.
	a.waitMetric(t, 15*time.Second, findingSeries("litellm-config-unparseable", ns, "ConfigMap", "litellm-config"))
	a.waitMetric(t, 15*time.Second, findingSeries("litellm-config-unparseable", ns, "ConfigMap", "huge-litellm-config"))
	// One series per object; its value counts the findings (one per discriminator).
	a.waitMetric(t, 15*time.Second, strings.TrimSuffix(findingSeries("gpu-gate-policy-not-enforcing", "", "ClusterPolicy", "require-kueue-queue-name"), " 1")+` [1-9][0-9]*`)
	code, body := a.get("/evidence")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		Findings []struct {
			Rule    string `json:"rule"`
			Message string `json:"message"`
			Object  *struct {
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"object"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	var hugeMsg string
	for _, f := range doc.Findings {
		if f.Rule == "litellm-config-unparseable" && f.Object != nil && f.Object.Namespace == ns && f.Object.Name == "huge-litellm-config" {
			hugeMsg = f.Message
		}
	}
	// The line proves the whole document was read. (Beyond 256KiB the rule reports go-yaml's
	// line without refining it; for this input that is one line early: see the report.)
	lm := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(hugeMsg)
	require.NotNil(t, lm, "the finding should give the line: %q", hugeMsg)
	line, _ := strconv.Atoi(lm[1])
	require.InDelta(t, lastLine, line, 1, "the finding should point at the broken last line %d: %q", lastLine, hugeMsg)
	require.NotContains(t, body, "sk-do-not-print", "a config value leaked into evidence")

	if oddWorkloadStored {
		require.Contains(t, a.Logs()+body, "Workload "+ns+"/odd")
	}

	// The daemon keeps evaluating (a change still shows) and stays healthy and bounded.
	faultsCreatePod(t, client, ns, "late", nil)
	a.waitMetric(t, 15*time.Second, faultsPodSeries(ns, "late"))
	code, _ = a.get("/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Nil(t, a.cmd.ProcessState)
	faultsEvalStats(t, a, "with the 2000-rule ClusterPolicy too", evals[0], evals[1])
	rss, hwm := faultsMemKiB(t, pid)
	t.Logf("auditor memory: VmRSS %d MiB, VmHWM %d MiB", rss>>10, hwm>>10)
	require.Less(t, rss, 300<<10, "VmRSS %d KiB", rss)
	require.Less(t, hwm, 300<<10, "peak RSS (VmHWM) %d KiB", hwm)
	a.stop(t, 20*time.Second)
}

// ---------------------------------------------------------------------------------------
// 6. The evidence directory unwritable.

// TestFaultsEvidenceUnwritable: the evidence writer fails (for root too) and says so in
// enforcement_auditor_evidence_write_errors_total; nothing partial is left behind; the
// daemon stays ready.
func TestFaultsEvidenceUnwritable(t *testing.T) {
	check := func(t *testing.T, a *auditorProcess, wantErr string) {
		a.waitMetric(t, 15*time.Second, `(?m)^enforcement_auditor_evidence_write_errors_total [1-9][0-9]*$`)
		m := a.metrics(t)
		require.Regexp(t, `(?m)^enforcement_auditor_evidence_last_write_success_timestamp_seconds 0$`, m)
		logs := faultsLogLines(a.Logs(), "evidence not written")
		require.NotEmpty(t, logs)
		require.Contains(t, logs[0]["err"], wantErr, "the failure this case is about")
		code, _ := a.get("/readyz")
		require.Equal(t, http.StatusOK, code, "evidence failures must not fail readiness")
		a.stop(t, 20*time.Second)
	}

	// A path under a regular file: the daemon refuses it before anything starts, naming
	// the flag, instead of logging a failed write every cycle; nothing is created.
	t.Run("path inside a file", func(t *testing.T) {
		parent := t.TempDir()
		file := filepath.Join(parent, "not-a-directory")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
		cmd := exec.Command(binary, "run", "--kubeconfig", kubeconfig, "--listen-address", freeAddr(t), "--insecure-serving",
			"--evidence-dir", filepath.Join(file, "evidence"), "--evidence-interval", "1s")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "the daemon must refuse to start: %s", out)
		require.Equal(t, 2, exit.ExitCode(), "%s", out)
		require.Contains(t, string(out), "--evidence-dir: ")
		require.Contains(t, string(out), "not a directory")
		entries, err := os.ReadDir(parent)
		require.NoError(t, err)
		require.Len(t, entries, 1, "nothing but the file")
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		require.Equal(t, "x", string(b))
	})

	// A file size limit (RLIMIT_FSIZE binds root too): the temporary file is created and
	// the write fails half-way; the writer must remove what it wrote.
	t.Run("write fails half-way", func(t *testing.T) {
		dir := t.TempDir()
		a := faultsStartAuditor(t, faultsAuditorOpts{shell: "ulimit -f 1", // 512-byte blocks
			args: []string{"--evidence-dir", dir, "--evidence-interval", "1s"}})
		check(t, a, "file too large") // the temporary file existed and the write failed
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		require.Empty(t, names, "a partial evidence file was left behind")
	})
}

// ---------------------------------------------------------------------------------------
// 7. SIGTERM during an evaluation.

// faultsOTLPReceiver is a minimal OTLP/HTTP logs collector keeping event names and
// fingerprints.
type faultsOTLPReceiver struct {
	// delay holds every request: a slow collector keeps events queued in the daemon,
	// so only a flush on shutdown delivers them.
	delay  time.Duration
	mu     sync.Mutex
	events []faultsEvent
}

type faultsEvent struct{ name, fingerprint string }

func (rc *faultsOTLPReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(b, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	time.Sleep(rc.delay)
	rc.mu.Lock()
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				ev := faultsEvent{name: lr.GetEventName()}
				for _, kv := range lr.GetAttributes() {
					if kv.GetKey() == "enforcement_auditor.finding.fingerprint" {
						ev.fingerprint = kv.GetValue().GetStringValue()
					}
				}
				rc.events = append(rc.events, ev)
			}
		}
	}
	rc.mu.Unlock()
	resp, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (rc *faultsOTLPReceiver) got() []faultsEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]faultsEvent(nil), rc.events...)
}

// TestFaultsSIGTERMDuringEvaluation: 200 violating pods arrive and SIGTERM follows at
// once: the daemon exits 0 and every finding it logged as opened reached the OTLP
// receiver as an enforcement_auditor.finding.opened event (same fingerprints).
func TestFaultsSIGTERMDuringEvaluation(t *testing.T) {
	const ns, pods = "it-faults-sigterm", 200
	rc := &faultsOTLPReceiver{delay: 300 * time.Millisecond}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	a := faultsStartAuditor(t, faultsAuditorOpts{env: []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"}})
	faultsCreateNamespace(t, client, ns, faultsManaged)

	// Create the pods in the background and send SIGTERM the moment the first burst
	// finding is logged: the engine is then still logging the evaluation's transitions
	// (it logs after handing them to the sinks), later evaluations are pending and the
	// OTLP exports are in flight.
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(4) // a stream of pods over a second or two: several evaluations
	go func() {
		for i := range pods {
			g.Go(func() error {
				_, err := client.CoreV1().Pods(ns).Create(context.Background(), gpuPod(ns, fmt.Sprintf("burst-%03d", i), nil), metav1.CreateOptions{})
				return err
			})
		}
	}()
	burst := `"object":"Pod/` + ns + `/burst-`
	require.True(t, assertEventually(30*time.Second, func() bool { return strings.Contains(a.Logs(), burst) }),
		"no burst pod finding was ever logged")
	a.stop(t, 30*time.Second) // SIGTERM at once; requires exit status 0
	t.Logf("SIGTERM %s after the first create; exited cleanly", time.Since(start).Round(time.Millisecond))
	require.NoError(t, g.Wait())

	logged := map[string]int{}
	mine := 0
	for _, l := range faultsLogLines(a.Logs(), "finding opened") {
		fp, _ := l["fingerprint"].(string)
		require.NotEmpty(t, fp, "a finding opened log without fingerprint: %v", l)
		logged[fp]++
		if obj, _ := l["object"].(string); strings.HasPrefix(obj, "Pod/"+ns+"/burst-") {
			mine++
		}
	}
	received := map[string]int{}
	total := 0
	for _, e := range rc.got() {
		if e.name == "enforcement_auditor.finding.opened" {
			received[e.fingerprint]++
			total++
		}
	}
	t.Logf("findings opened: %d logged (%d about the burst), %d events received", len(logged), mine, total)
	require.Positive(t, mine)
	if mine == pods {
		t.Log("every burst pod was evaluated before exit; their events were still queued for the slow collector")
	}
	var missing, extra []string
	for fp, n := range logged {
		if received[fp] != n {
			missing = append(missing, fmt.Sprintf("%s (logged %d, received %d)", fp, n, received[fp]))
		}
	}
	for fp, n := range received {
		if logged[fp] == 0 {
			extra = append(extra, fmt.Sprintf("%s (received %d, never logged)", fp, n))
		}
	}
	require.Empty(t, missing, "every finding logged as opened must reach the collector exactly once")
	require.Empty(t, extra, "the collector received opened events the daemon never logged")
	require.Contains(t, a.Logs(), `"msg":"stopped"`)
	require.NotContains(t, a.Logs(), "flushing OpenTelemetry events")
}
