package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

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

// TestSR3Example: the example platform's SR3 file, read by the offline source, yields
// exactly its one deliberate defect, and nothing is inconclusive.
func TestSR3Example(t *testing.T) {
	objs, err := manifests.Read([]string{"../examples/platform/00-namespaces.yaml", "../examples/platform/30-sr3-litellm.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)

	var got []string
	var fs []auditor.Finding
	for _, r := range sr3Rules(auditor.DefaultConfig()) {
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

// TestSR2DocumentedPlatformOnNvidiaNodes is the documented platform without its
// deliberate MIG pod, on Nodes that offer only nvidia.com/gpu: the seed's gate, which
// names nvidia.com/gpu only, leaves no GPU resource of this cluster unchecked, so its
// coverage gap is hardening (low) and nothing is reported above low.
func TestSR2DocumentedPlatformOnNvidiaNodes(t *testing.T) {
	objs, err := manifests.Read([]string{"../examples/platform/00-namespaces.yaml", "../examples/platform/20-sr2-gpu.yaml"}, nil)
	require.NoError(t, err)
	var keep []manifests.Object
	for _, o := range objs {
		if o.GetKind() == "Pod" && o.GetName() == "adhoc-mig-notebook" {
			continue // the deliberate defect: a pod on a MIG slice these Nodes do not offer
		}
		keep = append(keep, o)
	}
	require.Len(t, keep, len(objs)-1)
	s, err := manifests.Snapshot(keep)
	require.NoError(t, err)
	s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.Availability[auditor.ResourceNodes] = auditor.Availability{State: auditor.Synced}
	s.Nodes = []*corev1.Node{sr2Node("gpu-h100-1", "nvidia.com/gpu", 8), sr2Node("gpu-h100-2", "nvidia.com/gpu", 8), sr2Node("cpu-1", "", 0)}
	var gate []auditor.Finding
	for _, r := range sr2Rules(auditor.DefaultConfig()) {
		for _, f := range r.Evaluate(s).Findings {
			assert.LessOrEqual(t, f.Severity, auditor.SeverityLow, "%s %s: %s", f.Rule, f.Object, f.Message)
			if f.Rule == "gpu-gate-policy-not-enforcing" {
				gate = append(gate, f)
			}
		}
	}
	require.Len(t, gate, 1)
	assert.Equal(t, "gpu-resources", gate[0].Discriminator)
	assert.Contains(t, gate[0].Message, "the cluster's Nodes offer only nvidia.com/gpu")
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
			res := DefaultDenyMissing(auditor.DefaultConfig()).Evaluate(s)
			assert.Empty(t, res.Inconclusive)
			var got []string
			if len(res.Findings) > 0 {
				got = sr1FindingKeys(res.Findings)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
