package sr1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// TestSideDoorsOnTheExample scans the example platform's SR1 manifests with the
// deliberate defect removed: SR1 is enforced and nothing above low is reported. Each
// attack added on its own beside it turns SR1 violated with a finding of medium or worse
// naming the object.
func TestSideDoorsOnTheExample(t *testing.T) {
	attacks := map[string]struct {
		doc  string
		want string // the finding's key and severity
	}{
		"host-network model server": {
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm-fast, namespace: serving}
spec:
  selector: {matchLabels: {app: vllm-fast}}
  template:
    metadata: {labels: {app: vllm-fast}}
    spec:
      hostNetwork: true
      containers: [{name: vllm, image: vllm/vllm-openai:v0.11.0, ports: [{containerPort: 8000}]}]
`,
			want: "serving-host-network|Deployment|serving|vllm-fast critical",
		},
		"tenant host-network pod": {
			doc: `apiVersion: v1
kind: Pod
metadata: {name: sidecar-probe, namespace: team-web}
spec:
  hostNetwork: true
  nodeName: gpu-node-1
  containers: [{name: curl, image: curlimages/curl:8.10.1}]
`,
			want: "tenant-host-network-pod|Pod|team-web|sidecar-probe critical",
		},
		"tenant namespace labelled privileged": {
			doc: `apiVersion: v1
kind: Namespace
metadata:
  name: team-web
  labels: {llm-platform/team: web, pod-security.kubernetes.io/enforce: privileged}
`,
			want: "tenant-namespace-admits-host-network|Namespace||team-web medium",
		},
		"AdminNetworkPolicy allow on the example's Calico v3.30.3, which implements it": {
			doc:  anpTenantIntoServing,
			want: "netpol-ingress-outside-allowlist|AdminNetworkPolicy||tenant-into-serving|ingress[0] critical",
		},
	}
	base := exampleWithoutDefect(t)
	scan := func(t *testing.T, extra string) *auditor.Evaluation {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "10-sr1-network.yaml"), []byte(base), 0o644))
		if extra != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "90-attack.yaml"), []byte(extra), 0o644))
		}
		objs, err := manifests.ReadWith([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/40-rbac.yaml", dir}, nil, manifests.Options{Warn: func(string) {}})
		require.NoError(t, err)
		s, err := manifests.Snapshot(objs)
		require.NoError(t, err)
		cfg := auditor.DefaultConfig()
		return engine.Evaluate(Rules(cfg), s, cfg.Waivers.MaxDuration.Duration)
	}
	t.Run("without an attack", func(t *testing.T) {
		ev := scan(t, "")
		for _, f := range ev.Findings {
			assert.LessOrEqual(t, f.Severity, auditor.SeverityLow, "%s: %s", f.Key(), f.Message)
		}
		assert.Equal(t, auditor.Enforced, ev.Controls[auditor.SR1], "%v", ev.Inconclusive)
	})
	t.Run("an AdminNetworkPolicy allow on a Calico before v3.29 is inert: low, SR1 stays enforced", func(t *testing.T) {
		ev := scan(t, anpTenantIntoServing+"---\n"+strings.Replace(calicoOf(t), "calico/node:v3.30.3", "calico/node:v3.28.2", 1))
		assert.Contains(t, sr1FindingKeys(ev.Findings), "netpol-ingress-outside-allowlist|AdminNetworkPolicy||tenant-into-serving|ingress[0] low")
		assert.Equal(t, auditor.Enforced, ev.Controls[auditor.SR1], "%v", ev.Inconclusive)
	})
	for name, tc := range attacks {
		t.Run(name, func(t *testing.T) {
			ev := scan(t, tc.doc)
			assert.Contains(t, sr1FindingKeys(ev.Findings), tc.want)
			assert.Equal(t, auditor.Violated, ev.Controls[auditor.SR1])
		})
	}
}

// exampleWithoutDefect is the example's SR1 file without its deliberate defect (the last
// document, allow-search-evaluation).
func exampleWithoutDefect(t *testing.T) string {
	raw, err := os.ReadFile("../../examples/platform/10-sr1-network.yaml")
	require.NoError(t, err)
	docs := strings.Split(string(raw), "\n---\n")
	var kept []string
	for _, d := range docs {
		if !strings.Contains(d, "\n  name: allow-search-evaluation\n") {
			kept = append(kept, d)
		}
	}
	require.Len(t, kept, len(docs)-1, "the example's defect is the policy allow-search-evaluation")
	return strings.Join(kept, "\n---\n")
}

const anpTenantIntoServing = `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: tenant-into-serving}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: serving}}}
  ingress:
  - name: team-web
    action: Allow
    from: [{namespaces: {matchLabels: {llm-platform/team: web}}}]
    ports: [{portNumber: {protocol: TCP, port: 8000}}]
`

// calicoOf returns the example's calico-node DaemonSet document, to be replaced by a
// later copy (the later document wins, as with kubectl apply).
func calicoOf(t *testing.T) string {
	raw, err := os.ReadFile("../../examples/platform/10-sr1-network.yaml")
	require.NoError(t, err)
	for _, d := range strings.Split(string(raw), "\n---\n") {
		if strings.Contains(d, "kind: DaemonSet") && strings.Contains(d, "calico/node:v3.30.3") {
			return d + "\n"
		}
	}
	t.Fatal("the example's calico-node DaemonSet not found")
	return ""
}
