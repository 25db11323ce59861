package sr2

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// DRA objects as a cluster holds them (resource.k8s.io/v1).

const (
	draNvidiaClass = `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: gpu.nvidia.com}
spec:
  selectors:
  - cel: {expression: "device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'"}
`
	draNICClass = `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: nic}
spec:
  selectors:
  - cel: {expression: "device.driver == 'nic.example.com'"}
`
	// A class that names no driver: every device whose attributes fit, GPUs included.
	draAnyClass = `
apiVersion: resource.k8s.io/v1
kind: DeviceClass
metadata: {name: any}
`
	draTemplate = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: two-gpus, namespace: team-search}
spec:
  spec:
    devices:
      requests:
      - name: gpus
        exactly: {deviceClassName: gpu.nvidia.com, count: 2}
`
	draClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: shared-gpu, namespace: team-search}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: gpu.nvidia.com}
`
	draNICClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: nic, namespace: team-search}
spec:
  devices:
    requests:
    - name: nic
      exactly: {deviceClassName: nic}
`
	draAllClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: all-gpus, namespace: team-search}
spec:
  devices:
    requests:
    - name: gpus
      exactly: {deviceClassName: gpu.nvidia.com, allocationMode: All}
`
	// firstAvailable: a NIC if there is one, else a GPU.
	draFirstAvailableClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: nic-or-gpu, namespace: team-search}
spec:
  devices:
    requests:
    - name: dev
      firstAvailable:
      - {name: nic, deviceClassName: nic}
      - {name: gpu, deviceClassName: gpu.nvidia.com, count: 4}
`
	// Through the class without selectors, with the request's own selector.
	draSelectorClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: by-selector, namespace: team-search}
spec:
  devices:
    requests:
    - name: gpu
      exactly:
        deviceClassName: any
        selectors:
        - cel: {expression: "device.driver == 'gpu.nvidia.com'"}
`
	draOtherClassClaim = `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata: {name: site-gpu, namespace: team-search}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: site-gpus}
`
	draGPUSlice = `
apiVersion: resource.k8s.io/v1
kind: ResourceSlice
metadata: {name: node-1-gpu.nvidia.com-x}
spec:
  driver: gpu.nvidia.com
  nodeName: node-1
  pool: {name: node-1, generation: 1, resourceSliceCount: 1}
  devices:
  - {name: gpu-0, attributes: {type: {string: gpu}}}
  - {name: gpu-1, attributes: {type: {string: gpu}}}
`
)

// draClaimRef makes the pod take a claim by name (claim) or through a template.
func draClaimRef(name string, claim, template string) sr2PodOpt {
	return func(p *corev1.Pod) {
		c := corev1.PodResourceClaim{Name: name}
		if claim != "" {
			c.ResourceClaimName = ptr.To(claim)
		}
		if template != "" {
			c.ResourceClaimTemplateName = ptr.To(template)
		}
		p.Spec.ResourceClaims = append(p.Spec.ResourceClaims, c)
		p.Spec.Containers[0].Resources.Claims = append(p.Spec.Containers[0].Resources.Claims, corev1.ResourceClaim{Name: name})
	}
}

// A pod's DRA claims make it a GPU pod when a request's class (with the request's own
// selectors) can select a device of a GPU driver, or is a configured GPU class.
func TestGPUPodMissingQueueNameThroughDRA(t *testing.T) {
	cfg := auditor.DefaultConfig()
	cfg.SR2.GPUDeviceClasses = []string{"site-gpus"}
	classes := func(t *testing.T) []any {
		return []any{sr2Obj(t, draNvidiaClass), sr2Obj(t, draNICClass), sr2Obj(t, draAnyClass)}
	}
	tests := map[string]struct {
		objs         func(t *testing.T) []any
		want         []string
		contains     []string
		inconclusive []string
	}{
		"by template, class selects the GPU driver": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draTemplate), sr2Pod("team-search", "rogue", draClaimRef("gpus", "", "two-gpus")))
			},
			want: []string{"Pod/team-search/rogue high"},
			contains: []string{"pod requests 2 GPUs (claim gpus (ResourceClaimTemplate team-search/two-gpus), request gpus: 2 devices of DeviceClass gpu.nvidia.com " +
				"(its selectors can select devices of driver gpu.nvidia.com)) in Kueue-managed namespace team-search, but the pod does not carry label kueue.x-k8s.io/queue-name"},
		},
		"by claim name, count defaults to one": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draClaim), sr2Pod("team-search", "rogue", draClaimRef("gpu", "shared-gpu", "")))
			},
			want:     []string{"Pod/team-search/rogue high"},
			contains: []string{"pod requests 1 GPU (claim gpu (ResourceClaim team-search/shared-gpu), request gpu: 1 device of DeviceClass gpu.nvidia.com"},
		},
		"queue label present": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draTemplate), sr2Pod("team-search", "ok", draClaimRef("gpus", "", "two-gpus"), sr2Queue("search")))
			},
		},
		"not Kueue-managed": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draTemplate), sr2Pod("team-web", "free", draClaimRef("gpus", "", "two-gpus")))
			},
		},
		"non-GPU class": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draNICClaim), sr2Pod("team-search", "net", draClaimRef("nic", "nic", "")))
			},
		},
		"allocationMode All: count unknown": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draAllClaim), sr2Pod("team-search", "greedy", draClaimRef("gpus", "all-gpus", "")))
			},
			want:     []string{"Pod/team-search/greedy high"},
			contains: []string{"pod requests at least 1 GPU (a DRA request takes all matching devices: count unknown)", "all matching devices of its node (allocationMode All: count unknown)"},
		},
		"firstAvailable with a GPU alternative": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draFirstAvailableClaim), sr2Pod("team-search", "either", draClaimRef("dev", "nic-or-gpu", "")))
			},
			want:     []string{"Pod/team-search/either high"},
			contains: []string{"pod requests 4 GPUs (", "request dev: first available of subrequest gpu: 4 devices of DeviceClass gpu.nvidia.com"},
		},
		"class without selectors, the request's selector picks the GPU driver": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draSelectorClaim), sr2Pod("team-search", "sel", draClaimRef("gpu", "by-selector", "")))
			},
			want: []string{"Pod/team-search/sel high"}, contains: []string{"1 device of DeviceClass any (its selectors can select devices of driver gpu.nvidia.com)"},
		},
		"configured GPU class, not among the inputs": {
			objs: func(t *testing.T) []any {
				return []any{sr2Obj(t, draOtherClassClaim), sr2Pod("team-search", "site", draClaimRef("gpu", "site-gpu", ""))}
			},
			want: []string{"Pod/team-search/site high"}, contains: []string{"1 device of DeviceClass site-gpus (a configured GPU class)"},
		},
		"missing claim: unknown, not guessed": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Pod("team-search", "ghost", draClaimRef("gpu", "gone", "")))
			},
			inconclusive: []string{"pod team-search/ghost has no label kueue.x-k8s.io/queue-name and may take GPUs through Dynamic Resource Allocation: " +
				"claim gpu names ResourceClaim team-search/gone, which is not among the inputs: whether it takes GPUs is unknown"},
		},
		"missing class: unknown": {
			objs: func(t *testing.T) []any {
				return []any{sr2Obj(t, draClaim), sr2Pod("team-search", "noclass", draClaimRef("gpu", "shared-gpu", ""))}
			},
			inconclusive: []string{"pod team-search/noclass has no label kueue.x-k8s.io/queue-name and may take GPUs through Dynamic Resource Allocation: " +
				"claim gpu (ResourceClaim team-search/shared-gpu), request gpu: DeviceClass gpu.nvidia.com is not among the inputs"},
		},
		"missing claim but the pod carries a queue label: nothing to say": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Pod("team-search", "ghost", draClaimRef("gpu", "gone", ""), sr2Queue("search")))
			},
		},
		// The template was replaced by one asking for a NIC after the GPU claim was
		// generated for the pod: the pod runs with the generated claim.
		"template replaced: judged by the claim generated for the pod": {
			objs: func(t *testing.T) []any {
				return append(classes(t), draNICTemplate(t), draGeneratedClaim(t, "rogue", "uid-rogue"),
					sr2Pod("team-search", "rogue", draClaimRef("gpus", "", "two-gpus"), draClaimStatus("gpus", "rogue-gpus-x7k2p")))
			},
			want: []string{"Pod/team-search/rogue high"},
			contains: []string{"pod requests 1 GPU (claim gpus (ResourceClaim team-search/rogue-gpus-x7k2p generated from ResourceClaimTemplate two-gpus), " +
				"request gpu: 1 device of DeviceClass gpu.nvidia.com"},
		},
		"template deleted: judged by the claim generated for the pod": {
			objs: func(t *testing.T) []any {
				return append(classes(t), draGeneratedClaim(t, "rogue", "uid-rogue"),
					sr2Pod("team-search", "rogue", draClaimRef("gpus", "", "two-gpus"), draClaimStatus("gpus", "rogue-gpus-x7k2p")))
			},
			want: []string{"Pod/team-search/rogue high"},
		},
		// A status naming a claim the pod does not control (another pod's) is not the
		// claim it runs with (resourceclaim.IsForPod): the template decides.
		"status names another pod's claim: the template decides": {
			objs: func(t *testing.T) []any {
				return append(classes(t), draNICTemplate(t), draGeneratedClaim(t, "other", "uid-other"),
					sr2Pod("team-search", "rogue", draClaimRef("gpus", "", "two-gpus"), draClaimStatus("gpus", "rogue-gpus-x7k2p")))
			},
		},
		// A manifest (no UID): its status is not the cluster's.
		"manifest without a UID: the template decides": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draTemplate), draGeneratedClaim(t, "rogue", ""),
					sr2Pod("team-search", "rogue", draClaimRef("gpus", "", "two-gpus"), draClaimStatus("gpus", "rogue-gpus-x7k2p"),
						func(p *corev1.Pod) { p.UID = "" }))
			},
			want:     []string{"Pod/team-search/rogue high"},
			contains: []string{"claim gpus (ResourceClaimTemplate team-search/two-gpus)"},
		},
		"container GPUs and a DRA GPU add up": {
			objs: func(t *testing.T) []any {
				return append(classes(t), sr2Obj(t, draTemplate), sr2Pod("team-search", "both", sr2GPU(1), draClaimRef("gpus", "", "two-gpus")))
			},
			want:     []string{"Pod/team-search/both high"},
			contains: []string{"pod requests 3 GPUs (container main: nvidia.com/gpu=1, claim gpus (ResourceClaimTemplate team-search/two-gpus)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(snapshottest.At(sr2Now), snapshottest.Offline(), sr2Platform(), tc.objs(t))
			res := ruleFor(podMissingQueueName)(cfg).Evaluate(s)
			sr2AssertFindings(t, res, tc.want, tc.contains)
			for _, c := range tc.inconclusive {
				assert.Contains(t, res.Inconclusive, c)
			}
			if len(tc.inconclusive) == 0 {
				assert.Empty(t, res.Inconclusive)
			}
		})
	}
}

// Kueue-managed or not: a DRA GPU pod with a queue name and no admitted Workload is
// gpu-pod-not-admitted; with one, it is admitted.
func TestGPUPodNotAdmittedThroughDRA(t *testing.T) {
	pod := sr2Pod("team-search", "dra", draClaimRef("gpus", "", "two-gpus"), sr2Queue("search"))
	tests := map[string]struct {
		objs []any
		want []string
	}{
		"no Workload: runs outside quota": {objs: []any{sr2Obj(t, draNvidiaClass), sr2Obj(t, draTemplate), pod, sr2Workload(t, "v1beta2", "team-search", "other", "True")},
			want: []string{"Pod/team-search/dra high"}},
		"admitted Workload owned by the pod": {objs: []any{sr2Obj(t, draNvidiaClass), sr2Obj(t, draTemplate), pod,
			sr2Workload(t, "v1beta2", "team-search", "pod-dra", "True", "Pod", "dra", "uid-dra")}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, ruleFor(podNotAdmitted), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			sr2AssertFindings(t, res, tc.want, []string{})
		})
	}
}

// A gate that admits the battery's DRA-claim pod (its check reads container resources
// only): critical when a ResourceSlice publishes GPU devices or a GPU claim exists, low
// otherwise.
func TestGPUGateCoverageOfDRAClaims(t *testing.T) {
	const key = "ClusterPolicy/require-kueue-queue-name#dra-claims "
	limitsOnly := sr2Policy(t, sr2SetRule([]any{map[string]any{"key": "{{ request.object.spec.[containers, initContainers][][].resources.limits.keys(@)[] | [?starts_with(@, 'nvidia.com/') || @ == 'amd.com/gpu'] | length(@) }}",
		"operator": "GreaterThan", "value": 0}}, "validate", "deny", "conditions", "any"))
	tests := map[string]struct {
		policy   any
		objs     []any
		want     string
		contains string
	}{
		"a ResourceSlice publishes GPU devices": {objs: []any{sr2Obj(t, draGPUSlice)}, want: "critical",
			contains: "the cluster hands out GPUs through DRA: ResourceSlice node-1-gpu.nvidia.com-x (driver gpu.nvidia.com, 2 devices)"},
		"a GPU claim template exists": {objs: []any{sr2Obj(t, draNvidiaClass), sr2Obj(t, draTemplate)}, want: "critical",
			contains: "ResourceClaimTemplate team-search/two-gpus"},
		"only a NIC claim: hardening": {objs: []any{sr2Obj(t, draNICClass), sr2Obj(t, draNICClaim)}, want: "low",
			contains: "hardening: no ResourceSlice publishes devices of gpu.nvidia.com and no claim can get a GPU"},
		"DRA resources forbidden: hardening, said": {objs: []any{sr2Unavailable(auditor.ResourceResourceSlices, auditor.Forbidden)}, want: "low",
			contains: "whether the cluster hands out GPUs through DRA is unknown: resourceslices.resource.k8s.io is forbidden"},
		"the gate denies pods with spec.resourceClaims": {policy: sr2Policy(t), objs: []any{sr2Obj(t, draGPUSlice)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			policy := tc.policy
			if policy == nil {
				policy = limitsOnly
			}
			objs := append([]any{policy, sr2Webhooks(), sr2Lease(time.Second)}, tc.objs...)
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), objs))
			want := []string{}
			if tc.want != "" {
				want = []string{key + tc.want}
			}
			sr2AssertFindings(t, res, want, nil)
			if tc.contains != "" {
				assert.Contains(t, sr2Messages(res.Findings), tc.contains)
			}
		})
	}
}

// draNICTemplate is the template two-gpus replaced by one asking for a NIC.
func draNICTemplate(t *testing.T) any {
	return sr2Obj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: two-gpus, namespace: team-search}
spec:
  spec:
    devices:
      requests:
      - name: nic
        exactly: {deviceClassName: nic}
`)
}

// draGeneratedClaim is the claim the resource claim controller generated from a template
// for pod claim gpus of the pod (name, UID), asking for one GPU.
func draGeneratedClaim(t *testing.T, pod, uid string) any {
	return sr2Obj(t, `
apiVersion: resource.k8s.io/v1
kind: ResourceClaim
metadata:
  name: rogue-gpus-x7k2p
  namespace: team-search
  annotations: {resource.kubernetes.io/pod-claim-name: gpus}
  ownerReferences:
  - {apiVersion: v1, kind: Pod, name: `+pod+`, uid: '`+uid+`', controller: true, blockOwnerDeletion: true}
spec:
  devices:
    requests:
    - name: gpu
      exactly: {deviceClassName: gpu.nvidia.com}
`)
}

// draClaimStatus records the claim generated for a pod claim (status.resourceClaimStatuses).
func draClaimStatus(podClaim, claim string) sr2PodOpt {
	return func(p *corev1.Pod) {
		p.Status.ResourceClaimStatuses = append(p.Status.ResourceClaimStatuses, corev1.PodResourceClaimStatus{Name: podClaim, ResourceClaimName: ptr.To(claim)})
	}
}
