package sr1

import (
	"os"
	"path/filepath"
	"strings"
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
	objs, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/10-sr1-network.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	var findings []auditor.Finding
	var facts []auditor.Fact
	for _, r := range Rules(auditor.DefaultConfig()) {
		res := r.Evaluate(s)
		assert.Empty(t, res.Inconclusive, "rule %s", r.Meta().ID)
		findings = append(findings, res.Findings...)
		facts = append(facts, res.Facts...)
	}
	assert.Equal(t, []string{"netpol-ingress-outside-allowlist|NetworkPolicy|inference|allow-search-evaluation|ingress[0] critical"}, sr1FindingKeys(findings))
	require.Len(t, findings, 1)
	// The offending source first; the allow-list stated apart, as what it is.
	assert.Equal(t, "NetworkPolicy inference/allow-search-evaluation ingress rule 0 admits namespaces team-search (from[0].namespaceSelector {llm-platform/team=search}) "+
		"to pods {app.kubernetes.io/name=inference-gateway} on TCP/8080; the allow-list of inference names only inference, agentgateway-system, litellm, monitoring",
		findings[0].Message)
	require.Len(t, facts, 1)
	assert.Equal(t, []auditor.Label{{Name: "cni", Value: "calico"}, {Name: "enforcing", Value: "true"}}, facts[0].Labels)
}

// TestDuplicateIdentityLaterWins (issue: duplicate identities): a later egress-only copy
// of serving's default-deny-ingress replaces it, as `kubectl apply` of the files in order
// would, so serving is open and the default-deny finding appears; without the copy it
// does not.
func TestDuplicateIdentityLaterWins(t *testing.T) {
	const base = `apiVersion: v1
kind: Namespace
metadata: {name: serving}
---
apiVersion: v1
kind: Namespace
metadata: {name: inference}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: serving}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: inference}
spec: {podSelector: {}, policyTypes: [Ingress]}
`
	const egressOnly = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: serving
spec:
  podSelector: {}
  policyTypes: [Egress]
`
	cases := map[string]struct {
		files    map[string]string
		want     []string
		warnings []string
	}{
		"one default deny per protected namespace": {files: map[string]string{"10-sr1.yaml": base}},
		"a later egress-only copy of default-deny-ingress": {
			files: map[string]string{"10-sr1.yaml": base, "90-override.yaml": egressOnly},
			want:  []string{"netpol-default-deny-missing|Namespace||serving high"},
			warnings: []string{"10-sr1.yaml: document 3 (line 9): NetworkPolicy serving/default-deny-ingress is replaced by the later one at " +
				"90-override.yaml: document 1 (line 1) (the later document wins, as with kubectl apply)"},
		},
		"an earlier egress-only copy is replaced by the default deny": {
			files: map[string]string{"10-sr1.yaml": base, "05-old.yaml": egressOnly},
			warnings: []string{"05-old.yaml: document 1 (line 1): NetworkPolicy serving/default-deny-ingress is replaced by the later one at " +
				"10-sr1.yaml: document 3 (line 9) (the later document wins, as with kubectl apply)"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, content := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(content), 0o644))
			}
			var warnings []string
			objs, err := manifests.ReadWith([]string{dir}, nil, manifests.Options{Warn: func(m string) {
				warnings = append(warnings, strings.ReplaceAll(m, dir+string(filepath.Separator), ""))
			}})
			require.NoError(t, err)
			assert.Equal(t, tc.warnings, warnings)
			s, err := manifests.Snapshot(objs)
			require.NoError(t, err)
			res := ruleFor(defaultDenyMissing)(auditor.DefaultConfig()).Evaluate(s)
			assert.Empty(t, res.Inconclusive)
			var got []string
			if len(res.Findings) > 0 {
				got = sr1FindingKeys(res.Findings)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
