package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// TestSR3Example: the example platform's SR3 file, read by the offline source, yields
// exactly its one deliberate defect, and nothing is inconclusive.
func TestSR3Example(t *testing.T) {
	objs, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/30-sr3-litellm.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)

	var got []string
	var fs []auditor.Finding
	for _, r := range Rules(auditor.DefaultConfig()) {
		keys, f, inc := sr3Eval(r, s)
		got = append(got, keys...)
		fs = append(fs, f...)
		assert.Empty(t, inc, r.Meta().ID)
	}
	assert.Equal(t, []string{"budget-db-not-ha-in-prod|Cluster|litellm/litellm-pg|high"}, got)
	require.Len(t, fs, 1)
	assert.Contains(t, fs[0].Message, "spec.instances is 2, below the 3 prod requires")
	assert.Contains(t, fs[0].Message, "database host litellm-pg-rw.litellm.svc.cluster.local from env DATABASE_HOST")
}
