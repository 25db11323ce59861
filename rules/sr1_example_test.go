package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// TestSR1Example scans the example platform's SR1 manifests offline, as GitOps CI would:
// the only finding must be the file's one deliberate defect, and the CNI must be
// recognised as enforcing.
func TestSR1Example(t *testing.T) {
	objs, err := manifests.Read([]string{"../examples/platform/00-namespaces.yaml", "../examples/platform/10-sr1-network.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	var findings []auditor.Finding
	var facts []auditor.Fact
	for _, r := range sr1Rules(auditor.DefaultConfig()) {
		res := r.Evaluate(s)
		assert.Empty(t, res.Inconclusive, "rule %s", r.Meta().ID)
		findings = append(findings, res.Findings...)
		facts = append(facts, res.Facts...)
	}
	assert.Equal(t, []string{"netpol-ingress-outside-allowlist|NetworkPolicy|inference|allow-search-evaluation|ingress[0] critical"}, sr1FindingKeys(findings))
	require.Len(t, findings, 1)
	assert.Contains(t, findings[0].Message, "namespaces team-search (from[0].namespaceSelector {llm-platform/team=search})")
	require.Len(t, facts, 1)
	assert.Equal(t, []auditor.Label{{Name: "cni", Value: "calico"}, {Name: "enforcing", Value: "true"}}, facts[0].Labels)
}
