package sr2

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// podMissingQueueName: a running GPU pod in a Kueue-managed namespace with no queue
// name on itself or its controlling owners bypasses Kueue quota and fair share.
func podMissingQueueName(cfg auditor.Config) check {
	label := cfg.SR2.QueueNameLabel
	meta := auditor.RuleMeta{
		ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU pod without a Kueue queue name in a Kueue-managed namespace",
		Pass:  "every GPU pod of a Kueue-managed namespace carries a queue name",
		Remediation: fmt.Sprintf("Set the label %s=<local-queue> on the pod's top-level workload (Job, JobSet, RayCluster, ...) "+
			"so Kueue admits it against quota; delete the running pod; then check why the admission gate %s let it in.",
			label, strings.Join(cfg.SR2.GatePolicyNames, ", ")),
	}
	return perGPUPod(cfg, meta, func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, gp := range v.pods() {
			// A pod Kueue gates is held until admitted: it waits, it does not bypass.
			if !gp.InScope || gp.Gated || gp.Queue.Queue != "" {
				continue
			}
			p := gp.Pod
			if hidden := unresolvedOwnerHidden(s, gp.Queue); hidden != "" {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("pod %s/%s: its owner %s is not visible (%s); the queue label may be there",
					p.Namespace, p.Name, chainString(gp.Queue.Chain[len(gp.Queue.Chain)-1:]), hidden))
				continue
			}
			missing := "the pod does not carry label " + label
			if len(gp.Queue.Chain) > 0 {
				missing = fmt.Sprintf("neither the pod nor its owners (%s) carry label %s", chainString(gp.Queue.Chain), label)
			}
			msg := fmt.Sprintf("pod requests %s (%s) in Kueue-managed namespace %s, but %s: it bypasses Kueue quota",
				gp.Demand.count(), gp.Demand.where(), p.Namespace, missing)
			if gp.Queue.Unresolved {
				msg += fmt.Sprintf(" (owner %s is not in the snapshot)", chainString(gp.Queue.Chain[len(gp.Queue.Chain)-1:]))
			}
			if plain := plainOwners(p); len(plain) > 0 {
				msg += fmt.Sprintf("; its owner reference to %s is not a controller reference, and Kueue reads the queue name only through the controller", strings.Join(plain, ", "))
			}
			if _, ok := p.Annotations[label]; ok {
				msg += fmt.Sprintf("; it has an annotation %s, which Kueue no longer reads (v0.15 reads only the label)", label)
			}
			res.Findings = append(res.Findings, meta.NewFinding(family.PodRef(p), msg))
		}
		// A pod without a queue name whose DRA claims cannot be resolved may be a GPU pod:
		// say so rather than guess.
		for _, gp := range v.undecided() {
			if gp.Gated || gp.Queue.Queue != "" {
				continue
			}
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("pod %s/%s has no label %s and may take GPUs through Dynamic Resource Allocation: %s",
				gp.Pod.Namespace, gp.Pod.Name, label, strings.Join(gp.Demand.Claims.Unknown, "; ")))
		}
		return res
	})
}
