package sr2

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// sr2CleanPlatform is the documented platform without its deliberate SR2 defect, on
// Nodes that offer nvidia.com/gpu, plus the extra manifests given.
func sr2CleanPlatform(t *testing.T, extra string) *auditor.Snapshot {
	t.Helper()
	objs, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/20-sr2-gpu.yaml"}, nil)
	require.NoError(t, err)
	var keep []manifests.Object
	for _, o := range objs {
		if o.GetKind() == "Pod" && o.GetName() == "adhoc-mig-notebook" {
			continue // the deliberate defect: a pod on a MIG slice these Nodes do not offer
		}
		keep = append(keep, o)
	}
	require.Len(t, keep, len(objs)-1)
	if extra != "" {
		more, err := manifests.Decode("attack.yaml", strings.NewReader(extra))
		require.NoError(t, err)
		keep = append(keep, more...)
	}
	s, err := manifests.Snapshot(keep)
	require.NoError(t, err)
	s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.Availability[auditor.ResourceNodes] = auditor.Availability{State: auditor.Synced}
	s.Nodes = []*corev1.Node{sr2Node("gpu-h100-1", "nvidia.com/gpu", 8), sr2Node("gpu-h100-2", "nvidia.com/gpu", 8), sr2Node("cpu-1", "", 0)}
	return s
}

// TestSR2ExampleSideDoors adds, one at a time, a pod that takes GPUs beside the gate to
// the documented platform with its defect removed: each turns SR2 violated with a finding
// of medium or worse that names the pod and the reason.
func TestSR2ExampleSideDoors(t *testing.T) {
	const intruder = `apiVersion: v1
kind: Pod
metadata:
  name: intruder
  namespace: %s
  labels: {%s}
%s
spec:
  containers:
  - name: main
    image: busybox
    resources:
      limits: {%s: "2"}
`
	attacks := map[string]struct {
		doc      string
		contains []string
		nodes    []*corev1.Node // replace the platform's Nodes
		also     []string       // other rules expected above low
	}{
		"plain owner reference to the admitted Job": {
			doc: fmt.Sprintf(intruder, "team-research", "kueue.x-k8s.io/queue-name: research", `  ownerReferences:
  - {apiVersion: batch/v1, kind: Job, name: llama-finetune, uid: 6d1f8a52-3b7e-4c1e-9a0f-1c2d3e4f5a60}`, "nvidia.com/gpu"),
			contains: []string{"its owner reference to Job/llama-finetune is not a controller reference"},
		},
		"plain owner reference to the Job that carries the queue label": {
			doc: fmt.Sprintf(intruder, "team-research", "", `  ownerReferences:
  - {apiVersion: batch/v1, kind: Job, name: llama-finetune, uid: 6d1f8a52-3b7e-4c1e-9a0f-1c2d3e4f5a60, controller: false}`, "nvidia.com/gpu"),
			contains: []string{"the pod does not carry label kueue.x-k8s.io/queue-name", "Job/llama-finetune is not a controller reference"},
		},
		"prebuilt label naming another pod's admitted Workload": {
			doc:      fmt.Sprintf(intruder, "team-search", "kueue.x-k8s.io/queue-name: search, kueue.x-k8s.io/prebuilt-workload-name: pod-embeddings-eval-5b2d7", "", "nvidia.com/gpu"),
			contains: []string{"names Workload team-search/pod-embeddings-eval-5b2d7, which belongs to Pod/embeddings-eval, not this pod"},
		},
		"pod-group label naming another pod's admitted Workload": {
			doc:      fmt.Sprintf(intruder, "team-search", "kueue.x-k8s.io/queue-name: search, kueue.x-k8s.io/pod-group-name: pod-embeddings-eval-5b2d7", "", "nvidia.com/gpu"),
			contains: []string{"names Workload team-search/pod-embeddings-eval-5b2d7, which belongs to Pod/embeddings-eval"},
		},
		// A committed status says nothing: the API server resets it on create, so the
		// manifest's pod is judged as it will run.
		"GPU pod manifest claiming status.phase Succeeded": {
			doc:      fmt.Sprintf(intruder, "team-search", "app: notebook", "", "nvidia.com/gpu") + "status: {phase: Succeeded}\n",
			contains: []string{"does not carry label kueue.x-k8s.io/queue-name"},
		},
		// Time-slicing with renameByDefault: the Nodes offer nvidia.com/gpu.shared, which
		// the gate (naming nvidia.com/gpu) does not check.
		"GPUs under NVIDIA's time-slicing rename": {
			doc:      fmt.Sprintf(intruder, "team-search", "app: notebook", "", "nvidia.com/gpu.shared"),
			contains: []string{"nvidia.com/gpu.shared=2", "does not carry label kueue.x-k8s.io/queue-name"},
			nodes:    []*corev1.Node{sr2Node("gpu-h100-1", "nvidia.com/gpu.shared", 32), sr2Node("cpu-1", "", 0)},
			also:     []string{"gpu-gate-policy-not-enforcing"},
		},
		// Dynamic Resource Allocation: two GPUs through a claim template, nothing in the
		// container's resources.
		"GPUs through a DRA claim template": {
			doc: `apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu.nvidia.com}
spec:
  selectors:
  - cel: {expression: "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'"}
---
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: two-gpus, namespace: team-search}
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly: {deviceClassName: gpu.nvidia.com, count: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: intruder, namespace: team-search, labels: {app: notebook}}
spec:
  resourceClaims:
  - {name: gpus, resourceClaimTemplateName: two-gpus}
  containers:
  - name: main
    image: busybox
    resources:
      claims: [{name: gpus}]
`,
			contains: []string{"claim gpus (ResourceClaimTemplate team-search/two-gpus), request gpus: 2 devices of DeviceClass gpu.nvidia.com", "does not carry label kueue.x-k8s.io/queue-name"},
		},
	}
	for name, a := range attacks {
		t.Run(name, func(t *testing.T) {
			s := sr2CleanPlatform(t, a.doc)
			if a.nodes != nil {
				s.Nodes = a.nodes
			}
			var pod *auditor.Finding
			var others []string
			for _, r := range Rules(auditor.DefaultConfig()) {
				for _, f := range r.Evaluate(s).Findings {
					if f.Severity <= auditor.SeverityLow {
						continue
					}
					if f.Object != nil && f.Object.Name == "intruder" {
						require.Nil(t, pod, "one finding on the pod")
						pod = &f
						continue
					}
					others = append(others, f.Rule)
				}
			}
			require.NotNil(t, pod, "no finding names the intruder")
			assert.GreaterOrEqual(t, pod.Severity, auditor.SeverityMedium)
			assert.Contains(t, pod.Message, "requests 2 GPUs")
			for _, c := range a.contains {
				assert.Contains(t, pod.Message, c)
			}
			assert.ElementsMatch(t, a.also, others)
		})
	}
}

// The shipped example must show exactly its two deliberate SR2 defects, offline.
func TestSR2Example(t *testing.T) {
	objs, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/20-sr2-gpu.yaml"}, nil)
	require.NoError(t, err)
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	var findings []string
	var inconclusive []string
	facts := map[string]float64{}
	for _, r := range Rules(auditor.DefaultConfig()) {
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

// TestSR2DocumentedPlatformOnNvidiaNodes is the documented platform without its
// deliberate MIG pod, on Nodes that offer only nvidia.com/gpu: the seed's gate, which
// names nvidia.com/gpu only, leaves no GPU resource of this cluster unchecked, so its
// coverage gap is hardening (low) and nothing is reported above low.
// A pod read from a cluster (uid, resourceVersion, creationTimestamp) keeps its status: a
// Succeeded pod holds no GPU and is not judged.
func TestSR2ExampleClusterDumpKeepsStatus(t *testing.T) {
	s := sr2CleanPlatform(t, `apiVersion: v1
kind: Pod
metadata:
  name: finished
  namespace: team-search
  uid: 5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b
  resourceVersion: "512"
  creationTimestamp: "2026-03-01T06:00:00Z"
spec:
  containers:
  - {name: main, image: busybox, resources: {limits: {nvidia.com/gpu: "2"}}}
status: {phase: Succeeded}
`)
	for _, r := range Rules(auditor.DefaultConfig()) {
		for _, f := range r.Evaluate(s).Findings {
			assert.LessOrEqual(t, f.Severity, auditor.SeverityLow, "%s %s: %s", f.Rule, f.Object, f.Message)
		}
	}
}

func TestSR2DocumentedPlatformOnNvidiaNodes(t *testing.T) {
	s := sr2CleanPlatform(t, "")
	var gate []auditor.Finding
	for _, r := range Rules(auditor.DefaultConfig()) {
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
