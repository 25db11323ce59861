package sr2

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestGPUGateBypassed(t *testing.T) {
	at := sr2Now.Add(-30 * time.Second)
	tests := map[string]struct {
		probes       []any
		want         []string
		inconclusive bool
		contains     string             // in the inconclusive notes
		facts        map[string]float64 // "ns/result" -> value, plus "ns/ts"
	}{
		"probing off": {},
		"admitted": {
			probes: []any{auditor.AdmissionProbeResult{Namespace: "team-search", Admitted: true, At: at}},
			want:   []string{"Namespace/team-search critical"},
			facts:  map[string]float64{"team-search/admitted": 1, "team-search/denied": 0, "team-search/error": 0, "team-search/ts": float64(at.Unix())},
		},
		"denied": {
			probes: []any{auditor.AdmissionProbeResult{Namespace: "team-search", DeniedBy: `admission webhook "validate.kyverno.svc-fail" denied the request`, At: at}},
			facts:  map[string]float64{"team-search/admitted": 0, "team-search/denied": 1, "team-search/error": 0, "team-search/ts": float64(at.Unix())},
		},
		"error is inconclusive": {
			probes:       []any{auditor.AdmissionProbeResult{Namespace: "team-search", Error: "pods is forbidden: cannot create", At: at}},
			inconclusive: true,
			facts:        map[string]float64{"team-search/admitted": 0, "team-search/denied": 0, "team-search/error": 1, "team-search/ts": float64(at.Unix())},
		},
		"denied by something else: inconclusive, not verified": {
			probes: []any{auditor.AdmissionProbeResult{Namespace: "team-search", At: at,
				Error: `inconclusive: denied by admission webhook "images.example.com", not by the gate (require-kueue-queue-name): registry not allowed`}},
			inconclusive: true,
			contains:     "admission probe in namespace team-search is inconclusive: denied by admission webhook \"images.example.com\", not by the gate",
			facts:        map[string]float64{"team-search/admitted": 0, "team-search/denied": 0, "team-search/error": 1, "team-search/ts": float64(at.Unix())},
		},
		"one admitted, one denied; no time, no timestamp fact": {
			probes: []any{
				auditor.AdmissionProbeResult{Namespace: "team-search", Admitted: true},
				auditor.AdmissionProbeResult{Namespace: "team-research", DeniedBy: "denied"},
			},
			want: []string{"Namespace/team-search critical"},
			facts: map[string]float64{"team-search/admitted": 1, "team-search/denied": 0, "team-search/error": 0,
				"team-research/admitted": 0, "team-research/denied": 1, "team-research/error": 0},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.probes)
			res := sr2Eval(t, ruleFor(gateBypassed), s)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings))
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0)
			if tc.contains != "" {
				assert.Contains(t, strings.Join(res.Inconclusive, "\n"), tc.contains)
			}
			got := map[string]float64{}
			for _, f := range res.Facts {
				switch f.Metric {
				case "admission_probe_result":
					got[f.Labels[0].Value+"/"+f.Labels[1].Value] = f.Value
				case "admission_probe_last_run_timestamp_seconds":
					got[f.Labels[0].Value+"/ts"] = f.Value
				default:
					t.Errorf("unexpected fact %s", f.Metric)
				}
			}
			if tc.facts == nil {
				tc.facts = map[string]float64{}
			}
			assert.Equal(t, tc.facts, got)
		})
	}
}
