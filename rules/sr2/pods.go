package sr2

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The pods each rule reads whole (auditor.RuleMeta.Pods). The live source keeps only the
// union of these over the configured rules; the others are cached as small stubs. At
// 100k pods, most of them CPU pods, that divides the pod cache several times.

// gpuPods selects pods requesting a configured GPU resource, in any container kind or
// at pod level (SR2).
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
