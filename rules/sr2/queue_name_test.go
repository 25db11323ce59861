package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
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
			contains: []string{"requests 2 GPUs (container main: nvidia.com/gpu=2) in Kueue-managed namespace team-search, but the pod does not carry label kueue.x-k8s.io/queue-name"},
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
		// Side door: the queue label on a Job the pod names only as a plain owner.
		"queue label on a Job named by a non-controller reference does not count": {
			objs:     []any{queueJob, sr2Pod("team-search", "intruder", sr2GPU(1), sr2PlainOwnedBy("Job", "train", "job-uid", nil))},
			want:     []string{"Pod/team-search/intruder high"},
			contains: []string{"requests 1 GPU (", "the pod does not carry label kueue.x-k8s.io/queue-name", "its owner reference to Job/train is not a controller reference"},
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
			s := snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs)
			res := sr2Eval(t, ruleFor(podMissingQueueName), s)
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
}
