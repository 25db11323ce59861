package sr2

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestProbeUnguarded(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	missing := "guard ValidatingAdmissionPolicy enforcement-auditor-probe-dry-run-only not found"
	cases := map[string]struct {
		probes []auditor.AdmissionProbeResult
		want   []string
	}{
		"probing off":                   {},
		"guard in place, the probe ran": {probes: []auditor.AdmissionProbeResult{{Namespace: "team-a", DeniedBy: "require-kueue-queue-name", At: at}}},
		"a probe that failed for another reason is not this": {probes: []auditor.AdmissionProbeResult{{Namespace: "team-a", Error: "forbidden", At: at}}},
		"guard missing: one finding for every namespace it refused": {
			probes: []auditor.AdmissionProbeResult{
				{Namespace: "team-b", Error: "refused to probe: " + missing, Unguarded: missing, At: at},
				{Namespace: "team-a", Error: "refused to probe: " + missing, Unguarded: missing, At: at},
			},
			want: []string{"the admission probe refused to run in 2 Kueue-managed namespaces (team-a, team-b): " + missing},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New()
			s.AdmissionProbes = tc.probes
			res := ruleFor(probeUnguarded)(auditor.DefaultConfig()).Evaluate(s)
			require.Len(t, res.Findings, len(tc.want))
			for i, w := range tc.want {
				f := res.Findings[i]
				assert.Contains(t, f.Message, w)
				assert.Nil(t, f.Object, "the auditor itself: cluster-wide")
				assert.Equal(t, auditor.SeverityHigh, f.Severity)
			}
			assert.Empty(t, res.Inconclusive)
		})
	}
}
