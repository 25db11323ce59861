package otel

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// received is one log record as a collector saw it, flattened for assertions.
type received struct {
	Resource     map[string]any
	Scope        string
	ScopeVersion string
	EventName    string
	Severity     int32
	SeverityText string
	Body         string
	TimeUnixNano uint64
	Attributes   map[string]any
}

// receiver is a minimal OTLP logs collector: it decodes ExportLogsServiceRequest
// payloads arriving over HTTP (POST /v1/logs) or gRPC and keeps the records.
type receiver struct {
	collogspb.UnimplementedLogsServiceServer

	mu       sync.Mutex
	requests int
	records  []received
	// gate, when set, holds every request until it is closed; arrived gets a value
	// when a request is held.
	gate    chan struct{}
	arrived chan struct{}
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.records...)
}

func (rc *receiver) requestCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.requests
}

func (rc *receiver) hold(ctx context.Context) error {
	if rc.gate == nil {
		return nil
	}
	if rc.arrived != nil {
		select {
		case rc.arrived <- struct{}{}:
		default:
		}
	}
	select {
	case <-rc.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (rc *receiver) add(req *collogspb.ExportLogsServiceRequest) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests++
	for _, rl := range req.GetResourceLogs() {
		res := attrMap(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				rc.records = append(rc.records, received{
					Resource: res, Scope: sl.GetScope().GetName(), ScopeVersion: sl.GetScope().GetVersion(),
					EventName: lr.GetEventName(), Severity: int32(lr.GetSeverityNumber()), SeverityText: lr.GetSeverityText(),
					Body: lr.GetBody().GetStringValue(), TimeUnixNano: lr.GetTimeUnixNano(), Attributes: attrMap(lr.GetAttributes()),
				})
			}
		}
	}
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.GetStringValue()
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = v.GetBoolValue()
		case *commonpb.AnyValue_IntValue:
			out[kv.GetKey()] = v.GetIntValue()
		case *commonpb.AnyValue_DoubleValue:
			out[kv.GetKey()] = v.GetDoubleValue()
		default:
			out[kv.GetKey()] = v.String()
		}
	}
	return out
}

// ServeHTTP is the OTLP/HTTP binary-protobuf endpoint.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/logs" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want application/x-protobuf", http.StatusUnsupportedMediaType)
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
	if err := rc.hold(r.Context()); err != nil {
		return
	}
	rc.add(req)
	resp, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// Export is the OTLP/gRPC endpoint.
func (rc *receiver) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	if err := rc.hold(ctx); err != nil {
		return nil, err
	}
	rc.add(req)
	return &collogspb.ExportLogsServiceResponse{}, nil
}

// startHTTPReceiver serves OTLP/HTTP on 127.0.0.1 and returns its base URL.
func startHTTPReceiver(t *testing.T, rc *receiver) string {
	t.Helper()
	srv := httptest.NewServer(rc) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL
}

// startGRPCReceiver serves OTLP/gRPC on 127.0.0.1 and returns its http:// URL
// (insecure, as the OTLP exporter reads the scheme).
func startGRPCReceiver(t *testing.T, rc *receiver) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	collogspb.RegisterLogsServiceServer(srv, rc)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return "http://" + lis.Addr().String()
}
