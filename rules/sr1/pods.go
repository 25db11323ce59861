package sr1

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The pods each rule reads whole (auditor.RuleMeta.Pods). The live source keeps only the
// union of these over the configured rules; the others are cached as small stubs. At
// 100k pods, most of them CPU pods, that divides the pod cache several times.

// protectedPods selects every pod of the SR1 protected namespaces (isolation messages
// name them; the network probe targets them).
func protectedPods(cfg auditor.Config) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return cfg.IsProtected(p.Namespace) }
}

// perProtectedNamespace is a rule judged per protected namespace: it reports about those
// namespaces only (a change elsewhere cannot affect it) and reads their pods whole.
func perProtectedNamespace(cfg auditor.Config, meta auditor.RuleMeta, eval func(v *view, s *auditor.Snapshot) auditor.Result) check {
	meta.Pods = protectedPods(cfg)
	meta.Scope, meta.Subjects = auditor.ScopeNamespace, cfg.Protected()
	return check{Meta: meta, Eval: eval}
}
