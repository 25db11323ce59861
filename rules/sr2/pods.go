package sr2

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The pods each rule reads whole (auditor.RuleMeta.Pods). The live source keeps only the
// union of these over the configured rules; the others are cached as small stubs. At
// 100k pods, most of them CPU pods, that divides the pod cache several times.

// gpuPodInputs are what finding the GPU pods reads: the pods, their namespaces, the
// owners a queue name can come from, and the DRA claims, claim templates and device
// classes a pod can take GPUs through.
var gpuPodInputs = []string{auditor.ResourceNamespaces, auditor.ResourcePods, auditor.ResourceJobs, auditor.ResourceReplicaSets, auditor.ResourceStatefulSets,
	auditor.ResourceResourceClaims, auditor.ResourceResourceClaimTemplates, auditor.ResourceDeviceClasses}

// perGPUPod is a rule judged per GPU pod (view.pods): it reads the GPU pods whole, with
// gpuPodInputs before the rule's own inputs, cannot judge without the namespaces and
// pods, and a namespace's change affects that namespace's verdicts only.
func perGPUPod(cfg auditor.Config, meta auditor.RuleMeta, eval func(v *view, s *auditor.Snapshot) auditor.Result) check {
	meta.Pods = gpuPods(cfg)
	meta.Inputs = append(slices.Clone(gpuPodInputs), meta.Inputs...)
	meta.Needs = []string{auditor.ResourceNamespaces, auditor.ResourcePods}
	meta.Scope = auditor.ScopeNamespace
	return check{Meta: meta, Eval: eval}
}

// gpuPods selects pods requesting a configured GPU resource, in any container kind or
// at pod level, and pods with DRA resource claims (SR2).
func gpuPods(cfg auditor.Config) func(*corev1.Pod) bool {
	gpu := func(r corev1.ResourceRequirements) bool {
		for _, l := range []corev1.ResourceList{r.Requests, r.Limits} {
			for name := range l {
				if cfg.SR2.IsGPUResource(string(name)) {
					return true
				}
			}
		}
		return false
	}
	return func(p *corev1.Pod) bool {
		// A pod with DRA claims is kept whole: whether its claims take GPUs is decided
		// with the claims and classes, at evaluation.
		if len(p.Spec.ResourceClaims) > 0 {
			return true
		}
		if p.Spec.Resources != nil && gpu(*p.Spec.Resources) {
			return true
		}
		for _, c := range p.Spec.Containers {
			if gpu(c.Resources) {
				return true
			}
		}
		for _, c := range p.Spec.InitContainers {
			if gpu(c.Resources) {
				return true
			}
		}
		for _, c := range p.Spec.EphemeralContainers {
			if gpu(c.Resources) {
				return true
			}
		}
		return false
	}
}
