package sr1

import (
	"sync"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/cni"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// view is SR1's model of one snapshot, built once per evaluation (auditor.View): the
// protected namespaces and the sources each may accept (budgetPath), each protected
// namespace's ingress policies and the ones isolating it, and, on first use, every
// namespace as the policies' selectors see it, the cluster-scoped admin policies and
// the CNI detected.
type view struct {
	budgetPath
	// ingress holds the NetworkPolicies of each protected namespace that affect
	// ingress, sorted by name; isolators those that isolate the whole namespace.
	ingress   map[string][]*networkingv1.NetworkPolicy
	isolators map[string][]*networkingv1.NetworkPolicy
	// present: the protected namespace exists, or (offline) policies show it without
	// its Namespace object.
	present map[string]bool
	// namespaces are the snapshot's namespaces, for namespaceSelectors.
	namespaces func() []netpol.Namespace
	// admin are the AdminNetworkPolicies, BaselineAdminNetworkPolicies and
	// ClusterNetworkPolicies, read once, sorted by kind and name.
	admin func() []adminPolicy
	// cni is what the CNI is and whether it enforces NetworkPolicy (cni.Detect).
	cni func() cni.Detection
}

// newView returns the family's view for a configuration.
func newView(cfg auditor.Config) *auditor.View[*view] {
	b := newBudgetPath(cfg)
	return auditor.NewView(func(s *auditor.Snapshot) *view {
		v := &view{
			budgetPath: b,
			ingress:    map[string][]*networkingv1.NetworkPolicy{},
			isolators:  map[string][]*networkingv1.NetworkPolicy{},
			present:    map[string]bool{},
			namespaces: sync.OnceValue(func() []netpol.Namespace { return netpol.NamespacesFrom(s.Namespaces) }),
			admin:      sync.OnceValue(func() []adminPolicy { return adminPolicies(s) }),
			cni:        sync.OnceValue(func() cni.Detection { return cni.Detect(s) }),
		}
		for _, ns := range b.protected {
			v.ingress[ns] = ingressPolicies(s, ns)
			policies := s.NetworkPoliciesIn(ns)
			v.isolators[ns] = netpol.NamespaceIsolators(policies, ns)
			v.present[ns] = s.Namespace(ns) != nil || len(policies) > 0
		}
		return v
	})
}

// exists reports whether protected namespace ns is in the snapshot (see present).
func (v *view) exists(ns string) bool { return v.present[ns] }
