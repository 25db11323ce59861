package rules

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

type metav1OwnerReference = metav1.OwnerReference

// sr2Rules: GPU quota (queue names, Kueue admission, the Kyverno gate).
func sr2Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{GPUPodMissingQueueName(cfg)}
}

// GPUPodMissingQueueName: a running GPU pod in a Kueue-managed namespace with no queue
// name on itself or its controlling owners bypasses Kueue quota and fair share.
func GPUPodMissingQueueName(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	meta := auditor.RuleMeta{
		ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU pod without a Kueue queue name in a Kueue-managed namespace",
		Remediation: fmt.Sprintf("Set the label %s=<local-queue> on the pod's top-level workload (Job, JobSet, RayCluster, ...) "+
			"so Kueue admits it against quota; delete the running pod; then check why the admission gate %s let it in.",
			cfg.SR2.QueueNameLabel, strings.Join(cfg.SR2.GatePolicyNames, ", ")),
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourcePods, auditor.ResourceJobs, auditor.ResourceReplicaSets, auditor.ResourceStatefulSets},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, ns := range g.managedNamespaces(s) {
			for _, p := range s.PodsIn(ns.Name) {
				if terminated(p) {
					continue
				}
				d := g.podGPUs(p)
				if d.Total == 0 {
					continue
				}
				q := g.queueName(s, p)
				if q.Queue != "" {
					continue
				}
				where := "the pod"
				if len(q.Chain) > 0 {
					where = "the pod or its owners (" + chainString(q.Chain) + ")"
				}
				res.Findings = append(res.Findings, meta.NewFinding(podRef(p), fmt.Sprintf(
					"pod requests %d GPU (%s) in Kueue-managed namespace %s, but neither %s carries label %s: it bypasses Kueue quota",
					d.Total, strings.Join(d.Where, ", "), ns.Name, where, cfg.SR2.QueueNameLabel)))
			}
		}
		return res
	})
}
