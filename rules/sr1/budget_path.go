package rules

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// budgetPath answers the SR1 questions shared by the rules: which namespaces are
// protected, and which sources each may accept.
type budgetPath struct {
	protected []string
	trusted   map[string]bool
}

func newBudgetPath(cfg auditor.Config) budgetPath {
	b := budgetPath{trusted: map[string]bool{}}
	seen := map[string]bool{}
	for _, n := range cfg.SR1.ProtectedNamespaces {
		if !seen[n] {
			seen[n] = true
			b.protected = append(b.protected, n)
		}
	}
	sort.Strings(b.protected)
	for _, n := range cfg.SR1.TrustedNamespaces {
		b.trusted[n] = true
	}
	return b
}

// trustedFor reports whether pods of namespace src may reach protected namespace dst:
// the configured trusted namespaces and dst itself.
func (b budgetPath) trustedFor(dst, src string) bool { return src == dst || b.trusted[src] }

// untrusted filters names down to the sources not trusted for dst.
func (b budgetPath) untrusted(dst string, names []string) []string {
	var out []string
	for _, n := range names {
		if !b.trustedFor(dst, n) {
			out = append(out, n)
		}
	}
	return out
}

// trustedList renders the allow-list for dst in messages.
func (b budgetPath) trustedList(dst string) string {
	names := []string{dst}
	for n := range b.trusted {
		if n != dst {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	return strings.Join(names, ", ")
}

// ingressPolicies returns the NetworkPolicies of a protected namespace that affect
// ingress, sorted by name.
func ingressPolicies(s *auditor.Snapshot, ns string) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range s.NetworkPoliciesIn(ns) {
		if netpol.AffectsIngress(p) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func networkPolicyRef(p *networkingv1.NetworkPolicy) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: p.Namespace, Name: p.Name}
}

// joinBounded joins names for a message, keeping it bounded.
func joinBounded(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
