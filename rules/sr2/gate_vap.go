package sr2

import (
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
)

// admissionPolicy checks a native ValidatingAdmissionPolicy gate and its bindings.
func (c gateChecker) admissionPolicy(p *admissionv1.ValidatingAdmissionPolicy, bindings []*admissionv1.ValidatingAdmissionPolicyBinding) gateVerdict {
	v := gateVerdict{Object: &auditor.ObjectRef{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicy", Name: p.Name}}
	what := "ValidatingAdmissionPolicy " + p.Name
	var deny []*admissionv1.ValidatingAdmissionPolicyBinding
	var actions []string
	for _, b := range bindings {
		acts := make([]string, 0, len(b.Spec.ValidationActions))
		isDeny := false
		for _, a := range b.Spec.ValidationActions {
			acts = append(acts, string(a))
			isDeny = isDeny || a == admissionv1.Deny
		}
		if isDeny {
			deny = append(deny, b)
		}
		actions = append(actions, fmt.Sprintf("%s %v", b.Name, acts))
	}
	if len(deny) == 0 {
		v.add("binding-actions", auditor.SeverityCritical, "Set validationActions: [Deny] on the ValidatingAdmissionPolicyBinding.",
			"%s has no binding with validationAction Deny (%s): violations are only audited or warned about", what, strings.Join(actions, ", "))
		deny = bindings
	}
	c.checkMatch(&v, what, "spec.matchConstraints", p.Spec.MatchConstraints, deny)
	covers := func(ns *corev1.Namespace) bool {
		if ok, _ := matchResourcesCover(p.Spec.MatchConstraints, ns, "spec.matchConstraints", true); !ok {
			return false
		}
		for _, b := range deny {
			if !slices.Contains(b.Spec.ValidationActions, admissionv1.Deny) {
				continue
			}
			if ok, _ := matchResourcesCover(b.Spec.MatchResources, ns, "", false); ok {
				return true
			}
		}
		return false
	}
	c.evalBattery(&v, what, covers, celPolicyEval(celmatch.CompilePolicy(vapSpec(p))))
	if p.Spec.FailurePolicy != nil && *p.Spec.FailurePolicy == admissionv1.Ignore {
		v.add("failure-policy", auditor.SeverityHigh, "Set spec.failurePolicy: Fail.",
			"%s has spec.failurePolicy Ignore: a pod on which the CEL check errors (a missing field, a type mismatch) is admitted unchecked", what)
	}
	return v
}

// checkMatch reports the managed namespaces whose pod creates a MatchResources-style gate
// (ValidatingAdmissionPolicy, Kyverno ValidatingPolicy) does not reach. With bindings, a
// namespace must also be reached by at least one of them.
func (c gateChecker) checkMatch(v *gateVerdict, what, field string, mr *admissionv1.MatchResources, bindings []*admissionv1.ValidatingAdmissionPolicyBinding) {
	var uncovered []string
	for _, ns := range c.managed {
		ok, why := matchResourcesCover(mr, ns, field, true)
		if ok && bindings != nil {
			var whys []string
			ok = false
			for _, b := range bindings {
				bok, bwhy := matchResourcesCover(b.Spec.MatchResources, ns, "ValidatingAdmissionPolicyBinding "+b.Name+" spec.matchResources", false)
				if bok {
					ok = true
					break
				}
				whys = append(whys, bwhy)
			}
			why = strings.Join(whys, "; ")
		}
		if !ok {
			uncovered = append(uncovered, fmt.Sprintf("%s (%s)", ns.Name, why))
		}
	}
	if len(uncovered) > 0 {
		v.add("match", auditor.SeverityCritical,
			"Match pods (apiGroups [\"\"], apiVersions [v1], resources [pods], operations [CREATE]) with a namespaceSelector equal to the Kueue-managed selector and no objectSelector, resourceNames or excludeResourceRules a tenant can satisfy.",
			"%s does not cover every pod in Kueue-managed namespaces: %s", what, strings.Join(uncovered, ", "))
	}
}

// matchResourcesCover reports whether MatchResources select the CREATE of every pod in ns.
// A policy's matchConstraints need resource rules; a binding's may omit them.
func matchResourcesCover(mr *admissionv1.MatchResources, ns *corev1.Namespace, field string, needRules bool) (bool, string) {
	if mr == nil {
		if needRules {
			return false, field + " is not set"
		}
		return true, ""
	}
	if !fields.SelectorAllows(mr.NamespaceSelector, ns.Labels) {
		return false, fmt.Sprintf("%s.namespaceSelector (%s) does not select it", field, fields.SelectorText(mr.NamespaceSelector))
	}
	if mr.ObjectSelector != nil && !fields.SelectorAllows(mr.ObjectSelector, nil) {
		return false, fmt.Sprintf("%s.objectSelector (%s) covers only pods carrying those labels", field, fields.SelectorText(mr.ObjectSelector))
	}
	if len(mr.ResourceRules) == 0 {
		if needRules {
			return false, field + ".resourceRules is empty"
		}
	} else {
		ok := false
		for _, r := range mr.ResourceRules {
			if len(r.ResourceNames) == 0 && ruleCoversPodCreate(r.RuleWithOperations) {
				ok = true
				break
			}
		}
		if !ok {
			return false, field + ".resourceRules do not select the CREATE of every pod"
		}
	}
	for i, r := range mr.ExcludeResourceRules {
		if ruleCoversPodCreate(r.RuleWithOperations) {
			if len(r.ResourceNames) > 0 {
				return false, fmt.Sprintf("%s.excludeResourceRules[%d] excludes pods named %v, which any tenant can choose", field, i, r.ResourceNames)
			}
			return false, fmt.Sprintf("%s.excludeResourceRules[%d] excludes pods", field, i)
		}
	}
	return true, ""
}

// ruleCoversPodCreate reports whether an admission rule selects CREATE of core/v1 pods.
func ruleCoversPodCreate(r admissionv1.RuleWithOperations) bool {
	ops := false
	for _, o := range r.Operations {
		ops = ops || o == admissionv1.Create || o == admissionv1.OperationAll
	}
	groups := slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, "*")
	versions := slices.Contains(r.APIVersions, "v1") || slices.Contains(r.APIVersions, "*")
	resources := slices.Contains(r.Resources, "pods") || slices.Contains(r.Resources, "*") || slices.Contains(r.Resources, "*/*")
	scope := r.Scope == nil || *r.Scope == admissionv1.AllScopes || *r.Scope == admissionv1.NamespacedScope
	return ops && groups && versions && resources && scope
}
