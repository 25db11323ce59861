package sr1

import (
	"fmt"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// defaultDenyMissing: a protected namespace where not every pod, present or future, is
// isolated for ingress accepts traffic from anywhere on the pods no policy selects. Only
// a policy with an empty podSelector and Ingress among its effective types isolates the
// whole namespace; its name and whether it also allows trusted sources do not matter.
func defaultDenyMissing(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh,
		Title: "Protected namespace not isolated for ingress",
		Pass:  "every protected namespace is isolated for ingress by a policy selecting all its pods",
		Remediation: "Add a NetworkPolicy selecting every pod of the namespace with Ingress in its policyTypes, e.g. " +
			"`spec: {podSelector: {}, policyTypes: [Ingress]}`, then allow the trusted namespaces explicitly in separate policies " +
			"pinned with kubernetes.io/metadata.name. Do not add an `ingress: [{}]` rule to any policy there: it admits everything " +
			"and cancels the isolation (reported by netpol-ingress-outside-allowlist).",
		// Pods only enrich the message (which pods are open now); the verdict does not
		// depend on them, so they are not an input that can make the rule inconclusive.
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies},
		Needs:  []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies},
		// Not isolated: no policy among the inputs isolates the namespace.
		Absence: []string{auditor.ResourceNetworkPolicies},
	}
	return perProtectedNamespace(cfg, meta, func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if why, bad := inputs.Unseen(s, auditor.ResourceNetworkPolicies); bad {
			res.Inconclusive = append(res.Inconclusive, "cannot judge isolation of "+strings.Join(v.protected, ", ")+": "+why)
			return res
		}
		nsUnseen := !s.Saw(auditor.ResourceNamespaces) // offline: none among the inputs
		for _, ns := range v.protected {
			policies := s.NetworkPoliciesIn(ns)
			if !v.exists(ns) {
				if nsUnseen {
					continue // the engine reports namespaces as inconclusive
				}
				f := meta.NewFinding(family.NamespaceRef(ns), fmt.Sprintf(
					"protected namespace %s does not exist; when it is created it needs a NetworkPolicy with podSelector {} and Ingress in its policyTypes before any model server runs there", ns))
				f.Severity = auditor.SeverityInfo
				f.Absent = []string{auditor.ResourceNamespaces}
				res.Findings = append(res.Findings, f)
				continue
			}
			if len(v.isolators[ns]) > 0 {
				continue
			}
			res.Findings = append(res.Findings, meta.NewFinding(family.NamespaceRef(ns), v.isolationMessage(s, ns, policies)))
		}
		return res
	})
}

// isolationMessage explains why ns is not isolated: what its policies cover, which
// current pods no policy isolates, and which cluster-scoped policies were not counted.
func (v *view) isolationMessage(s *auditor.Snapshot, ns string, policies []*networkingv1.NetworkPolicy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "protected namespace %s is not isolated for ingress: no NetworkPolicy there has an empty podSelector with Ingress in its effective policyTypes, so every pod no policy selects, and every pod created later, accepts connections from any source", ns)
	if len(policies) == 0 {
		b.WriteString("; the namespace has no NetworkPolicy at all")
	} else {
		var parts []string
		sorted := append([]*networkingv1.NetworkPolicy(nil), policies...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
		for _, p := range sorted {
			types := netpol.EffectiveTypes(&p.Spec)
			ts := make([]string, len(types))
			for i, t := range types {
				ts[i] = string(t)
			}
			parts = append(parts, fmt.Sprintf("%s (podSelector %s, policyTypes [%s])", p.Name, netpol.SelectorString(&p.Spec.PodSelector), strings.Join(ts, ",")))
		}
		fmt.Fprintf(&b, "; its policies cover only part of it: %s", family.JoinBounded(parts, 8))
	}
	if _, bad := inputs.Unseen(s, auditor.ResourcePods); !bad {
		var open []string
		pods := s.PodsIn(ns)
		for _, pod := range pods {
			if family.Terminated(pod) {
				continue
			}
			if ok, _ := netpol.IsolatedForIngress(policies, pod); !ok {
				open = append(open, pod.Name)
			}
		}
		sort.Strings(open)
		if len(open) > 0 {
			fmt.Fprintf(&b, "; pods not isolated now: %s", family.JoinBounded(open, 10))
		}
	}
	if admin := v.adminPoliciesSelecting(s, ns); len(admin) > 0 {
		fmt.Fprintf(&b, "; cluster-scoped policies select this namespace but were not counted as isolation (a baseline deny covers in-cluster pods only and takes effect only where the CNI implements the policy API): %s", family.JoinBounded(admin, 5))
	}
	return b.String()
}
