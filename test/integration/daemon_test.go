package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// auditorProcess is the real binary running `run` against the test apiserver.
type auditorProcess struct {
	cmd    *exec.Cmd
	addr   string
	scheme string // https with --insecure-serving=false
	mu     sync.Mutex
	logs   bytes.Buffer
	done   chan error
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startAuditor runs the daemon with fast discovery and waits until /readyz is 200.
func startAuditor(t testing.TB, extraArgs ...string) *auditorProcess {
	t.Helper()
	return startAuditorWithEnv(t, nil, extraArgs...)
}

// startAuditorWithEnv is startAuditor with extra environment variables (KEY=value).
func startAuditorWithEnv(t testing.TB, env []string, extraArgs ...string) *auditorProcess {
	t.Helper()
	p := &auditorProcess{addr: freeAddr(t), scheme: "http", done: make(chan error, 1)}
	// Plain HTTP unless the test asks for the default serving chain (serving_test.go):
	// the tests read /metrics without tokens.
	args := append([]string{"run", "--kubeconfig", kubeconfig, "--listen-address", p.addr,
		"--discovery-interval", "1s", "--debounce", "100ms", "--max-delay", "1s", "--insecure-serving"}, extraArgs...)
	for _, a := range extraArgs {
		if a == "--insecure-serving=false" {
			p.scheme = "https"
		}
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
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
			t.Logf("auditor logs:\n%s", p.Logs())
		}
	})
	require.Eventually(t, func() bool {
		code, _ := p.get("/readyz")
		return code == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond, "auditor never became ready")
	return p
}

func (p *auditorProcess) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func (p *auditorProcess) get(path string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // a self-signed certificate
	resp, err := c.Get(p.scheme + "://" + p.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *auditorProcess) metrics(t testing.TB) string {
	code, body := p.get("/metrics")
	require.Equal(t, http.StatusOK, code, body)
	return body
}

// waitMetric polls /metrics until a line matches the regular expression, within d.
func (p *auditorProcess) waitMetric(t testing.TB, d time.Duration, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var last string
	ok := assertEventually(d, func() bool {
		last = p.metrics(t)
		return re.MatchString(last)
	})
	if !ok {
		t.Fatalf("no metric matching %q within %s; metrics:\n%s", pattern, d, grepLines(last, "enforcement_auditor_"))
	}
}

// waitNoMetric polls until no line matches.
func (p *auditorProcess) waitNoMetric(t testing.TB, d time.Duration, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var last string
	ok := assertEventually(d, func() bool {
		last = p.metrics(t)
		return !re.MatchString(last)
	})
	if !ok {
		t.Fatalf("metric matching %q still present after %s; metrics:\n%s", pattern, d, grepLines(last, "enforcement_auditor_"))
	}
}

func assertEventually(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if f() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// stop sends SIGTERM and requires a clean exit within the timeout.
func (p *auditorProcess) stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "auditor did not exit cleanly on SIGTERM")
	case <-time.After(timeout):
		t.Fatalf("auditor did not exit within %s of SIGTERM", timeout)
	}
}

// findingSeries builds the regexp of one open finding's per-object series.
func findingSeries(rule, namespace, kind, name string) string {
	return fmt.Sprintf(`enforcement_auditor_finding\{[^}]*kind="%s"[^}]*name="%s"[^}]*namespace="%s"[^}]*rule="%s"[^}]*\} 1`,
		regexp.QuoteMeta(kind), regexp.QuoteMeta(name), regexp.QuoteMeta(namespace), regexp.QuoteMeta(rule))
}

var _ = context.Background
