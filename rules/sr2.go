package rules

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// sr2Rules: GPU quota (queue names, Kueue admission, the admission gate, the active probe).
func sr2Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{
		GPUPodMissingQueueName(cfg),
		GPUPodNotAdmitted(cfg),
		GPUGatePolicyMissing(cfg),
		GPUGatePolicyNotEnforcing(cfg),
		GPUGateBypassed(cfg),
	}
}

// GPU accounting coverage values of the gpu_requested fact.
const (
	coverageAdmitted   = "admitted"
	coverageBypassing  = "bypassing"
	coveragePending    = "pending"
	coverageOutOfScope = "out_of_scope"
)

var gpuPodInputs = []string{auditor.ResourceNamespaces, auditor.ResourcePods, auditor.ResourceJobs, auditor.ResourceReplicaSets, auditor.ResourceStatefulSets}

// GPUPodMissingQueueName: a running GPU pod in a Kueue-managed namespace with no queue
// name on itself or its controlling owners bypasses Kueue quota and fair share.
func GPUPodMissingQueueName(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	label := cfg.SR2.QueueNameLabel
	meta := auditor.RuleMeta{
		ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU pod without a Kueue queue name in a Kueue-managed namespace",
		Remediation: fmt.Sprintf("Set the label %s=<local-queue> on the pod's top-level workload (Job, JobSet, RayCluster, ...) "+
			"so Kueue admits it against quota; delete the running pod; then check why the admission gate %s let it in.",
			label, strings.Join(cfg.SR2.GatePolicyNames, ", ")),
		Inputs: gpuPodInputs,
		Scope:  auditor.ScopeNamespace,
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, gp := range g.gpuPods(s) {
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
			msg := fmt.Sprintf("pod requests %d GPU (%s) in Kueue-managed namespace %s, but %s: it bypasses Kueue quota",
				gp.Demand.Total, strings.Join(gp.Demand.Where, ", "), p.Namespace, missing)
			if gp.Queue.Unresolved {
				msg += fmt.Sprintf(" (owner %s is not in the snapshot)", chainString(gp.Queue.Chain[len(gp.Queue.Chain)-1:]))
			}
			if _, ok := p.Annotations[label]; ok {
				msg += fmt.Sprintf("; it has an annotation %s, which Kueue no longer reads (v0.15 reads only the label)", label)
			}
			res.Findings = append(res.Findings, meta.NewFinding(podRef(p), msg))
		}
		return res
	})
}

// GPUPodNotAdmitted: a GPU pod that names a queue but runs without an admitted Kueue
// Workload: Kueue does not manage it (pod integration off, namespace outside Kueue's
// managedJobsNamespaceSelector) or it outlived its admission, so no quota was charged.
// It also publishes the GPU accounting facts.
func GPUPodNotAdmitted(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	meta := auditor.RuleMeta{
		ID: "gpu-pod-not-admitted", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU pod with a queue name but no admitted Kueue Workload",
		Remediation: "Enable the Kueue integration for the pod's workload kind (Configuration integrations.frameworks, e.g. \"pod\" for plain pods) " +
			"and include the namespace in managedJobsNamespaceSelector; delete the pod so it is recreated under Kueue admission; " +
			"check `kubectl get workloads -n <ns>` for its Workload and why it is not Admitted.",
		Inputs: append(append([]string(nil), gpuPodInputs...), auditor.ResourceKueueWorkloads),
		Scope:  auditor.ScopeNamespace,
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		var ix *workloadIndex
		if s.Visible(auditor.ResourceKueueWorkloads) {
			ix = newWorkloadIndex(s)
			res.Inconclusive = append(res.Inconclusive, ix.problems...)
		}
		unverified := 0
		acct := newGPUAccounting(g.managedNamespaces(s))
		for _, gp := range g.gpuPods(s) {
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
				if f, bypass := notAdmitted(meta, gp, ix.covering(gp.Pod, gp.Queue.Chain)); bypass {
					cov = coverageBypassing
					res.Findings = append(res.Findings, f)
				}
			}
			acct.add(gp.Pod.Namespace, cov, gp.Demand.Total)
		}
		if unverified > 0 {
			a := s.AvailabilityOf(auditor.ResourceKueueWorkloads)
			reason := fmt.Sprintf("Kueue Workloads are not visible (%s is %s", auditor.ResourceKueueWorkloads, a.State)
			if a.Message != "" {
				reason += ": " + a.Message
			}
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s): %d GPU pod(s) with a queue name cannot be checked for admission and are counted as admitted", reason, unverified))
		}
		res.Facts = acct.facts()
		return res
	})
}

// notAdmitted judges one in-scope, ungated GPU pod with a queue name against the
// Workloads that may cover it.
func notAdmitted(meta auditor.RuleMeta, gp gpuPod, wls []*kueueWorkload) (auditor.Finding, bool) {
	for _, w := range wls {
		if w.admitted() {
			return auditor.Finding{}, false
		}
	}
	p := gp.Pod
	from := "on the pod"
	if gp.Queue.From != "pod" {
		from = "from " + gp.Queue.From
	}
	head := fmt.Sprintf("pod requests %d GPU (%s) with queue %q (%s) in namespace %s and is not held by Kueue's admission gate",
		gp.Demand.Total, strings.Join(gp.Demand.Where, ", "), gp.Queue.Queue, from, p.Namespace)
	if len(wls) == 0 {
		owners := "the pod"
		if len(gp.Queue.Chain) > 0 {
			owners += " or its owners (" + chainString(gp.Queue.Chain) + ")"
		}
		return meta.NewFinding(podRef(p), head+fmt.Sprintf(", but no Kueue Workload is owned by %s or named by its %s label: "+
			"Kueue does not manage it (integration disabled or namespace outside managedJobsNamespaceSelector), so it runs outside quota",
			owners, kueuePodGroupLabel)), true
	}
	states := make([]string, 0, len(wls))
	for _, w := range wls {
		states = append(states, fmt.Sprintf("Workload %s Admitted=%s", w.ref(), w.Admitted))
	}
	return meta.NewFinding(podRef(p), head+", but no covering Workload is admitted ("+strings.Join(states, "; ")+"): it runs without quota reserved"), true
}

// gpuAccounting sums requested GPUs per namespace and coverage. Kueue-managed namespaces
// always publish their three in-scope series (zero included), so dashboards see a
// namespace before its first GPU pod; other namespaces publish out_of_scope when they
// have GPU pods.
type gpuAccounting struct {
	sums map[string]map[string]int64
}

func newGPUAccounting(managed []*corev1.Namespace) *gpuAccounting {
	a := &gpuAccounting{sums: map[string]map[string]int64{}}
	for _, ns := range managed {
		a.sums[ns.Name] = map[string]int64{coverageAdmitted: 0, coverageBypassing: 0, coveragePending: 0}
	}
	return a
}

func (a *gpuAccounting) add(ns, coverage string, n int64) {
	if a.sums[ns] == nil {
		a.sums[ns] = map[string]int64{}
	}
	a.sums[ns][coverage] += n
}

func (a *gpuAccounting) facts() []auditor.Fact {
	nss := make([]string, 0, len(a.sums))
	for ns := range a.sums {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	var out []auditor.Fact
	for _, ns := range nss {
		for _, cov := range []string{coverageAdmitted, coverageBypassing, coveragePending, coverageOutOfScope} {
			v, ok := a.sums[ns][cov]
			if !ok {
				continue
			}
			out = append(out, auditor.Fact{
				Metric: "gpu_requested",
				Help:   "GPUs requested by non-terminated pods, by namespace and Kueue coverage (admitted, bypassing, pending, out_of_scope).",
				Labels: []auditor.Label{{Name: "namespace", Value: ns}, {Name: "coverage", Value: cov}},
				Value:  float64(v),
			})
		}
	}
	return out
}

// Admission probe result values of the admission_probe_result fact.
var admissionProbeResults = []string{"admitted", "denied", "error"}

// GPUGateBypassed: the active probe's server-side dry-run create of a GPU pod without a
// queue name was accepted: whatever the policies say, the gate does not hold.
func GPUGateBypassed(cfg auditor.Config) auditor.Rule {
	meta := auditor.RuleMeta{
		ID: "gpu-gate-bypassed", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "A GPU pod without a queue name passes admission (active probe)",
		Remediation: fmt.Sprintf("Reproduce with `kubectl create --dry-run=server -n <ns> -f <gpu-pod-without-queue.yaml>`; "+
			"then fix what gpu-gate-policy-missing / gpu-gate-policy-not-enforcing report for %s (policy action, match, webhook, Kyverno health).",
			strings.Join(cfg.SR2.GatePolicyNames, ", ")),
		Inputs: []string{auditor.ResourceNamespaces},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		probes := append([]auditor.AdmissionProbeResult(nil), s.AdmissionProbes...)
		sort.SliceStable(probes, func(i, j int) bool { return probes[i].Namespace < probes[j].Namespace })
		for _, p := range probes {
			result := "denied"
			switch {
			case p.Error != "":
				result = "error"
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("admission probe in namespace %s could not run: %s", p.Namespace, shorten(p.Error, 300)))
			case p.Admitted:
				result = "admitted"
				res.Findings = append(res.Findings, meta.NewFinding(namespaceRef(p.Namespace), fmt.Sprintf(
					"a server-side dry-run create of a pod requesting a GPU without label %s in Kueue-managed namespace %s was accepted at %s: the admission gate does not deny there",
					cfg.SR2.QueueNameLabel, p.Namespace, p.At.UTC().Format("2006-01-02T15:04:05Z"))))
			}
			for _, r := range admissionProbeResults {
				v := 0.0
				if r == result {
					v = 1
				}
				res.Facts = append(res.Facts, auditor.Fact{
					Metric: "admission_probe_result",
					Help:   "Outcome of the last admission probe per namespace (state set: admitted, denied, error).",
					Labels: []auditor.Label{{Name: "namespace", Value: p.Namespace}, {Name: "result", Value: r}},
					Value:  v,
				})
			}
			if !p.At.IsZero() {
				res.Facts = append(res.Facts, auditor.Fact{
					Metric: "admission_probe_last_run_timestamp_seconds",
					Help:   "Unix time of the last admission probe per namespace.",
					Labels: []auditor.Label{{Name: "namespace", Value: p.Namespace}},
					Value:  float64(p.At.Unix()),
				})
			}
		}
		return res
	})
}
