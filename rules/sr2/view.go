package sr2

import (
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
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
	offer   func() gpuOffer
	kyverno func() *kyverno.AdmissionController
	battery func() []batteryRequest
	dra     bool
}

// newView returns the family's view for a configuration.
func newView(cfg auditor.Config) *auditor.View[*view] {
	g := newGPUScope(cfg)
	return auditor.NewView(func(s *auditor.Snapshot) *view {
		v := &view{
			scope:   g,
			managed: cfg.KueueManagedNamespaces(s.Namespaces),
			gates:   sync.OnceValue(func() *gateSet { return findGates(s, cfg.SR2.GatePolicyNames) }),
			pods:    sync.OnceValue(func() []gpuPod { return g.gpuPods(s) }),
			offer:   sync.OnceValue(func() gpuOffer { return g.gpuOffered(s) }),
			kyverno: sync.OnceValue(func() *kyverno.AdmissionController {
				return kyverno.FindAdmissionController(s.Deployments, cfg.SR2.KyvernoNamespace)
			}),
			dra: draGPUsInUse(s),
		}
		v.battery = sync.OnceValue(func() []batteryRequest {
			texts, sels := attributeSources(s, v.gates())
			return battery(cfg.SR2, v.representativeGPU(), v.offer().names(), tenantAttrs(texts, sels, cfg.SR2.QueueNameLabel))
		})
		return v
	})
}

// checker returns what judges the gates, grading coverage gaps by offer.
func (v *view) checker(offer gpuOffer) gateChecker {
	return gateChecker{cfg: v.scope.cfg, managed: v.managed, offer: offer, kyverno: v.kyverno(), battery: v.battery(), draInUse: v.dra}
}
