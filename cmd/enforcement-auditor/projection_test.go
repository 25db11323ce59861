package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

// TestScanProjectionKeepsFindings: the scan holds each object as the daemon's caches do
// (the table of kinds' projections, auditor.ResourceInfo.Project: pods no rule reads
// dropped, the others projected onto what the rules read). On the example platform and the synthetic cluster's manifests the evaluation is the
// same as on the objects whole: findings, control states and reasons.
func TestScanProjectionKeepsFindings(t *testing.T) {
	cfg := auditor.DefaultConfig()
	rs := rules.All(cfg)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	eval := func(t *testing.T, path string, project *auditor.Projection) (*auditor.Evaluation, *auditor.Snapshot) {
		objs, err := manifests.ReadWith([]string{path}, nil, manifests.Options{Projection: project})
		require.NoError(t, err)
		s, err := manifests.Snapshot(objs)
		require.NoError(t, err)
		s.Now = now
		return engine.Evaluate(rs, s, cfg.Waivers.MaxDuration.Duration), s
	}
	c, err := synth.Generate(synth.Options{Pods: 2000})
	require.NoError(t, err)
	set := t.TempDir()
	require.NoError(t, c.WriteManifestSet(set, 2500, 100))
	for _, path := range []string{"../../examples/platform", set} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			whole, ws := eval(t, path, nil)
			projected, ps := eval(t, path, auditor.NewProjection(cfg, auditor.PodsRead(rs)))
			require.NotEmpty(t, whole.Findings)
			assert.Equal(t, whole.Findings, projected.Findings)
			assert.Equal(t, whole.Controls, projected.Controls)
			assert.Equal(t, whole.Inconclusive, projected.Inconclusive)
			assert.Equal(t, ws.Seen, ps.Seen, "a dropped pod still counts as seen")
			if path == set { // every pod of the example is one a rule reads
				assert.Less(t, len(ps.Pods), len(ws.Pods), "pods no rule reads are dropped")
			}
		})
	}
}

// TestProjectDropCountsAsSeen: an object Options.Projection drops is not kept, but its
// kind counts as seen (a control needing pods is judged, not unknown).
func TestProjectDropCountsAsSeen(t *testing.T) {
	in := writeFile(t, t.TempDir(), "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: team-a}\nspec: {containers: [{name: c, image: x}]}\n")
	objs, err := manifests.ReadWith([]string{in}, nil, manifests.Options{
		Projection: auditor.NewProjection(auditor.DefaultConfig(), func(*corev1.Pod) bool { return false })})
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	assert.Empty(t, s.Pods)
	assert.True(t, s.Seen[auditor.ResourcePods])
}
