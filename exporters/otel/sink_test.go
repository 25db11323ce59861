package otel

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

var (
	evalAt    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	firstSeen = evalAt.Add(-2 * time.Hour)
	waiveEnd  = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// otelEnv lists every variable the sink or the OTLP exporters read that a developer's
// shell could leak into a test.
var otelEnv = []string{
	"OTEL_SDK_DISABLED", "OTEL_LOGS_EXPORTER",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_LOGS_INSECURE",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
	"OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME",
}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range otelEnv {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// fixture is one transition of each kind, on objects covering the attribute mapping: a
// core kind with a semantic-convention key, a kind without one, a namespace, a CRD.
func fixture() []store.Transition {
	pod := auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ml-team", Name: "trainer-0"},
		Message: "pod requests 1 GPU in Kueue-managed namespace ml-team without a queue name"}
	deploy := auditor.Finding{Rule: "litellm-fail-open", Control: auditor.SR3, Severity: auditor.SeverityCritical,
		Object:  &auditor.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "litellm", Name: "litellm"},
		Message: "general_settings.allow_requests_on_db_unavailable is true"}
	deployBefore := deploy
	deployBefore.Severity = auditor.SeverityMedium
	np := auditor.Finding{Rule: "networkpolicy-allows-untrusted-source", Control: auditor.SR1, Severity: auditor.SeverityHigh,
		Object:        &auditor.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "serving", Name: "allow-all"},
		Message:       "ingress[0] allows every namespace",
		Discriminator: "ingress[0]"}
	nsWaiver := &auditor.Waiver{Reason: "migration ticket PLAT-42", Until: &waiveEnd}
	ns := auditor.Finding{Rule: "namespace-missing-default-deny", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "inference"},
		Message: "namespace inference has no default-deny ingress policy", Waiver: nsWaiver}
	nsBefore := ns
	nsBefore.Waiver = nil
	gate := auditor.Finding{Rule: "kyverno-gate-audit-only", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Object:  &auditor.ObjectRef{APIVersion: "kyverno.io/v1", Kind: "ClusterPolicy", Name: "require-kueue-queue-name"},
		Message: "validationFailureAction is Audit"}
	gateBefore := gate
	gateBefore.Waiver = &auditor.Waiver{Reason: "rollout"}
	rec := func(f auditor.Finding) store.Record {
		return store.Record{Finding: f, FirstSeen: firstSeen, LastSeen: evalAt}
	}
	return []store.Transition{
		{Type: store.Opened, At: evalAt, Record: rec(pod)},
		{Type: store.Changed, At: evalAt, Record: rec(deploy), Previous: &deployBefore},
		{Type: store.Resolved, At: evalAt, Record: rec(np)},
		{Type: store.Waived, At: evalAt, Record: rec(ns), Previous: &nsBefore},
		{Type: store.WaiverExpired, At: evalAt, Record: rec(gate), Previous: &gateBefore},
	}
}

type wantEvent struct {
	name     string
	severity int32
	attrs    map[string]any
}

func fixtureEvents() []wantEvent {
	tr := fixture()
	fp := func(i int) string { return tr[i].Record.Fingerprint() }
	first, last := firstSeen.Format(time.RFC3339Nano), evalAt.Format(time.RFC3339Nano)
	return []wantEvent{
		{name: "enforcement_auditor.finding.opened", severity: 17, attrs: map[string]any{
			AttrRule: "gpu-pod-missing-queue-name", AttrControl: "SR2", AttrSeverity: "high", AttrFingerprint: fp(0),
			AttrMessage: tr[0].Record.Message, AttrWaived: false, AttrFirstSeen: first, AttrLastSeen: last,
			"k8s.namespace.name": "ml-team", "k8s.pod.name": "trainer-0",
			AttrObjectAPIVersion: "v1", AttrObjectKind: "Pod", AttrObjectName: "trainer-0",
		}},
		{name: "enforcement_auditor.finding.severity_changed", severity: 18, attrs: map[string]any{
			AttrRule: "litellm-fail-open", AttrControl: "SR3", AttrSeverity: "critical", AttrPreviousSeverity: "medium",
			AttrFingerprint: fp(1), AttrMessage: tr[1].Record.Message, AttrWaived: false, AttrFirstSeen: first, AttrLastSeen: last,
			"k8s.namespace.name": "litellm", "k8s.deployment.name": "litellm",
			AttrObjectAPIVersion: "apps/v1", AttrObjectKind: "Deployment", AttrObjectName: "litellm",
		}},
		{name: "enforcement_auditor.finding.resolved", severity: 9, attrs: map[string]any{
			AttrRule: "networkpolicy-allows-untrusted-source", AttrControl: "SR1", AttrSeverity: "high",
			AttrFingerprint: fp(2), AttrMessage: tr[2].Record.Message, AttrWaived: false, AttrFirstSeen: first, AttrLastSeen: last,
			"k8s.namespace.name": "serving",
			AttrObjectAPIVersion: "networking.k8s.io/v1", AttrObjectKind: "NetworkPolicy", AttrObjectName: "allow-all",
		}},
		{name: "enforcement_auditor.finding.waived", severity: 9, attrs: map[string]any{
			AttrRule: "namespace-missing-default-deny", AttrControl: "SR1", AttrSeverity: "medium", AttrPreviousSeverity: "medium",
			AttrFingerprint: fp(3), AttrMessage: tr[3].Record.Message, AttrWaived: true, AttrFirstSeen: first, AttrLastSeen: last,
			AttrWaiverReason: "migration ticket PLAT-42", AttrWaiverUntil: "2026-04-01T00:00:00Z",
			"k8s.namespace.name": "inference",
			AttrObjectAPIVersion: "v1", AttrObjectKind: "Namespace", AttrObjectName: "inference",
		}},
		{name: "enforcement_auditor.finding.waiver_expired", severity: 17, attrs: map[string]any{
			AttrRule: "kyverno-gate-audit-only", AttrControl: "SR2", AttrSeverity: "high", AttrPreviousSeverity: "high",
			AttrFingerprint: fp(4), AttrMessage: tr[4].Record.Message, AttrWaived: false, AttrFirstSeen: first, AttrLastSeen: last,
			AttrWaiverReason:     "rollout",
			AttrObjectAPIVersion: "kyverno.io/v1", AttrObjectKind: "ClusterPolicy", AttrObjectName: "require-kueue-queue-name",
		}},
	}
}

func TestSinkExportsEventsToOTLPReceiver(t *testing.T) {
	cases := map[string]struct {
		grpc bool
		env  func(url string) map[string]string
	}{
		"http/protobuf by default, base endpoint": {env: func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url}
		}},
		"http/protobuf, logs endpoint used as is, gzip": {env: func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": url + "/v1/logs", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
				"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"}
		}},
		"grpc": {grpc: true, env: func(url string) map[string]string {
			return map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rc := &receiver{}
			var url string
			if tc.grpc {
				url = startGRPCReceiver(t, rc)
			} else {
				url = startHTTPReceiver(t, rc)
			}
			env := tc.env(url)
			env["OTEL_SERVICE_NAME"] = "auditor-under-test"
			env["OTEL_RESOURCE_ATTRIBUTES"] = "k8s.cluster.name=ci,deployment.environment.name=test"
			setEnv(t, env)

			s, err := New(context.Background(), Options{ServiceVersion: "v1.2.3", Logger: quietLogger()})
			require.NoError(t, err)
			require.True(t, s.Enabled(), s.Status())
			s.OnTransitions(&auditor.Evaluation{At: evalAt}, fixture())

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, s.Shutdown(ctx))

			got := rc.got()
			want := fixtureEvents()
			require.Len(t, got, len(want))
			for i, w := range want {
				g := got[i]
				assert.Equal(t, w.name, g.EventName, "record %d", i)
				assert.Equal(t, w.attrs, g.Attributes, "attributes of %s", w.name)
				assert.Equal(t, w.severity, g.Severity, "severity of %s", w.name)
				assert.Equal(t, uint64(evalAt.UnixNano()), g.TimeUnixNano, "timestamp of %s", w.name)
				assert.Equal(t, w.attrs[AttrMessage], g.Body, "body of %s", w.name)
				assert.Equal(t, ScopeName, g.Scope)
				assert.Equal(t, "v1.2.3", g.ScopeVersion)
				assert.Equal(t, "auditor-under-test", g.Resource["service.name"], "OTEL_SERVICE_NAME wins over the default")
				assert.Equal(t, "v1.2.3", g.Resource["service.version"])
				assert.Equal(t, "ci", g.Resource["k8s.cluster.name"])
				assert.Equal(t, "test", g.Resource["deployment.environment.name"])
				assert.Equal(t, "go", g.Resource["telemetry.sdk.language"])
			}
			assert.Equal(t, uint64(len(want)), s.Exported())
			assert.Zero(t, s.Dropped())
			assert.Zero(t, s.ExportErrors())
		})
	}
}

func TestServiceNameDefaultsToEnforcementAuditor(t *testing.T) {
	rc := &receiver{}
	setEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": startHTTPReceiver(t, rc)})
	s, err := New(context.Background(), Options{ServiceVersion: "dev", Logger: quietLogger()})
	require.NoError(t, err)
	s.OnTransitions(nil, fixture()[:1])
	require.NoError(t, s.Shutdown(context.Background()))
	got := rc.got()
	require.Len(t, got, 1)
	assert.Equal(t, DefaultServiceName, got[0].Resource["service.name"])
}

// A queued record that the worker has not exported yet still reaches the collector
// when Shutdown is called: Shutdown flushes.
func TestShutdownFlushesQueuedEvents(t *testing.T) {
	rc := &receiver{gate: make(chan struct{}), arrived: make(chan struct{}, 1)}
	setEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": startHTTPReceiver(t, rc)})
	s, err := New(context.Background(), Options{Logger: quietLogger()})
	require.NoError(t, err)

	tr := fixture()
	s.OnTransitions(nil, tr[:1])
	select { // the first export is now held by the collector
	case <-rc.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the first export never reached the receiver")
	}
	s.OnTransitions(nil, tr[1:]) // queued behind the held export

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	close(rc.gate)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(25 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	var names []string
	for _, r := range rc.got() {
		names = append(names, r.EventName)
	}
	var want []string
	for _, w := range fixtureEvents() {
		want = append(want, w.name)
	}
	assert.Equal(t, want, names, "every event, in order, reached the collector before Shutdown returned")
	assert.Equal(t, 2, rc.requestCount(), "the queued records went out in one export")
	assert.Zero(t, s.Dropped())

	s.OnTransitions(nil, tr)
	assert.Equal(t, uint64(len(tr)), s.Dropped(), "events after Shutdown are dropped and counted")
}

// A collector that never answers cannot hold Shutdown past its deadline.
func TestShutdownHonoursDeadline(t *testing.T) {
	rc := &receiver{gate: make(chan struct{}), arrived: make(chan struct{}, 1)}
	setEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": startHTTPReceiver(t, rc)})
	t.Cleanup(func() { close(rc.gate) }) // runs before the server's Close
	s, err := New(context.Background(), Options{Logger: quietLogger()})
	require.NoError(t, err)
	s.OnTransitions(nil, fixture())
	select {
	case <-rc.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the export never reached the receiver")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// blockingExporter holds every Export until release is closed.
type blockingExporter struct {
	entered chan int
	release chan struct{}
	mu      sync.Mutex
	names   []string
}

func (e *blockingExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	e.mu.Lock()
	for _, r := range recs {
		e.names = append(e.names, r.EventName())
	}
	e.mu.Unlock()
	select {
	case e.entered <- len(recs):
	default:
	}
	select {
	case <-e.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (e *blockingExporter) Shutdown(context.Context) error   { return nil }
func (e *blockingExporter) ForceFlush(context.Context) error { return nil }

func manyTransitions(n int) []store.Transition {
	out := make([]store.Transition, n)
	for i := range out {
		f := auditor.Finding{Rule: "r", Control: auditor.SR1, Severity: auditor.SeverityHigh,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "serving", Name: "p" + string(rune('a'+i))}}
		out[i] = store.Transition{Type: store.Opened, At: evalAt, Record: store.Record{Finding: f}}
	}
	return out
}

func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	setEnv(t, nil)
	exp := &blockingExporter{entered: make(chan int, 1), release: make(chan struct{})}
	s, err := New(context.Background(), Options{Exporter: exp, QueueSize: 3, Logger: quietLogger()})
	require.NoError(t, err)
	require.True(t, s.Enabled())

	s.OnTransitions(nil, manyTransitions(1))
	select { // the worker took the first record and is stuck exporting it
	case n := <-exp.entered:
		require.Equal(t, 1, n)
	case <-time.After(5 * time.Second):
		t.Fatal("the first record was never exported")
	}

	returned := make(chan struct{})
	go func() {
		s.OnTransitions(nil, manyTransitions(10))
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("OnTransitions blocked on a stuck exporter")
	}
	assert.Equal(t, uint64(7), s.Dropped(), "3 queued, 7 dropped")

	close(exp.release)
	require.NoError(t, s.Shutdown(context.Background()))
	exp.mu.Lock()
	defer exp.mu.Unlock()
	assert.Len(t, exp.names, 4, "the stuck record plus the 3 queued ones were exported")
	assert.Equal(t, uint64(4), s.Exported())
	assert.Equal(t, uint64(7), s.Dropped())
}

type failingExporter struct{}

func (failingExporter) Export(context.Context, []sdklog.Record) error {
	return errors.New("collector said 503")
}
func (failingExporter) Shutdown(context.Context) error   { return nil }
func (failingExporter) ForceFlush(context.Context) error { return nil }

func TestExportErrorsAreCounted(t *testing.T) {
	setEnv(t, nil)
	s, err := New(context.Background(), Options{Exporter: failingExporter{}, Logger: quietLogger()})
	require.NoError(t, err)
	s.OnTransitions(nil, fixture())
	require.NoError(t, s.ForceFlush(context.Background()))
	assert.NotZero(t, s.ExportErrors())
	assert.EqualError(t, s.LastError(), "collector said 503")
	assert.Zero(t, s.Exported())
	require.NoError(t, s.Shutdown(context.Background()))
}

func TestNewIsOffOrFailsFromEnvironment(t *testing.T) {
	cases := map[string]struct {
		env     map[string]string
		off     string // substring of Status when off
		err     string // substring of the error
		noLeaks string // a value that must not appear in the error
	}{
		"no endpoint":          {env: nil, off: "no OTLP endpoint"},
		"SDK disabled":         {env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, off: "OTEL_SDK_DISABLED"},
		"logs exporter none":   {env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_LOGS_EXPORTER": "none"}, off: "OTEL_LOGS_EXPORTER=none"},
		"unsupported exporter": {env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_LOGS_EXPORTER": "console"}, err: "only otlp and none"},
		"http/json":            {env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, err: "http/json is not supported"},
		"logs protocol wins":   {env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "thrift"}, err: `"thrift"`},
		"endpoint without scheme": {env: map[string]string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "collector-token-s3cr3t"},
			err: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: not an http", noLeaks: "s3cr3t"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			setEnv(t, tc.env)
			s, err := New(context.Background(), Options{Logger: quietLogger()})
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				if tc.noLeaks != "" {
					assert.NotContains(t, err.Error(), tc.noLeaks)
				}
				return
			}
			require.NoError(t, err)
			assert.False(t, s.Enabled())
			assert.Contains(t, s.Status(), tc.off)
			s.OnTransitions(nil, fixture()) // a no-op, not a panic
			assert.Zero(t, s.Dropped())
			assert.NoError(t, s.ForceFlush(context.Background()))
			assert.NoError(t, s.Shutdown(context.Background()))
		})
	}
}

func TestStatusRedactsEndpointCredentials(t *testing.T) {
	cfg, err := configFromEnv(func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return "https://user:pa55word@collector.example:4318/otlp"
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, ProtocolHTTPProtobuf, cfg.protocol)
	assert.Equal(t, "https://collector.example:4318", cfg.endpoint)
}
