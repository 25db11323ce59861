package sr1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func sr1ProbeResult(namespace, svc, addr string, port int32, reachable bool, outcome string, at time.Time) auditor.NetworkProbeResult {
	return auditor.NetworkProbeResult{
		Namespace: namespace, Target: auditor.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: namespace, Name: svc},
		Address: addr, Port: port, Reachable: reachable, Outcome: outcome, At: at,
	}
}

func TestServingReachableFromUntrusted(t *testing.T) {
	t1, t2 := sr1Now.Add(-time.Minute), sr1Now.Add(-30*time.Second)
	cases := map[string]struct {
		probes    []auditor.NetworkProbeResult
		want      []string
		contains  string
		wantFacts map[string]float64 // "metric{labels}" -> value
	}{
		"probing off: nothing at all": {},
		"every target refused or timed out": {
			probes: []auditor.NetworkProbeResult{
				sr1ProbeResult("serving", "vllm", "10.96.0.10:8000", 8000, false, "timeout", t1),
				sr1ProbeResult("inference", "gateway", "10.96.0.11:80", 80, false, "refused", t2),
			},
			wantFacts: map[string]float64{
				"network_probe_targets{inference,connected}": 0, "network_probe_targets{inference,refused}": 1,
				"network_probe_targets{inference,timeout}": 0, "network_probe_targets{inference,error}": 0,
				"network_probe_targets{serving,connected}": 0, "network_probe_targets{serving,refused}": 0,
				"network_probe_targets{serving,timeout}": 1, "network_probe_targets{serving,error}": 0,
				"network_probe_last_run_timestamp_seconds{inference}": float64(t2.Unix()),
				"network_probe_last_run_timestamp_seconds{serving}":   float64(t1.Unix()),
			},
		},
		"a connection completed: one finding per address": {
			probes: []auditor.NetworkProbeResult{
				sr1ProbeResult("serving", "vllm", "10.96.0.10:8000", 8000, true, "connected", t1),
				sr1ProbeResult("serving", "vllm", "10.96.0.10:9090", 9090, true, "connected", t2),
				sr1ProbeResult("serving", "tgi", "10.96.0.12:80", 80, false, "error: no route to host", t2),
			},
			want: []string{
				"serving-reachable-from-untrusted|Service|serving|vllm|10.96.0.10:8000 critical",
				"serving-reachable-from-untrusted|Service|serving|vllm|10.96.0.10:9090 critical",
			},
			contains: "completed a TCP connection to Service serving/vllm (10.96.0.10:8000, port 8000) in protected namespace serving",
			wantFacts: map[string]float64{
				"network_probe_targets{inference,connected}": 0, "network_probe_targets{inference,refused}": 0,
				"network_probe_targets{inference,timeout}": 0, "network_probe_targets{inference,error}": 0,
				"network_probe_targets{serving,connected}": 2, "network_probe_targets{serving,refused}": 0,
				"network_probe_targets{serving,timeout}": 0, "network_probe_targets{serving,error}": 1,
				"network_probe_last_run_timestamp_seconds{serving}": float64(t2.Unix()),
			},
		},
	}
	r := ruleFor(servingReachableFromUntrusted)(auditor.DefaultConfig())
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := r.Evaluate(snapshottest.New(snapshottest.At(sr1Now), tc.probes))
			assert.Equal(t, tc.want, sr1NilIfEmpty(sr1FindingKeys(res.Findings)))
			assert.Empty(t, res.Inconclusive)
			if tc.contains != "" {
				require.NotEmpty(t, res.Findings)
				assert.Contains(t, res.Findings[0].Message, tc.contains)
			}
			got := map[string]float64{}
			for _, f := range res.Facts {
				k := f.Metric + "{"
				for i, l := range f.Labels {
					if i > 0 {
						k += ","
					}
					k += l.Value
				}
				got[k+"}"] = f.Value
				assert.NotEmpty(t, f.Help)
			}
			if tc.wantFacts == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.wantFacts, got)
			}
		})
	}
}

// TestServingReachableIsWaivableOnTheService: the Service is a kind of the snapshot, so a
// team can accept the exposure on the Service itself, with a reason and an expiry, like
// any other finding; an expired waiver stops covering it.
func TestServingReachableIsWaivableOnTheService(t *testing.T) {
	cfg := auditor.DefaultConfig()
	svc := func(until string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "vllm", Annotations: map[string]string{
			auditor.WaiveAnnotation:       "serving-reachable-from-untrusted",
			auditor.WaiveReasonAnnotation: "migration window, ticket NET-42",
			auditor.WaiveUntilAnnotation:  until,
		}}}
	}
	probe := sr1ProbeResult("serving", "vllm", "10.96.0.10:8000", 8000, true, "connected", sr1Now.Add(-time.Minute))
	cases := map[string]struct {
		until  string
		waived bool
	}{
		"active waiver":  {until: sr1Now.Add(24 * time.Hour).Format(time.RFC3339), waived: true},
		"expired waiver": {until: sr1Now.Add(-time.Hour).Format(time.RFC3339), waived: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(snapshottest.At(sr1Now), svc(tc.until), probe)
			ev := engine.Evaluate([]auditor.Rule{ruleFor(servingReachableFromUntrusted)(cfg)}, s, cfg.Waivers.MaxDuration.Duration)
			require.Len(t, ev.Findings, 1)
			assert.Equal(t, tc.waived, ev.Findings[0].Waived())
		})
	}
}
