package sr2

import (
	"fmt"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// gateInputs are the resources that can hold the admission gate.
var gateInputs = []string{
	auditor.ResourceKyvernoClusterPolicies, auditor.ResourceKyvernoValidatingPolicies,
	auditor.ResourceValidatingAdmissionPolicies, auditor.ResourceValidatingAdmissionBindings,
}

// gateSet holds the admission gates found under the configured names.
type gateSet struct {
	clusterPolicies    []*kyverno.ClusterPolicy
	validatingPolicies []*kyverno.ValidatingPolicy
	vaps               []*admissionv1.ValidatingAdmissionPolicy
	bindings           map[string][]*admissionv1.ValidatingAdmissionPolicyBinding
	// unboundVAPs exist under a gate name but no binding references them: they do nothing.
	unboundVAPs []string
}

func (g *gateSet) empty() bool {
	return len(g.clusterPolicies) == 0 && len(g.validatingPolicies) == 0 && len(g.vaps) == 0
}

func findGates(s *auditor.Snapshot, names []string) *gateSet {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := &gateSet{bindings: map[string][]*admissionv1.ValidatingAdmissionPolicyBinding{}}
	for _, u := range sortedByName(s.CustomObjects(kyverno.Group, "ClusterPolicy")) {
		if want[u.GetName()] {
			out.clusterPolicies = append(out.clusterPolicies, kyverno.NewClusterPolicy(u))
		}
	}
	for _, u := range sortedByName(s.CustomObjects(kyverno.PoliciesGroup, "ValidatingPolicy")) {
		if want[u.GetName()] {
			out.validatingPolicies = append(out.validatingPolicies, kyverno.NewValidatingPolicy(u))
		}
	}
	for _, b := range s.ValidatingAdmissionBindings {
		if want[b.Spec.PolicyName] {
			out.bindings[b.Spec.PolicyName] = append(out.bindings[b.Spec.PolicyName], b)
		}
	}
	for _, v := range s.ValidatingAdmissionPolicies {
		if !want[v.Name] {
			continue
		}
		if len(out.bindings[v.Name]) == 0 {
			out.unboundVAPs = append(out.unboundVAPs, v.Name)
			continue
		}
		out.vaps = append(out.vaps, v)
	}
	sort.Slice(out.vaps, func(i, j int) bool { return out.vaps[i].Name < out.vaps[j].Name })
	sort.Strings(out.unboundVAPs)
	return out
}

// gateCheck is a check of the gates found under the configured names; it judges only
// when some namespace is Kueue-managed (otherwise there is nothing to gate).
func gateCheck(meta auditor.RuleMeta, eval func(v *view, found *gateSet, s *auditor.Snapshot) auditor.Result) check {
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		if len(v.managed) == 0 {
			return auditor.Result{}
		}
		return eval(v, v.gates(), s)
	}}
}

func sortedByName(in []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// gatePolicyMissing: Kueue-managed namespaces exist but no admission gate under the
// configured names does: nothing stops a GPU pod without a queue name at admission.
func gatePolicyMissing(cfg auditor.Config) check {
	names := strings.Join(cfg.SR2.GatePolicyNames, ", ")
	first := "require-kueue-queue-name"
	if len(cfg.SR2.GatePolicyNames) > 0 {
		first = cfg.SR2.GatePolicyNames[0]
	}
	meta := auditor.RuleMeta{
		ID: "gpu-gate-policy-missing", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "No admission gate requires a Kueue queue name on GPU pods",
		Pass:  "an admission gate requires a Kueue queue name on GPU pods",
		Remediation: fmt.Sprintf("Apply the Kyverno ClusterPolicy %s (validate rule on Pods in namespaces matching the "+
			"Kueue-managed selector, failureAction: Enforce, denying GPU requests without label %s), or a "+
			"ValidatingAdmissionPolicy of that name together with a ValidatingAdmissionPolicyBinding with validationActions [Deny].",
			first, cfg.SR2.QueueNameLabel),
		Inputs: append([]string{auditor.ResourceNamespaces}, gateInputs...),
		Needs:  []string{auditor.ResourceNamespaces},
		// Missing: no gate among the inputs.
		Absence: gateInputs,
	}
	return gateCheck(meta, func(v *view, found *gateSet, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if !found.empty() {
			return res
		}
		if hidden := inputs.Hidden(s, gateInputs); len(hidden) > 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("no admission gate named %s is visible, but %s", names, strings.Join(hidden, ", ")))
			return res
		}
		msg := fmt.Sprintf("no admission gate named %s exists (Kyverno ClusterPolicy, Kyverno ValidatingPolicy, or ValidatingAdmissionPolicy with a binding), "+
			"yet Kueue-managed namespaces %s exist: GPU pods without label %s are admitted there",
			names, strings.Join(family.NamespaceNames(v.managed), ", "), cfg.SR2.QueueNameLabel)
		if len(found.unboundVAPs) > 0 {
			msg += fmt.Sprintf("; ValidatingAdmissionPolicy %s exists but no ValidatingAdmissionPolicyBinding references it", strings.Join(found.unboundVAPs, ", "))
		}
		res.Findings = append(res.Findings, meta.NewFinding(nil, msg))
		return res
	})
}
