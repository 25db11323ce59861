package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

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
			contains: []string{"no Kueue Workload is owned by the pod or its controlling owners (Job/train)", `queue "search" (from Job/train)`},
			coverage: map[string]float64{"bypassing": 1},
		},
		"plain pod owning its Workload": {
			objs: []any{
				sr2Pod("team-search", "solo", sr2GPU(2), sr2Queue("search")),
				sr2Workload(t, "v1beta2", "team-search", "pod-solo-abcde", "True", "Pod", "solo", "uid-solo"),
			},
			coverage: map[string]float64{"admitted": 2},
		},
		"pod-group member among the group Workload's owners": {
			objs: []any{
				sr2Pod("team-search", "grp-0", sr2GPU(1), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/pod-group-name", "grp")),
				sr2Workload(t, "v1beta2", "team-search", "grp", "True", "Pod", "grp-0", "uid-grp-0", "Pod", "grp-1", "uid-grp-1"),
			},
			coverage: map[string]float64{"admitted": 1},
		},
		// Side door: a pod Kueue never managed carries the group label of another group's
		// admitted Workload; Kueue would have made it an owner.
		"group label naming another group's admitted Workload": {
			objs: []any{
				sr2Pod("team-search", "intruder", sr2GPU(4), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/pod-group-name", "grp")),
				sr2Workload(t, "v1beta2", "team-search", "grp", "True", "Pod", "grp-1", "uid-grp-1"),
			},
			want:     []string{"Pod/team-search/intruder high"},
			contains: []string{"pod requests 4 GPUs", "its label kueue.x-k8s.io/pod-group-name names Workload team-search/grp, which does not list the pod among its owners"},
			coverage: map[string]float64{"bypassing": 4},
		},
		"prebuilt Workload the pod controls": {
			objs: []any{
				sr2Pod("team-search", "pre-0", sr2GPU(1), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/prebuilt-workload-name", "pre")),
				sr2Obj(t, `
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: {namespace: team-search, name: pre, ownerReferences: [{apiVersion: v1, kind: Pod, name: pre-0, uid: uid-pre-0, controller: true}]}
spec: {queueName: search}
status: {conditions: [{type: Admitted, status: "True", reason: Admitted}]}
`),
			},
			coverage: map[string]float64{"admitted": 1},
		},
		// Side door: the prebuilt label points at another pod's admitted Workload. Kueue
		// ignores a prebuilt Workload another object controls.
		"prebuilt label naming another pod's admitted Workload": {
			objs: []any{
				sr2Pod("team-search", "intruder", sr2GPU(1), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/prebuilt-workload-name", "pre")),
				sr2Obj(t, `
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: {namespace: team-search, name: pre, ownerReferences: [{apiVersion: v1, kind: Pod, name: pre-0, uid: uid-pre-0, controller: true}]}
spec: {queueName: search}
status: {conditions: [{type: Admitted, status: "True", reason: Admitted}]}
`),
			},
			want:     []string{"Pod/team-search/intruder high"},
			contains: []string{"pod requests 1 GPU (", "its label kueue.x-k8s.io/prebuilt-workload-name names Workload team-search/pre, which belongs to Pod/pre-0, not this pod"},
			coverage: map[string]float64{"bypassing": 1},
		},
		"prebuilt label naming a Workload that does not exist": {
			objs:     []any{sr2Pod("team-search", "intruder", sr2GPU(1), sr2Queue("search"), sr2Labels("kueue.x-k8s.io/prebuilt-workload-name", "ghost"))},
			want:     []string{"Pod/team-search/intruder high"},
			contains: []string{"names Workload ghost, which is not in the namespace"},
		},
		// Side door: a bare pod names the admitted Job as a plain owner. Kueue follows
		// only the controller reference.
		"non-controller owner reference to an admitted Job": {
			objs: []any{
				job, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "True", "Job", "train", "job-uid"),
				sr2Pod("team-search", "intruder", sr2GPU(2), sr2Queue("search"), sr2PlainOwnedBy("Job", "train", "job-uid", nil)),
			},
			want: []string{"Pod/team-search/intruder high"},
			contains: []string{"no Kueue Workload is owned by the pod:",
				"its owner reference to Job/train is not a controller reference, and Kueue counts only the controller"},
			coverage: map[string]float64{"bypassing": 2},
		},
		"owner reference with controller: false to an admitted Job": {
			objs: []any{
				job, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "True", "Job", "train", "job-uid"),
				sr2Pod("team-search", "intruder", sr2GPU(1), sr2Queue("search"), sr2PlainOwnedBy("Job", "train", "job-uid", new(bool))),
			},
			want:     []string{"Pod/team-search/intruder high"},
			contains: []string{"Job/train is not a controller reference"},
		},
		"controller reference beside a plain one: the controller counts": {
			objs: []any{
				job, sr2Workload(t, "v1beta2", "team-search", "job-train-1a2b3", "True", "Job", "train", "job-uid"),
				sr2Pod("team-search", "train-y", sr2GPU(1), sr2PlainOwnedBy("Deployment", "other", "dep-uid", nil), sr2OwnedBy("Job", "train", "job-uid")),
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
			s := snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs)
			res := sr2Eval(t, ruleFor(podNotAdmitted), s)
			sr2AssertFindings(t, res, tc.want, tc.contains)
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
	s := snapshottest.New(snapshottest.At(sr2Now), sr2Platform(),
		sr2Pod("team-research", "solo", sr2GPU(2), sr2Queue("research")),
		sr2Workload(t, "v1beta2", "team-research", "pod-solo", "True", "Pod", "solo", "uid-solo"),
		sr2Pod("team-research", "waiting", sr2GPU(4), sr2Queue("research"), sr2Gated()),
		sr2Pod("team-search", "rogue", sr2Requests("nvidia.com/mig-1g.10gb", 1)),
		sr2Pod("team-search", "unadmitted", sr2GPU(1), sr2Queue("search")),
		sr2Pod("serving", "vllm-0", sr2GPU(8)),
		sr2Pod("serving", "vllm-1", sr2GPU(8)),
		sr2Pod("team-web", "cpu", sr2Requests("cpu", 2)),
	)
	res := sr2Eval(t, ruleFor(podNotAdmitted), s)
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
