package sr2

import (
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/dra"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// view is SR2's model of one snapshot, built once per evaluation (auditor.View): the
// Kueue-managed namespaces, and, on first use, the admission gates found under the
// configured names, the GPU pods with their owners' queue names, what the cluster
// offers of the GPU resources and Kyverno's admission controller. The parts a rule may
// not need are built lazily: the pod rules run on partial snapshots (incremental
// evaluation) that need no gate, and the gate rules read pods only when no Node is
// visible.
type view struct {
	scope gpuScope
	// managed are the Kueue-managed namespaces (auditor.Config.KueueManaged), sorted.
	managed []*corev1.Namespace
	gates   func() *gateSet
	pods    func() []gpuPod
	// undecided are the in-scope pods whose DRA claims cannot be judged (gpuPods).
	undecided func() []gpuPod
	// dra indexes the DRA claims, templates and device classes.
	dra func() *dra.Index
	// draUse says whether the cluster hands out GPUs through DRA (draGPUsInUse).
	draUse  func() draUse
	offer   func() gpuOffer
	kyverno func() *kyverno.AdmissionController
	battery func() []batteryRequest
}

// newView returns the family's view for a configuration.
func newView(cfg auditor.Config) *auditor.View[*view] {
	g := newGPUScope(cfg)
	return auditor.NewView(func(s *auditor.Snapshot) *view {
		ix := sync.OnceValue(func() *dra.Index { return dra.NewIndex(s, g.draGPUs()) })
		judged := sync.OnceValue(func() podsJudged { return g.gpuPods(s, ix) })
		v := &view{
			scope:     g,
			managed:   cfg.KueueManagedNamespaces(s.Namespaces),
			gates:     sync.OnceValue(func() *gateSet { return findGates(s, cfg.SR2.GatePolicyNames) }),
			pods:      func() []gpuPod { return judged().gpu },
			undecided: func() []gpuPod { return judged().undecided },
			dra:       ix,
			offer:     sync.OnceValue(func() gpuOffer { return g.gpuOffered(s) }),
			kyverno: sync.OnceValue(func() *kyverno.AdmissionController {
				return kyverno.FindAdmissionController(s.Deployments, cfg.SR2.KyvernoNamespace)
			}),
		}
		v.draUse = sync.OnceValue(func() draUse { return draGPUsInUse(v, s) })
		v.battery = sync.OnceValue(func() []batteryRequest {
			texts, sels := attributeSources(s, v.gates())
			return battery(cfg.SR2, v.representativeGPU(), v.offer().names(), tenantAttrs(texts, sels, cfg.SR2.QueueNameLabel))
		})
		return v
	})
}

// checker returns what judges the gates, grading coverage gaps by offer.
func (v *view) checker(offer gpuOffer) gateChecker {
	return gateChecker{cfg: v.scope.cfg, managed: v.managed, offer: offer, kyverno: v.kyverno(), battery: v.battery(), draUse: v.draUse}
}
