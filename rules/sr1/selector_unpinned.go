package sr1

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// selectorUnpinned: a namespaceSelector in a protected namespace's policy that admits
// only trusted namespaces today but does not pin kubernetes.io/metadata.name to them: a
// namespace labelled tomorrow (by anyone allowed to label namespaces) would match.
func selectorUnpinned(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "netpol-selector-unpinned", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Title: "namespaceSelector not pinned to trusted namespace names",
		Pass:  "every namespaceSelector admitting into a protected namespace is pinned to trusted names",
		Remediation: "Select trusted namespaces by the immutable name label the control plane sets: " +
			"`namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: litellm}}` (or matchExpressions " +
			"`{key: kubernetes.io/metadata.name, operator: In, values: [litellm, monitoring]}`), one value per trusted namespace.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies},
		Needs:  []string{auditor.ResourceNetworkPolicies},
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if s.Offline() && !s.Saw(auditor.ResourceNamespaces) {
			return res // judged at full severity by netpol-ingress-outside-allowlist
		}
		_, nsUnseen := inputs.Unseen(s, auditor.ResourceNamespaces)
		namespaces := v.namespaces()
		for _, ns := range v.protected {
			for _, p := range v.ingress[ns] {
				for i, rule := range p.Spec.Ingress {
					for _, peer := range netpol.IngressPeers(ns, rule, namespaces) {
						if peer.Kind != netpol.NamespaceSelector {
							continue
						}
						if !nsUnseen && len(v.untrusted(ns, peer.Namespaces)) > 0 {
							continue // admits an outside namespace today: netpol-ingress-outside-allowlist
						}
						msg := v.unpinnedMessage(ns, peer, nsUnseen)
						if msg == "" {
							continue
						}
						f := meta.NewFinding(networkPolicyRef(p), fmt.Sprintf("NetworkPolicy %s/%s ingress rule %d %s", p.Namespace, p.Name, i, msg))
						f.Discriminator = fmt.Sprintf("ingress[%d].%s", i, peer.Field)
						res.Findings = append(res.Findings, f)
					}
				}
			}
		}
		return res
	}}
}

// unpinnedMessage explains why a selector is not pinned to trusted names; empty when it is.
func (b budgetPath) unpinnedMessage(dst string, peer netpol.Peer, nsUnseen bool) string {
	sel := netpol.SelectorString(peer.NamespaceSelector)
	today := "it matches no namespace today"
	if len(peer.Namespaces) > 0 {
		today = "it matches only " + family.JoinBounded(peer.Namespaces, 10) + " today"
	}
	if nsUnseen {
		today = "the namespaces it matches today could not be read"
	}
	names, pinned := netpol.PinnedNames(peer.NamespaceSelector)
	if !pinned {
		return fmt.Sprintf("%s.namespaceSelector %s does not pin %s: %s, but any namespace given these labels later would be admitted",
			peer.Field, sel, "kubernetes.io/metadata.name", today)
	}
	if bad := b.untrusted(dst, names); len(bad) > 0 {
		return fmt.Sprintf("%s.namespaceSelector %s pins kubernetes.io/metadata.name to %s, outside the allow-list (%s): %s, but whoever creates such a namespace gets access",
			peer.Field, sel, strings.Join(bad, ", "), b.allowListClause(dst), today)
	}
	return ""
}
