package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestGPUPodMissingQueueName(t *testing.T) {
	queueJob := sr2Owner("team-search", "Job", "train", "job-uid", map[string]string{"kueue.x-k8s.io/queue-name": "search"})
	tests := map[string]struct {
		objs         []any
		want         []string // finding objects
		contains     []string // message fragments
		inconclusive bool
	}{
		"unlabelled GPU pod in a managed namespace": {
			objs:     []any{sr2Pod("team-search", "rogue", sr2GPU(2))},
			want:     []string{"Pod/team-search/rogue high"},
			contains: []string{"requests 2 GPU (container main: nvidia.com/gpu=2) in Kueue-managed namespace team-search, but the pod does not carry label kueue.x-k8s.io/queue-name"},
		},
		"label on the pod": {objs: []any{sr2Pod("team-search", "ok", sr2GPU(1), sr2Queue("search"))}},
		"label on the controlling Job": {
			objs: []any{queueJob, sr2Pod("team-search", "train-x", sr2GPU(1), sr2OwnedBy("Job", "train", "job-uid"))},
		},
		"label on the JobSet above the Job": {
			objs: []any{
				sr2Owner("team-search", "Job", "ls-0", "j0", nil, sr2Ctrl("JobSet", "ls", "js")),
				sr2Owner("team-search", "JobSet", "ls", "js", map[string]string{"kueue.x-k8s.io/queue-name": "search"}),
				sr2Pod("team-search", "ls-0-a", sr2GPU(1), sr2OwnedBy("Job", "ls-0", "j0")),
			},
		},
		"owner chain without the label names it": {
			objs: []any{
				sr2Owner("team-search", "Job", "train", "j1", nil),
				sr2Pod("team-search", "train-x", sr2GPU(1), sr2OwnedBy("Job", "train", "j1")),
			},
			want:     []string{"Pod/team-search/train-x high"},
			contains: []string{"neither the pod nor its owners (Job/train) carry label kueue.x-k8s.io/queue-name"},
		},
		"queue key as an annotation does not count": {
			objs: []any{sr2Pod("team-search", "annotated", sr2GPU(1), func(p *corev1.Pod) {
				p.Annotations = map[string]string{"kueue.x-k8s.io/queue-name": "search"}
			})},
			want:     []string{"Pod/team-search/annotated high"},
			contains: []string{"annotation kueue.x-k8s.io/queue-name, which Kueue no longer reads"},
		},
		"MIG slice": {
			objs:     []any{sr2Pod("team-search", "mig", sr2Requests("nvidia.com/mig-3g.40gb", 1))},
			want:     []string{"Pod/team-search/mig high"},
			contains: []string{"nvidia.com/mig-3g.40gb=1"},
		},
		"AMD GPU": {
			objs: []any{sr2Pod("team-search", "amd", sr2Requests("amd.com/gpu", 1))},
			want: []string{"Pod/team-search/amd high"},
		},
		"limit only": {
			objs: []any{sr2Pod("team-search", "lim", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": sr2Qty(1)}
			})},
			want: []string{"Pod/team-search/lim high"},
		},
		"GPU in an init container": {
			objs: []any{sr2Pod("team-search", "init", func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "warm", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(1)}}}}
			})},
			want:     []string{"Pod/team-search/init high"},
			contains: []string{"init container warm"},
		},
		"GPU in an ephemeral container": {
			objs: []any{sr2Pod("team-search", "eph", func(p *corev1.Pod) {
				p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
					Name: "dbg", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(1)}}}}}
			})},
			want: []string{"Pod/team-search/eph high"},
		},
		"GPU in pod-level resources": {
			objs: []any{sr2Pod("team-search", "podlevel", func(p *corev1.Pod) {
				p.Spec.Resources = &corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": sr2Qty(1)}}
			})},
			want: []string{"Pod/team-search/podlevel high"},
		},
		"non-GPU extended resource": {objs: []any{sr2Pod("team-search", "fpga", sr2Requests("example.com/fpga", 1))}},
		"CPU-only pod":              {objs: []any{sr2Pod("team-search", "cpu", sr2Requests("cpu", 8))}},
		"succeeded pod":             {objs: []any{sr2Pod("team-search", "done", sr2GPU(1), sr2Phase(corev1.PodSucceeded))}},
		"failed pod":                {objs: []any{sr2Pod("team-search", "crashed", sr2GPU(1), sr2Phase(corev1.PodFailed))}},
		"pending pod still counts":  {objs: []any{sr2Pod("team-search", "pend", sr2GPU(1), sr2Phase(corev1.PodPending))}, want: []string{"Pod/team-search/pend high"}},
		"gated by Kueue: waiting, not bypassing": {
			objs: []any{sr2Pod("team-search", "gated", sr2GPU(1), sr2Gated())},
		},
		"excluded namespace serving, although labelled": {objs: []any{sr2Pod("serving", "vllm", sr2GPU(8))}},
		"namespace not managed":                         {objs: []any{sr2Pod("team-web", "gpu", sr2GPU(1))}},
		"namespace unknown":                             {objs: []any{sr2Pod("nowhere", "gpu", sr2GPU(1))}},
		"owner not in the snapshot is named": {
			objs:     []any{sr2Pod("team-search", "rc-head", sr2GPU(1), sr2OwnedBy("RayCluster", "rc", "r1"))},
			want:     []string{"Pod/team-search/rc-head high"},
			contains: []string{"owner RayCluster/rc is not in the snapshot"},
		},
		"owner of a forbidden resource: inconclusive, not a finding": {
			objs: []any{
				sr2Pod("team-search", "js-pod", sr2GPU(1), sr2OwnedBy("Job", "js-0", "j0")),
				sr2Unavailable(auditor.ResourceJobs, auditor.Forbidden),
			},
			inconclusive: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := sr2Snap(t, append(sr2Platform(), tc.objs...)...)
			res := sr2Eval(t, GPUPodMissingQueueName, s)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings))
			for _, c := range tc.contains {
				assert.Contains(t, sr2Messages(res.Findings), c)
			}
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
}

func sr2Workload(t *testing.T, version, ns, name, admitted string, owners ...string) any {
	doc := "apiVersion: kueue.x-k8s.io/" + version + "\nkind: Workload\nmetadata:\n  namespace: " + ns + "\n  name: " + name + "\n"
	if len(owners) > 0 {
		doc += "  ownerReferences:\n"
		for i := 0; i+2 < len(owners); i += 3 {
			doc += "  - {apiVersion: v1, kind: " + owners[i] + ", name: " + owners[i+1] + ", uid: '" + owners[i+2] + "'}\n"
		}
	}
	doc += "spec:\n  queueName: search\n"
	if admitted != "" {
		doc += "status:\n  admission: {clusterQueue: gpu}\n  conditions:\n  - {type: QuotaReserved, status: 'True'}\n  - {type: Admitted, status: '" + admitted + "', reason: Test}\n"
	}
	return sr2Obj(t, doc)
}

func TestGPUPodNotAdmitted(t *testing.T) {
	job := sr2Owner("team-search", "Job", "train", "job-uid", map[string]string{"kueue.x-k8s.io/queue-name": "search"})
	jobPod := sr2Pod("team-search", "train-x", sr2GPU(1), sr2OwnedBy("Job", "train", "job-uid"))
	tests := map[string]struct {
		objs         []any
		want         []string
		contains     []string
		inconclusive bool
		coverage     map[string]float64 // team-search coverage -> GPUs
	}{
		"Job pod with an admitted Workload owned by the Job (UID)": {
			objs:     []any{job, jobPod, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "True", "Job", "train", "job-uid")},
			coverage: map[string]float64{"admitted": 1},
		},
		"v1beta1 Workload matched by kind and name when the manifest has no UID": {
			objs:     []any{job, jobPod, sr2Workload(t, "v1beta1", "team-search", "job-train-1a2b3", "True", "Job", "train", "")},
			coverage: map[string]float64{"admitted": 1},
		},
		"Workload of an earlier Job with the same name (other UID) does not cover": {
			objs:     []any{job, jobPod, sr2Workload(t, "v1beta2", "team-search", "job-train-old", "True", "Job", "train", "old-uid")},
			want:     []string{"Pod/team-search/train-x high"},
			contains: []string{"no Kueue Workload is owned by the pod or its owners (Job/train)", `queue "search" (from Job/train)`},
			coverage: map[string]float64{"bypassing": 1},
		},
		"plain pod owning its Workload": {
			objs: []any{
				sr2Pod("team-search", "solo", sr2GPU(2), sr2Queue("search")),
				sr2Workload(t, "v1beta2", "team-search", "pod-solo-abcde", "True", "Pod", "solo", "uid-solo"),
			},
			coverage: map[string]float64{"admitted": 2},
		},
		"pod-group member named by its group label": {
			objs: []any{
				sr2Pod("team-search", "grp-0", sr2GPU(1), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/pod-group-name", "grp")),
				sr2Workload(t, "v1beta2", "team-search", "grp", "True", "Pod", "grp-1", "uid-grp-1"),
			},
			coverage: map[string]float64{"admitted": 1},
		},
		"Workload not admitted": {
			objs:     []any{job, jobPod, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "False", "Job", "train", "job-uid")},
			want:     []string{"Pod/team-search/train-x high"},
			contains: []string{"Workload team-search/job-train-1a2b3 Admitted=False, reason Test"},
			coverage: map[string]float64{"bypassing": 1},
		},
		"Workload without status": {
			objs:     []any{job, jobPod, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "", "Job", "train", "job-uid")},
			want:     []string{"Pod/team-search/train-x high"},
			contains: []string{"Admitted=absent"},
		},
		"no Workload at all: Kueue does not manage the pod": {
			objs:     []any{sr2Pod("team-search", "solo", sr2GPU(1), sr2Queue("search"))},
			want:     []string{"Pod/team-search/solo high"},
			contains: []string{"Kueue does not manage it"},
		},
		"Workload in another namespace does not cover": {
			objs: []any{
				sr2Pod("team-search", "solo", sr2GPU(1), sr2Queue("search")),
				sr2Workload(t, "v1beta2", "team-research", "pod-solo", "True", "Pod", "solo", ""),
			},
			want: []string{"Pod/team-search/solo high"},
		},
		"gated pod waits for admission": {
			objs:     []any{sr2Pod("team-search", "solo", sr2GPU(1), sr2Queue("search"), sr2Gated())},
			coverage: map[string]float64{"pending": 1},
		},
		"pod without queue name is the other rule's finding": {
			objs:     []any{sr2Pod("team-search", "rogue", sr2GPU(3))},
			coverage: map[string]float64{"bypassing": 3},
		},
		"terminated pod is not judged": {
			objs:     []any{sr2Pod("team-search", "done", sr2GPU(1), sr2Queue("search"), sr2Phase(corev1.PodSucceeded))},
			coverage: map[string]float64{},
		},
		"Workloads not visible: inconclusive, counted as admitted": {
			objs: []any{
				sr2Pod("team-search", "solo", sr2GPU(1), sr2Queue("search")),
				sr2Unavailable(auditor.ResourceKueueWorkloads, auditor.NotServed),
			},
			inconclusive: true,
			coverage:     map[string]float64{"admitted": 1},
		},
		"Workloads not visible but nothing to check": {
			objs: []any{sr2Pod("team-search", "rogue", sr2GPU(1)), sr2Unavailable(auditor.ResourceKueueWorkloads, auditor.Forbidden)},
		},
		"malformed Workload conditions: named, and the pod is not covered": {
			objs: []any{job, jobPod, sr2Obj(t, `
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: {namespace: team-search, name: job-train-x, ownerReferences: [{apiVersion: batch/v1, kind: Job, name: train, uid: job-uid}]}
spec: {queueName: [search]}
status: {conditions: "Admitted"}
`)},
			want:         []string{"Pod/team-search/train-x high"},
			inconclusive: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := sr2Snap(t, append(sr2Platform(), tc.objs...)...)
			res := sr2Eval(t, GPUPodNotAdmitted, s)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings))
			for _, c := range tc.contains {
				assert.Contains(t, sr2Messages(res.Findings), c)
			}
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
			if tc.coverage != nil {
				got := map[string]float64{}
				for _, f := range res.Facts {
					if f.Labels[0].Value == "team-search" && f.Value != 0 {
						got[f.Labels[1].Value] = f.Value
					}
				}
				assert.Equal(t, tc.coverage, got)
			}
		})
	}
}

func TestGPUAccountingFacts(t *testing.T) {
	s := sr2Snap(t, sr2Platform(),
		sr2Pod("team-research", "solo", sr2GPU(2), sr2Queue("research")),
		sr2Workload(t, "v1beta2", "team-research", "pod-solo", "True", "Pod", "solo", "uid-solo"),
		sr2Pod("team-research", "waiting", sr2GPU(4), sr2Queue("research"), sr2Gated()),
		sr2Pod("team-search", "rogue", sr2Requests("nvidia.com/mig-1g.10gb", 1)),
		sr2Pod("team-search", "unadmitted", sr2GPU(1), sr2Queue("search")),
		sr2Pod("serving", "vllm-0", sr2GPU(8)),
		sr2Pod("serving", "vllm-1", sr2GPU(8)),
		sr2Pod("team-web", "cpu", sr2Requests("cpu", 2)),
	)
	res := sr2Eval(t, GPUPodNotAdmitted, s)
	type row struct {
		ns, cov string
		v       float64
	}
	var got []row
	for _, f := range res.Facts {
		require.Equal(t, "gpu_requested", f.Metric)
		require.Len(t, f.Labels, 2)
		require.Equal(t, "namespace", f.Labels[0].Name)
		require.Equal(t, "coverage", f.Labels[1].Name)
		got = append(got, row{f.Labels[0].Value, f.Labels[1].Value, f.Value})
	}
	assert.Equal(t, []row{
		{"serving", "out_of_scope", 16},
		{"team-research", "admitted", 2},
		{"team-research", "bypassing", 0},
		{"team-research", "pending", 4},
		{"team-search", "admitted", 0},
		{"team-search", "bypassing", 2},
		{"team-search", "pending", 0},
	}, got)
}

func TestGPUGateBypassed(t *testing.T) {
	at := sr2Now.Add(-30 * time.Second)
	tests := map[string]struct {
		probes       []any
		want         []string
		inconclusive bool
		facts        map[string]float64 // "ns/result" -> value, plus "ns/ts"
	}{
		"probing off": {},
		"admitted": {
			probes: []any{auditor.AdmissionProbeResult{Namespace: "team-search", Admitted: true, At: at}},
			want:   []string{"Namespace/team-search critical"},
			facts:  map[string]float64{"team-search/admitted": 1, "team-search/denied": 0, "team-search/error": 0, "team-search/ts": float64(at.Unix())},
		},
		"denied": {
			probes: []any{auditor.AdmissionProbeResult{Namespace: "team-search", DeniedBy: `admission webhook "validate.kyverno.svc-fail" denied the request`, At: at}},
			facts:  map[string]float64{"team-search/admitted": 0, "team-search/denied": 1, "team-search/error": 0, "team-search/ts": float64(at.Unix())},
		},
		"error is inconclusive": {
			probes:       []any{auditor.AdmissionProbeResult{Namespace: "team-search", Error: "pods is forbidden: cannot create", At: at}},
			inconclusive: true,
			facts:        map[string]float64{"team-search/admitted": 0, "team-search/denied": 0, "team-search/error": 1, "team-search/ts": float64(at.Unix())},
		},
		"one admitted, one denied; no time, no timestamp fact": {
			probes: []any{
				auditor.AdmissionProbeResult{Namespace: "team-search", Admitted: true},
				auditor.AdmissionProbeResult{Namespace: "team-research", DeniedBy: "denied"},
			},
			want: []string{"Namespace/team-search critical"},
			facts: map[string]float64{"team-search/admitted": 1, "team-search/denied": 0, "team-search/error": 0,
				"team-research/admitted": 0, "team-research/denied": 1, "team-research/error": 0},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := sr2Snap(t, append(sr2Platform(), tc.probes...)...)
			res := sr2Eval(t, GPUGateBypassed, s)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings))
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0)
			got := map[string]float64{}
			for _, f := range res.Facts {
				switch f.Metric {
				case "admission_probe_result":
					got[f.Labels[0].Value+"/"+f.Labels[1].Value] = f.Value
				case "admission_probe_last_run_timestamp_seconds":
					got[f.Labels[0].Value+"/ts"] = f.Value
				default:
					t.Errorf("unexpected fact %s", f.Metric)
				}
			}
			if tc.facts == nil {
				tc.facts = map[string]float64{}
			}
			assert.Equal(t, tc.facts, got)
		})
	}
}
