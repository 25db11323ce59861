package integration

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// otlpEvent is one decoded finding event.
type otlpEvent struct{ name, rule, object, fingerprint string }

// otlpReceiver is a real OTLP/HTTP logs endpoint decoding the protobuf payloads.
type otlpReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []otlpEvent
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/logs" {
			http.NotFound(w, req)
			return
		}
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg collogspb.ExportLogsServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rl := range msg.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					ev := otlpEvent{name: lr.EventName}
					for _, kv := range lr.Attributes {
						switch kv.Key {
						case "enforcement_auditor.rule":
							ev.rule = kv.Value.GetStringValue()
						case "enforcement_auditor.object.name":
							ev.object = kv.Value.GetStringValue()
						case "enforcement_auditor.finding.fingerprint":
							ev.fingerprint = kv.Value.GetStringValue()
						}
					}
					r.events = append(r.events, ev)
				}
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// count returns how many events of a name concern an object.
func (r *otlpReceiver) count(name, object string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.name == name && e.object == object && e.rule == "gpu-pod-missing-queue-name" {
			n++
		}
	}
	return n
}

func leaderOf(t *testing.T, ps ...*auditorProcess) *auditorProcess {
	t.Helper()
	for _, p := range ps {
		if code, body := p.get("/metrics"); code == 200 && containsLine(body, "enforcement_auditor_leader 1") {
			return p
		}
	}
	return nil
}

func containsLine(body, line string) bool {
	for _, l := range splitLines(body) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// TestHighAvailabilityFailover: two replicas with --leader-elect; only the leader emits
// OpenTelemetry events. Killing the leader (SIGKILL: no lease release) hands over within
// the lease duration, and across the failover no transition event is lost or duplicated.
func TestHighAvailabilityFailover(t *testing.T) {
	ctx := context.Background()
	const ns = "it-ha"
	createNamespace(t, ns, map[string]string{"llm-platform/kueue-managed": "true"})
	rcv := newOTLPReceiver(t)
	env := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + rcv.srv.URL, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"}
	const lease = 4 * time.Second
	args := []string{"--leader-elect", "--leader-election-namespace", ns, "--leader-election-id", "it-ha-auditor",
		"--leader-election-lease-duration", lease.String(), "--leader-election-renew-deadline", "3s", "--leader-election-retry-period", "500ms"}
	a := startAuditorWithEnv(t, env, args...)
	b := startAuditorWithEnv(t, env, args...)

	var leader *auditorProcess
	require.Eventually(t, func() bool { leader = leaderOf(t, a, b); return leader != nil }, 2*lease, 100*time.Millisecond, "no leader elected")
	follower := a
	if leader == a {
		follower = b
	}
	require.Nil(t, leaderOf(t, follower), "exactly one leader")

	_, err := client.CoreV1().Pods(ns).Create(ctx, gpuPod(ns, "before-failover", nil), metav1.CreateOptions{})
	require.NoError(t, err)
	follower.waitMetric(t, 5*time.Second, findingSeries("gpu-pod-missing-queue-name", ns, "Pod", "before-failover"))
	require.Eventually(t, func() bool { return rcv.count("enforcement_auditor.finding.opened", "before-failover") == 1 }, 10*time.Second, 50*time.Millisecond,
		"the leader announces the opened finding")

	// Kill the leader without letting it release the lease, then change the cluster while
	// nobody leads: these transitions must still be announced, once.
	require.NoError(t, leader.cmd.Process.Signal(syscall.SIGKILL))
	killedAt := time.Now()
	require.NoError(t, client.CoreV1().Pods(ns).Delete(ctx, "before-failover", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}))
	_, err = client.CoreV1().Pods(ns).Create(ctx, gpuPod(ns, "during-failover", nil), metav1.CreateOptions{})
	require.NoError(t, err)

	require.Eventually(t, func() bool { return leaderOf(t, follower) != nil }, lease+5*time.Second, 100*time.Millisecond, "the follower never took over")
	takeover := time.Since(killedAt)
	t.Logf("takeover after %s (lease duration %s)", takeover, lease)
	assert.LessOrEqual(t, takeover, lease+3*time.Second, "takeover within the lease duration (plus retry period and polling)")

	require.Eventually(t, func() bool {
		return rcv.count("enforcement_auditor.finding.resolved", "before-failover") == 1 &&
			rcv.count("enforcement_auditor.finding.opened", "during-failover") == 1
	}, 10*time.Second, 50*time.Millisecond, "transitions during the failover are announced by the new leader")

	// Settle, then check nothing was announced twice.
	time.Sleep(2 * time.Second)
	assert.Equal(t, 1, rcv.count("enforcement_auditor.finding.opened", "before-failover"), "opened exactly once")
	assert.Equal(t, 1, rcv.count("enforcement_auditor.finding.resolved", "before-failover"), "resolved exactly once")
	assert.Equal(t, 1, rcv.count("enforcement_auditor.finding.opened", "during-failover"), "opened exactly once")
	follower.stop(t, 15*time.Second)
}
