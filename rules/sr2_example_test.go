package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// The shipped example must show exactly its two deliberate SR2 defects, offline.
func TestSR2Example(t *testing.T) {
	objs, err := manifests.Read([]string{"../examples/platform/00-namespaces.yaml", "../examples/platform/20-sr2-gpu.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	var findings []string
	var inconclusive []string
	facts := map[string]float64{}
	for _, r := range sr2Rules(auditor.DefaultConfig()) {
		res := r.Evaluate(s)
		for _, f := range res.Findings {
			k := f.Rule + " " + f.Object.String()
			if f.Discriminator != "" {
				k += "#" + f.Discriminator
			}
			findings = append(findings, k+" "+f.Severity.String())
		}
		for _, i := range res.Inconclusive {
			inconclusive = append(inconclusive, r.Meta().ID+": "+i)
		}
		for _, f := range res.Facts {
			if f.Value != 0 {
				facts[f.Labels[0].Value+"/"+f.Labels[1].Value] = f.Value
			}
		}
	}
	assert.ElementsMatch(t, []string{
		"gpu-pod-missing-queue-name Pod/team-search/adhoc-mig-notebook high",
		"gpu-gate-policy-not-enforcing ClusterPolicy/require-kueue-queue-name#gpu-resources critical",
	}, findings)
	require.Len(t, inconclusive, 1, "%v", inconclusive)
	assert.True(t, strings.HasPrefix(inconclusive[0], "gpu-gate-policy-not-enforcing: Kyverno's webhook cannot be judged"), inconclusive[0])
	assert.Equal(t, map[string]float64{
		"team-research/admitted": 4,
		"team-search/admitted":   1,
		"team-search/bypassing":  1,
		"serving/out_of_scope":   8,
	}, facts)
}
