package waivers

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The pods each rule reads whole (auditor.RuleMeta.Pods). The live source keeps only the
// union of these over the configured rules; the others are cached as small stubs. At
// 100k pods, most of them CPU pods, that divides the pod cache several times.

// waiverPods selects pods carrying any waiver annotation (waiver-invalid judges them).
func waiverPods(p *corev1.Pod) bool {
	for _, k := range []string{auditor.WaiveAnnotation, auditor.WaiveReasonAnnotation, auditor.WaiveUntilAnnotation} {
		if _, ok := p.Annotations[k]; ok {
			return true
		}
	}
	return false
}
