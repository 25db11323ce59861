package sr2

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/kueue"
)

// GPU accounting coverage values of the gpu_requested fact.
const (
	coverageAdmitted   = "admitted"
	coverageBypassing  = "bypassing"
	coveragePending    = "pending"
	coverageOutOfScope = "out_of_scope"
)

// podNotAdmitted: a GPU pod that names a queue but runs without an admitted Kueue
// Workload: Kueue does not manage it (pod integration off, namespace outside Kueue's
// managedJobsNamespaceSelector) or it outlived its admission, so no quota was charged.
// It also publishes the GPU accounting facts.
func podNotAdmitted(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-pod-not-admitted", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU pod with a queue name but no admitted Kueue Workload",
		Pass:  "every GPU pod with a queue name runs under an admitted Kueue Workload",
		Remediation: "Enable the Kueue integration for the pod's workload kind (Configuration integrations.frameworks, e.g. \"pod\" for plain pods) " +
			"and include the namespace in managedJobsNamespaceSelector; delete the pod so it is recreated under Kueue admission; " +
			"check `kubectl get workloads -n <ns>` for its Workload and why it is not Admitted.",
		Inputs: []string{auditor.ResourceKueueWorkloads},
	}
	return perGPUPod(cfg, meta, func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		var ix *kueue.WorkloadIndex
		if s.Visible(auditor.ResourceKueueWorkloads) {
			ix = kueue.NewWorkloadIndex(s)
			res.Inconclusive = append(res.Inconclusive, ix.Problems...)
		}
		unverified := 0
		// Kueue-managed namespaces publish their three in-scope series, zero included, so
		// dashboards see a namespace before its first GPU pod; other namespaces publish
		// out_of_scope when they have GPU pods.
		acct := family.NewTally()
		for _, ns := range v.managed {
			acct.Seed(ns.Name, coverageAdmitted, coverageBypassing, coveragePending)
		}
		for _, gp := range v.pods() {
			cov := coverageOutOfScope
			switch {
			case !gp.InScope:
			case gp.Gated:
				cov = coveragePending
			case gp.Queue.Queue == "":
				cov = coverageBypassing
			case ix == nil:
				// Without Workloads the label is all there is: count the pod as Kueue's.
				cov = coverageAdmitted
				unverified++
			default:
				cov = coverageAdmitted
				if f, bypass := notAdmitted(meta, gp, ix.Covering(gp.Pod, gp.Queue.Chain), ix.LabelNamed(gp.Pod)); bypass {
					cov = coverageBypassing
					res.Findings = append(res.Findings, f)
				}
			}
			acct.Add(gp.Pod.Namespace, cov, gp.Demand.least())
		}
		if unverified > 0 {
			a := s.AvailabilityOf(auditor.ResourceKueueWorkloads)
			reason := fmt.Sprintf("Kueue Workloads are not visible (%s is %s", auditor.ResourceKueueWorkloads, a.State)
			if a.Message != "" {
				reason += ": " + a.Message
			}
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s): %d GPU pod(s) with a queue name cannot be checked for admission and are counted as admitted", reason, unverified))
		}
		res.Facts = acct.Facts("gpu_requested",
			"GPUs requested by non-terminated pods, by namespace and Kueue coverage (admitted, bypassing, pending, out_of_scope).",
			"coverage", []string{coverageAdmitted, coverageBypassing, coveragePending, coverageOutOfScope})
		return res
	})
}

// notAdmitted judges one in-scope, ungated GPU pod with a queue name against the
// Workloads that cover it; named are the Workloads its pod-group or prebuilt-workload
// label names, which cover it only when Kueue made it their owner.
func notAdmitted(meta auditor.RuleMeta, gp gpuPod, wls []*kueue.Workload, named []kueue.LabelNamed) (auditor.Finding, bool) {
	for _, w := range wls {
		if w.IsAdmitted() {
			return auditor.Finding{}, false
		}
	}
	p := gp.Pod
	from := "on the pod"
	if gp.Queue.From != "pod" {
		from = "from " + gp.Queue.From
	}
	head := fmt.Sprintf("pod requests %s (%s) with queue %q (%s) in namespace %s and is not held by Kueue's admission gate",
		gp.Demand.count(), gp.Demand.where(), gp.Queue.Queue, from, p.Namespace)
	if len(wls) == 0 {
		owners := "the pod"
		if len(gp.Queue.Chain) > 0 {
			owners += " or its controlling owners (" + chainString(gp.Queue.Chain) + ")"
		}
		msg := head + fmt.Sprintf(", but no Kueue Workload is owned by %s: "+
			"Kueue does not manage it (integration disabled or namespace outside managedJobsNamespaceSelector), so it runs outside quota", owners)
		return meta.NewFinding(family.PodRef(p), msg+ownerNotes(gp, named)), true
	}
	states := make([]string, 0, len(wls))
	for _, w := range wls {
		states = append(states, fmt.Sprintf("Workload %s Admitted=%s", w.Ref(), w.Admitted))
	}
	return meta.NewFinding(family.PodRef(p), head+", but no covering Workload is admitted ("+strings.Join(states, "; ")+"): it runs without quota reserved"+ownerNotes(gp, named)), true
}

// ownerNotes says why what the pod names does not count: owner references without
// controller: true (Kueue follows only the controller), and Workloads named by its
// pod-group or prebuilt-workload label that do not list it among their owners.
func ownerNotes(gp gpuPod, named []kueue.LabelNamed) string {
	var notes []string
	if plain := plainOwners(gp.Pod); len(plain) > 0 {
		notes = append(notes, fmt.Sprintf("its owner reference to %s is not a controller reference, and Kueue counts only the controller", strings.Join(plain, ", ")))
	}
	for _, n := range named {
		switch {
		case n.Workload == nil:
			notes = append(notes, fmt.Sprintf("its label %s names Workload %s, which is not in the namespace", n.Label, n.Name))
		case n.Workload.Controller() != "":
			notes = append(notes, fmt.Sprintf("its label %s names Workload %s, which belongs to %s, not this pod: Kueue ignores a Workload another object controls",
				n.Label, n.Workload.Ref(), n.Workload.Controller()))
		default:
			notes = append(notes, fmt.Sprintf("its label %s names Workload %s, which does not list the pod among its owners: Kueue makes every pod it admits through that Workload an owner",
				n.Label, n.Workload.Ref()))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "; " + strings.Join(notes, "; ")
}

// gpuCount is "1 GPU" or "n GPUs".
func gpuCount(n int64) string {
	if n == 1 {
		return "1 GPU"
	}
	return fmt.Sprintf("%d GPUs", n)
}
