// Package otel publishes finding transitions as OpenTelemetry events: one log record
// per transition, with EventName enforcement_auditor.finding.<transition>, exported
// over OTLP (gRPC or HTTP/protobuf) as configured by the standard OTEL_* environment
// variables. It is a store.Sink: OnTransitions queues and returns; a full queue drops
// and counts instead of slowing the evaluation loop.
package otel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// ScopeName is the instrumentation scope of the events.
const ScopeName = "github.com/llm-platform/enforcement-auditor/exporters/otel"

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "enforcement-auditor"

// Defaults of Options.
const (
	DefaultQueueSize = 2048
	DefaultMaxBatch  = 512
)

// Protocols accepted in OTEL_EXPORTER_OTLP_LOGS_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// Options configure the sink. The exporter itself is configured from the environment.
type Options struct {
	// ServiceVersion is the auditor's version (resource attribute service.version and
	// the instrumentation scope version).
	ServiceVersion string
	// QueueSize bounds the records waiting for export (DefaultQueueSize when zero).
	QueueSize int
	// MaxBatch bounds the records of one export (DefaultMaxBatch when zero).
	MaxBatch int
	Logger   *slog.Logger
	// Exporter, when set, replaces the OTLP exporter the environment would configure
	// (tests, embedding). The sink is then on whatever the environment says.
	Exporter sdklog.Exporter
}

// Sink emits one OpenTelemetry event per finding transition. The zero value is not
// usable; New returns a working or a disabled sink.
type Sink struct {
	status   string
	provider *sdklog.LoggerProvider
	logger   otellog.Logger
	proc     *queueProcessor
	stopped  atomic.Bool
}

var _ store.Sink = (*Sink)(nil)

// New configures the sink from the environment:
//
//   - off (a no-op sink; Status says why) when OTEL_SDK_DISABLED=true,
//     OTEL_LOGS_EXPORTER=none, or neither OTEL_EXPORTER_OTLP_LOGS_ENDPOINT nor
//     OTEL_EXPORTER_OTLP_ENDPOINT is set;
//   - OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, picks grpc or
//     http/protobuf (the default, as the OTLP specification says);
//   - the resource comes from OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME over
//     service.name=enforcement-auditor.
//
// An invalid setting is an error, so that a misconfigured daemon fails at start.
func New(ctx context.Context, o Options) (*Sink, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	logger := o.Logger.With("component", "otel-events")

	exp := o.Exporter
	status := "exporting to the configured exporter"
	if exp == nil {
		cfg, err := configFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		if cfg.off != "" {
			s := &Sink{status: "OpenTelemetry finding events are off: " + cfg.off}
			logger.Info(s.status)
			return s, nil
		}
		switch cfg.protocol {
		case ProtocolGRPC:
			exp, err = otlploggrpc.New(ctx)
		default:
			exp, err = otlploghttp.New(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("OTLP %s log exporter: %w", cfg.protocol, err)
		}
		status = fmt.Sprintf("exporting finding events over OTLP %s to %s", cfg.protocol, cfg.endpoint)
	}

	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(DefaultServiceName), semconv.ServiceVersion(o.ServiceVersion)),
		resource.WithTelemetrySDK(),
		// Last, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
		resource.WithFromEnv(),
	)
	if err != nil && res == nil {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	if err != nil {
		// A partial resource (an unparsable OTEL_RESOURCE_ATTRIBUTES entry) still names
		// the service: warn rather than go dark.
		logger.Warn("OpenTelemetry resource is partial", "err", err)
	}

	proc := newQueueProcessor(exp, o.QueueSize, o.MaxBatch, logger)
	provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(proc))
	s := &Sink{
		status:   status,
		provider: provider,
		logger:   provider.Logger(ScopeName, otellog.WithInstrumentationVersion(o.ServiceVersion)),
		proc:     proc,
	}
	logger.Info(s.status, "queue_size", o.QueueSize)
	return s, nil
}

type envConfig struct {
	off      string // why the sink is off; empty when on
	protocol string
	endpoint string // redacted, for the status line
}

func configFromEnv(getenv func(string) string) (envConfig, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return envConfig{off: "OTEL_SDK_DISABLED=true"}, nil
	}
	switch e := strings.ToLower(get("OTEL_LOGS_EXPORTER")); e {
	case "", "otlp":
	case "none":
		return envConfig{off: "OTEL_LOGS_EXPORTER=none"}, nil
	default:
		return envConfig{}, fmt.Errorf("OTEL_LOGS_EXPORTER=%q: only otlp and none are supported", e)
	}
	endpointVar := "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	endpoint := get(endpointVar)
	if endpoint == "" {
		endpointVar = "OTEL_EXPORTER_OTLP_ENDPOINT"
		endpoint = get(endpointVar)
	}
	if endpoint == "" {
		return envConfig{off: "no OTLP endpoint (set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)"}, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Do not echo the value: it may carry credentials.
		return envConfig{}, fmt.Errorf("%s: not an http:// or https:// URL with a host", endpointVar)
	}
	protocol := get("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
	if protocol == "" {
		protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch protocol {
	case "":
		protocol = ProtocolHTTPProtobuf
	case ProtocolGRPC, ProtocolHTTPProtobuf:
	default:
		return envConfig{}, fmt.Errorf("OTLP protocol %q: want %s or %s (http/json is not supported)", protocol, ProtocolGRPC, ProtocolHTTPProtobuf)
	}
	return envConfig{protocol: protocol, endpoint: u.Scheme + "://" + u.Host}, nil
}

// Enabled reports whether events are exported.
func (s *Sink) Enabled() bool { return s.provider != nil }

// Status says in one line whether and where events go.
func (s *Sink) Status() string { return s.status }

// OnTransitions emits one event per transition. It never blocks: records go to a
// bounded queue and are dropped (counted by Dropped) when it is full.
func (s *Sink) OnTransitions(ev *auditor.Evaluation, transitions []store.Transition) {
	if s.provider == nil {
		return
	}
	if s.stopped.Load() {
		s.proc.dropped.Add(uint64(len(transitions)))
		return
	}
	var at time.Time
	if ev != nil {
		at = ev.At
	}
	ctx := context.Background()
	for _, t := range transitions {
		s.logger.Emit(ctx, Record(t, at))
	}
}

// Dropped counts events lost because the queue was full or the sink shut down.
func (s *Sink) Dropped() uint64 {
	if s.proc == nil {
		return 0
	}
	return s.proc.dropped.Load()
}

// Exported counts events the exporter accepted.
func (s *Sink) Exported() uint64 {
	if s.proc == nil {
		return 0
	}
	return s.proc.exported.Load()
}

// ExportErrors counts failed exports (each loses one batch); LastError is the latest.
func (s *Sink) ExportErrors() uint64 {
	if s.proc == nil {
		return 0
	}
	return s.proc.exportErrors.Load()
}

// LastError returns the latest export error, or nil.
func (s *Sink) LastError() error {
	if s.proc == nil {
		return nil
	}
	return s.proc.lastError()
}

// ForceFlush exports every queued event before returning (or ctx ends).
func (s *Sink) ForceFlush(ctx context.Context) error {
	if s.provider == nil {
		return nil
	}
	return s.provider.ForceFlush(ctx)
}

// Shutdown exports every queued event, then closes the exporter. Events emitted after
// Shutdown are dropped. Give it a bounded context: a collector that does not answer
// holds it until ctx ends.
func (s *Sink) Shutdown(ctx context.Context) error {
	if s.provider == nil {
		return nil
	}
	s.stopped.Store(true)
	err := s.provider.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("flushing finding events: %w (%d queued events may be lost)", err, len(s.proc.queue))
	}
	return err
}
