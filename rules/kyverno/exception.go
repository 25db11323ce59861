package kyverno

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
)

// Exception is the view of a kyverno.io PolicyException (v2, v2beta1): the policy rules
// it exempts and the resources it applies to (kyverno api/kyverno/v2
// policy_exception_types.go: spec.exceptions[].policyName, ruleNames (wildcards),
// spec.match, spec.conditions).
type Exception struct {
	ExceptionID
	Refs  []ExceptionRef
	Match Match
	// Conditions: spec.conditions is set; ConditionsRaw holds it, which ConditionsHold
	// evaluates on a request as Kyverno's engine does (variables and operators), and
	// Text its strings (the keys and values tenant variants are drawn from).
	Conditions    bool
	ConditionsRaw any
	Text          []string
	Problems      []string
}

// ConditionsHold evaluates spec.conditions on a request (pkg/engine/utils
// MatchesException: an exception with conditions applies only where they hold); true
// without conditions. An error is a condition the auditor cannot evaluate (a context
// variable, an unknown operator).
func (e *Exception) ConditionsHold(req AdmissionRequest) (bool, string, error) {
	if !e.Conditions || e.ConditionsRaw == nil {
		return true, "", nil
	}
	ctx, err := req.jsonContext()
	if err != nil {
		return false, "", err
	}
	return evalConditions(e.ConditionsRaw, "spec.conditions", ctx)
}

// ExceptionRef is one entry of spec.exceptions.
type ExceptionRef struct {
	PolicyName string // "name" for a ClusterPolicy, "namespace/name" for a Policy
	RuleNames  []string
}

// ExceptionID identifies a PolicyException of either API (kyverno.io, policies.kyverno.io).
type ExceptionID struct{ APIVersion, Namespace, Name string }

// String names the exception in messages.
func (id ExceptionID) String() string { return "PolicyException " + id.Namespace + "/" + id.Name }

// readException starts reading a PolicyException of either API: its identity, the
// reader that collects its problems under that name, and its spec.
func readException(u *unstructured.Unstructured) (ExceptionID, *fields.Reader, map[string]any) {
	id := ExceptionID{APIVersion: u.GetAPIVersion(), Namespace: u.GetNamespace(), Name: u.GetName()}
	r := &fields.Reader{What: id.String()}
	return id, r, r.Obj(u.Object, "spec", "spec")
}

// NewException reads a kyverno.io PolicyException.
func NewException(u *unstructured.Unstructured) *Exception {
	id, r, spec := readException(u)
	e := &Exception{ExceptionID: id}
	for p, m := range r.Objects(spec, "exceptions", "spec.exceptions") {
		e.Refs = append(e.Refs, ExceptionRef{PolicyName: r.Str(m, "policyName", p+".policyName"), RuleNames: r.Strs(m, "ruleNames", p+".ruleNames")})
	}
	e.Match = readMatch(r, spec, "match", "spec.match")
	e.ConditionsRaw, e.Conditions = spec["conditions"]
	gatherStrings(e.ConditionsRaw, &e.Text)
	e.Problems = r.Problems
	return e
}

// ExemptsRule reports whether the exception names a rule of a ClusterPolicy (rule names
// are wildcards, as kyverno's Exception.Contains matches them).
func (e *Exception) ExemptsRule(policy, rule string) bool {
	for _, ref := range e.Refs {
		if ref.PolicyName == policy && anyWildcard(ref.RuleNames, rule) {
			return true
		}
	}
	return false
}

// AppliesToPodsIn reports whether the exception's match can select a pod CREATE in ns,
// and how. Names, labels and annotations narrow nothing (the pod's author chooses
// them); requester conditions are named.
func (e *Exception) AppliesToPodsIn(ns *corev1.Namespace) (bool, string) {
	m := e.Match
	if len(m.Any) == 0 && len(m.All) == 0 {
		return false, ""
	}
	var hows []string
	if len(m.Any) > 0 {
		ok := false
		for _, f := range m.Any {
			if sel, how := f.mayMatchPodIn(ns); sel {
				ok = true
				hows = append(hows, how)
				break
			}
		}
		if !ok {
			return false, ""
		}
	}
	for _, f := range m.All {
		sel, how := f.mayMatchPodIn(ns)
		if !sel {
			return false, ""
		}
		hows = append(hows, how)
	}
	return true, strings.Join(hows, " and ")
}

// mayMatchPodIn reports whether a filter can match the CREATE of some pod in ns.
func (f Filter) mayMatchPodIn(ns *corev1.Namespace) (bool, string) {
	if !f.selectsPodCreatesIn(ns) {
		return false, ""
	}
	how := f.Path
	var narrow []string
	if len(f.Names) > 0 && !anyWildcard(f.Names, "*") {
		narrow = append(narrow, fmt.Sprintf("pods named %v", f.Names))
	}
	if f.Selector != nil && !fields.SelectorAllows(f.Selector, nil) {
		narrow = append(narrow, "pods labelled "+fields.SelectorText(f.Selector))
	}
	if len(f.Annotations) > 0 {
		narrow = append(narrow, "pods carrying its annotations")
	}
	if len(narrow) > 0 {
		how += " (" + strings.Join(narrow, ", ") + ", which any tenant can choose)"
	}
	if len(f.UserInfo) > 0 {
		how += fmt.Sprintf(" (for requests by its %s)", strings.Join(f.UserInfo, ", "))
	}
	return true, how
}

// CELException is the view of a policies.kyverno.io PolicyException, which exempts
// CEL policies (ValidatingPolicy...) by reference, under CEL matchConditions.
type CELException struct {
	ExceptionID
	Refs            []CELPolicyRef
	MatchConditions []admissionv1.MatchCondition
	Problems        []string
}

// CELPolicyRef is one entry of spec.policyRefs.
type CELPolicyRef struct{ Name, Kind string }

// NewCELException reads a policies.kyverno.io PolicyException.
func NewCELException(u *unstructured.Unstructured) *CELException {
	id, r, spec := readException(u)
	e := &CELException{ExceptionID: id}
	for p, m := range r.Objects(spec, "policyRefs", "spec.policyRefs") {
		e.Refs = append(e.Refs, CELPolicyRef{Name: r.Str(m, "name", p+".name"), Kind: r.Str(m, "kind", p+".kind")})
	}
	for p, m := range r.Objects(spec, "matchConditions", "spec.matchConditions") {
		var mc admissionv1.MatchCondition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &mc); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %s is not a match condition: %v", r.What, p, err))
			continue
		}
		e.MatchConditions = append(e.MatchConditions, mc)
	}
	e.Problems = r.Problems
	return e
}

// Exempts reports whether the exception references a policy of the kind and name
// (pkg/cel/engine ListExceptions compares both exactly).
func (e *CELException) Exempts(kind, name string) bool {
	for _, ref := range e.Refs {
		if ref.Name == name && ref.Kind == kind {
			return true
		}
	}
	return false
}
