package sr1

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// ingressOutsideAllowlist: a NetworkPolicy (or an Admin-tier cluster policy) that admits
// into a protected namespace a source outside the trusted namespaces. Policies are
// additive, so one such rule opens the budget path however strict the others are.
func ingressOutsideAllowlist(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "netpol-ingress-outside-allowlist", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "NetworkPolicy admits a source outside the allow-list into a protected namespace",
		Pass:  "no NetworkPolicy admits a source outside the allow-list into a protected namespace",
		Remediation: "Restrict the rule's `from` to the trusted namespaces, one peer per namespace pinned by name " +
			"(`namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: litellm}}`), optionally ANDed with a podSelector in the same peer. " +
			"Remove rules without `from`, `namespaceSelector: {}` and ipBlock peers: untrusted clients must go through LiteLLM.",
		Inputs:          []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies, auditor.ResourceAdminNetworkPolicies, auditor.ResourceBaselineAdminNetworkPolicies, auditor.ResourceClusterNetworkPolicies},
		ReadsNamespaces: true,
		Needs:           []string{auditor.ResourceNetworkPolicies},
	}
	return perProtectedNamespace(cfg, meta, func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if why, bad := inputs.Unseen(s, auditor.ResourceNetworkPolicies); bad {
			res.Inconclusive = append(res.Inconclusive, "cannot read the NetworkPolicies of "+strings.Join(v.protected, ", ")+": "+why)
		}
		nsWhy, nsUnseen := inputs.Unseen(s, auditor.ResourceNamespaces)
		// Offline without Namespace objects, a selector is judged on its own terms.
		unresolved := s.Offline() && !s.Saw(auditor.ResourceNamespaces)
		skippedSelectors := 0
		for _, ns := range v.protected {
			admin := v.adminTierSelecting(s, ns)
			for _, p := range v.ingress[ns] {
				for i, rule := range p.Spec.Ingress {
					admits, invalid, skipped := v.admitted(ns, p, i, rule, unresolved, nsUnseen)
					res.Inconclusive = append(res.Inconclusive, invalid...)
					skippedSelectors += skipped
					if len(admits) == 0 {
						continue
					}
					msg := v.outsideMessage(s, ns, p, i, admits, admin)
					f := meta.NewFinding(networkPolicyRef(p), msg)
					f.Discriminator = fmt.Sprintf("ingress[%d]", i)
					res.Findings = append(res.Findings, f)
				}
			}
		}
		if skippedSelectors > 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%d namespaceSelector peers in protected namespaces not evaluated: %s", skippedSelectors, nsWhy))
		}
		v.evaluateAdminAllows(s, meta, &res)
		return res
	})
}

// admitted judges the peers of ingress rule i of p, a policy of protected namespace ns:
// what they admit that is not trusted for ns, the peers the API server would reject, and
// how many namespaceSelector peers were skipped because Namespaces are not visible.
func (v *view) admitted(ns string, p *networkingv1.NetworkPolicy, i int, rule networkingv1.NetworkPolicyIngressRule, unresolved, nsUnseen bool) (admits, invalid []string, skipped int) {
	for _, peer := range netpol.IngressPeers(ns, rule, v.namespaces()) {
		switch peer.Kind {
		case netpol.Invalid:
			invalid = append(invalid, fmt.Sprintf("NetworkPolicy %s/%s spec.ingress[%d].%v (the API server rejects such a policy)", p.Namespace, p.Name, i, peer.Err))
		case netpol.NamespaceSelector:
			if unresolved {
				if d := v.unresolvedSources(ns, peer); d != "" {
					admits = append(admits, d)
				}
				continue
			}
			if nsUnseen {
				skipped++
				continue
			}
			if d := v.peerSources(ns, peer); d != "" {
				admits = append(admits, d)
			}
		default:
			if d := v.peerSources(ns, peer); d != "" {
				admits = append(admits, d)
			}
		}
	}
	return admits, invalid, skipped
}

// outsideMessage says what ingress rule i of p admits from outside the allow-list of ns.
func (v *view) outsideMessage(s *auditor.Snapshot, ns string, p *networkingv1.NetworkPolicy, i int, admits, admin []string) string {
	rule := p.Spec.Ingress[i]
	msg := fmt.Sprintf("NetworkPolicy %s/%s ingress rule %d admits %s to %s on %s; %s",
		p.Namespace, p.Name, i, strings.Join(admits, "; "), podsPhrase(p), netpol.PortsString(rule.Ports), v.allowListClause(ns))
	if note := selectsNoPodNote(s, p); note != "" {
		msg += "; " + note
	}
	if len(admin) > 0 {
		msg += fmt.Sprintf("; Admin-tier cluster policies select this namespace and may deny some of this traffic where the CNI implements them, but their denies were not evaluated: %s", family.JoinBounded(admin, 5))
	}
	return msg
}

// peerSources describes what a classified peer admits into dst that is not trusted for
// it; empty when every source it admits is trusted.
func (b budgetPath) peerSources(dst string, peer netpol.Peer) string {
	and := ""
	if peer.PodSelector != nil {
		and = " AND podSelector " + netpol.SelectorString(peer.PodSelector)
	}
	switch peer.Kind {
	case netpol.AllSources:
		return "every source, including addresses outside the cluster (the rule has no `from`)"
	case netpol.AllNamespaces:
		return fmt.Sprintf("pods of every namespace, present or future (%s.namespaceSelector {}%s)", peer.Field, and)
	case netpol.NamespaceSelector:
		if bad := b.untrusted(dst, peer.Namespaces); len(bad) > 0 {
			return fmt.Sprintf("namespaces %s (%s.namespaceSelector %s%s)", family.JoinBounded(bad, 10), peer.Field, netpol.SelectorString(peer.NamespaceSelector), and)
		}
	case netpol.IPBlock:
		except := ""
		if len(peer.Except) > 0 {
			except = " except " + strings.Join(peer.Except, ", ")
		}
		return fmt.Sprintf("CIDR %s%s (%s.ipBlock; pod, node and external addresses can fall inside it)", peer.CIDR, except, peer.Field)
	}
	return ""
}

// unresolvedSources judges a namespaceSelector peer without the Namespace objects (a scan
// that holds none): pinned by kubernetes.io/metadata.name to trusted names it admits
// nothing untrusted; otherwise it may admit any namespace, at full severity.
func (b budgetPath) unresolvedSources(dst string, peer netpol.Peer) string {
	and := ""
	if peer.PodSelector != nil {
		and = " AND podSelector " + netpol.SelectorString(peer.PodSelector)
	}
	sel := netpol.SelectorString(peer.NamespaceSelector)
	names, pinned := netpol.PinnedNames(peer.NamespaceSelector)
	if !pinned {
		return fmt.Sprintf("any namespace carrying these labels (%s.namespaceSelector %s%s does not pin %s to trusted names; "+
			"which namespaces it matches could not be resolved: no Namespace among the inputs)", peer.Field, sel, and, "kubernetes.io/metadata.name")
	}
	if bad := b.untrusted(dst, names); len(bad) > 0 {
		return fmt.Sprintf("namespaces %s (%s.namespaceSelector %s%s)", family.JoinBounded(bad, 10), peer.Field, sel, and)
	}
	return ""
}

func podsPhrase(p *networkingv1.NetworkPolicy) string {
	if netpol.SelectsAllPods(p) {
		return "all pods"
	}
	return "pods " + netpol.SelectorString(&p.Spec.PodSelector)
}

// selectsNoPodNote says so when a policy selects none of the namespace's pods: it still
// applies to any pod created later with matching labels. Silent when the snapshot holds
// no pod there (offline scans of policies alone).
func selectsNoPodNote(s *auditor.Snapshot, p *networkingv1.NetworkPolicy) string {
	pods := s.PodsIn(p.Namespace)
	if _, bad := inputs.Unseen(s, auditor.ResourcePods); bad || netpol.SelectsAllPods(p) || len(pods) == 0 {
		return ""
	}
	for _, pod := range pods {
		if ok, err := netpol.Selects(p, pod); ok || err != nil {
			return ""
		}
	}
	return "the policy selects no pod today but applies to every pod created later with matching labels"
}

// adminTierSelecting names the Admin-tier cluster policies whose subject covers ns.
func (v *view) adminTierSelecting(s *auditor.Snapshot, ns string) []string {
	var out []string
	subject := protectedNamespace(s, ns)
	for _, p := range v.admin() {
		if p.tier == "Admin" && p.subjectSelects(subject) {
			out = append(out, p.ref.Kind+" "+p.ref.Name)
		}
	}
	return out
}
