package sr1

import (
	"fmt"
	"slices"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/cni"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// cniNotEnforcing: NetworkPolicies do nothing unless the CNI implements them. The rule
// recognises the CNI from DaemonSets, ConfigMaps and node annotations and reports each
// component that does not enforce when none does. It also publishes cni_info.
func cniNotEnforcing(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "cni-not-enforcing", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "The CNI does not enforce NetworkPolicy",
		Pass:  "the CNI enforces NetworkPolicy",
		Remediation: "Run a CNI that enforces NetworkPolicy and make sure its agent runs on every node: Calico or Cilium " +
			"(Cilium: enable-policy default/always, policy-audit-mode false), the VPC CNI with enableNetworkPolicy: \"true\", " +
			"GKE Dataplane V2, or Calico beside Flannel (Canal). Then confirm with the active network probe.",
	}
	return cniCheck(meta, func(v *view, d cni.Detection, res *auditor.Result) {
		res.Facts = append(res.Facts, auditor.Fact{
			Metric: "cni_info",
			Help:   "CNI detected by the auditor (cni, components joined by +) and whether it enforces NetworkPolicy (enforcing: true, false or unknown); always 1.",
			Labels: []auditor.Label{{Name: "cni", Value: d.CNI}, {Name: "enforcing", Value: d.Verdict}},
			Value:  1,
		})
		if d.Verdict != cni.NotEnforcing {
			return
		}
		for _, c := range d.Components {
			if c.State != cni.NotEnforcing {
				continue
			}
			f := meta.NewFinding(c.Object, fmt.Sprintf("%s does not enforce NetworkPolicy: %s; the NetworkPolicies isolating %s have no effect",
				c.Name, c.Why, strings.Join(v.protected, ", ")))
			res.Findings = append(res.Findings, f)
		}
	})
}

// cniUnknown: when the auditor cannot recognise the CNI, or recognises it but cannot
// tell whether it enforces, it says so instead of staying silent.
func cniUnknown(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "cni-unknown", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Title: "Cannot tell whether the CNI enforces NetworkPolicy",
		Pass:  "the CNI is known, and whether it enforces NetworkPolicy is known",
		Remediation: "Confirm enforcement with the active network probe (--probe-network) or a two-pod test (a default-deny " +
			"policy, then a connection that must fail). For a recognised CNI, fix what hides its state (an image pinned by digest " +
			"only, unreadable ConfigMaps); for an unrecognised one, add it to the CNI catalogue in docs/rules/sr1.md and the auditor.",
	}
	return cniCheck(meta, func(_ *view, d cni.Detection, res *auditor.Result) {
		if len(d.Inconclusive) > 0 || d.Verdict != cni.Unknown {
			return
		}
		if len(d.Components) == 0 {
			seen := "no DaemonSet"
			if len(d.DaemonSets) > 0 {
				seen = fmt.Sprintf("none of the %d DaemonSets (%s) is a known CNI", len(d.DaemonSets), family.JoinBounded(d.DaemonSets, 15))
			}
			res.Findings = append(res.Findings, meta.NewFinding(nil, seen+
				" and no node carries the k3s.io/node-args annotation: cannot tell whether NetworkPolicies are enforced"))
			return
		}
		for _, c := range d.Components {
			if c.State == cni.Unknown {
				res.Findings = append(res.Findings, meta.NewFinding(c.Object, fmt.Sprintf("%s detected, but whether it enforces NetworkPolicy cannot be told: %s", c.Name, c.Why)))
			}
		}
	})
}

// cniCheck is a rule over the CNI detection (cni.Detect, once per evaluation): it reads
// what the detection reads, and what the detection could not tell is inconclusive.
func cniCheck(meta auditor.RuleMeta, judge func(v *view, d cni.Detection, res *auditor.Result)) check {
	meta.Inputs = cni.Inputs
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		d := v.cni()
		res := auditor.Result{Inconclusive: slices.Clone(d.Inconclusive)}
		judge(v, d, &res)
		return res
	}}
}
