package sr1

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// budgetPath answers the SR1 questions shared by the rules from the configuration:
// which namespaces are protected, and which sources each may accept
// (auditor.Config.Protected, TrustedFor).
type budgetPath struct {
	cfg       auditor.Config
	protected []string
}

func newBudgetPath(cfg auditor.Config) budgetPath {
	return budgetPath{cfg: cfg, protected: cfg.Protected()}
}

// untrusted filters names down to the sources not trusted for dst.
func (b budgetPath) untrusted(dst string, names []string) []string {
	var out []string
	for _, n := range names {
		if !b.cfg.TrustedFor(dst, n) {
			out = append(out, n)
		}
	}
	return out
}

// trustedList renders the allow-list for dst in messages.
func (b budgetPath) trustedList(dst string) string {
	return strings.Join(b.cfg.TrustedSources(dst), ", ")
}

// allowListClause states dst's allow-list as what it is, apart from the sources a
// message reports, so that the trusted names never read as offenders.
func (b budgetPath) allowListClause(dst string) string {
	return fmt.Sprintf("the allow-list of %s names only %s", dst, b.trustedList(dst))
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
