package rules

import (
	"fmt"
	"sort"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Kyverno policies are read as unstructured into the small views below. The kyverno.io/v1
// Go types live in the main Kyverno module (github.com/kyverno/kyverno), whose go.mod
// carries ~385 requirements (sigstore, kyverno-json, pod-security-admission, ...), and the
// policies.kyverno.io types moved to github.com/kyverno/api in v1.17 and change version
// (v1alpha1, v1beta1, v1) release by release. A view keeps only what the gate checks read
// and records, instead of panicking on, a field of an unexpected type.

const (
	kyvernoGroup         = "kyverno.io"
	kyvernoPoliciesGroup = "policies.kyverno.io"

	// Kyverno's resource validating webhook configuration and webhook name prefixes
	// (kyverno pkg/config/config.go, v1.12..v1.17).
	kyvernoResourceWebhookConfig = "kyverno-resource-validating-webhook-cfg"
	kyvernoValidateWebhook       = "validate.kyverno.svc"
	kyvernoVpolWebhook           = "vpol.validate.kyverno.svc"
	kyvernoHealthLease           = "kyverno-health"
	kyvernoLastRequestAnnotation = "kyverno.io/last-request-time"
	// kyvernoConfigMap holds resourceFilters, requests Kyverno skips before any policy.
	kyvernoConfigMap = "kyverno"
)

// kyvernoFilter is one ResourceFilter of a match or exclude block: a resource description
// plus, when set, user-info conditions.
type kyvernoFilter struct {
	Path              string
	Kinds             []string
	Names             []string // names plus the deprecated name
	Namespaces        []string
	Operations        []string
	Annotations       map[string]any
	Selector          *metav1.LabelSelector
	NamespaceSelector *metav1.LabelSelector
	UserInfo          []string // "subjects", "roles", "clusterRoles" when set
}

// kyvernoMatch is a match or exclude block: any (one filter suffices) and/or all (every
// filter must hold). The legacy form (resources at the top of the block) reads as all.
type kyvernoMatch struct {
	Set bool
	Any []kyvernoFilter
	All []kyvernoFilter
}

// failureActionOverride is one entry of validationFailureActionOverrides or of a rule's
// validate.failureActionOverrides.
type failureActionOverride struct {
	Path              string
	Action            string
	Namespaces        []string
	NamespaceSelector *metav1.LabelSelector
}

// kyvernoRule is one rule of a ClusterPolicy.
type kyvernoRule struct {
	Index          int
	Name           string
	Match, Exclude kyvernoMatch
	Validate       bool // the rule has a validate block
	FailureAction  string
	Overrides      []failureActionOverride
	// Text is every key and string value of the rule's checks (validate, preconditions,
	// context), in which the GPU resource names and the queue label are looked for.
	Text []string
}

func (r kyvernoRule) path() string { return fmt.Sprintf("spec.rules[%d]", r.Index) }

// clusterPolicy is the view of a kyverno.io ClusterPolicy.
type clusterPolicy struct {
	APIVersion string
	Name       string
	// ValidationFailureAction is spec.validationFailureAction; "" means the CRD default, Audit.
	ValidationFailureAction string
	Overrides               []failureActionOverride
	Admission               bool
	// FailurePolicy is the effective webhook failure policy and FailurePolicyFrom the field
	// it came from ("" when defaulted to Fail).
	FailurePolicy     string
	FailurePolicyFrom string
	Ready             policyReadiness
	// GeneratedVAP: Kyverno generated a ValidatingAdmissionPolicy from the policy and
	// left it out of its own webhook; the VAP and its binding enforce it.
	GeneratedVAP bool
	Rules        []kyvernoRule
	Problems     []string
}

// policyReadiness is what the policy's status says about it being in effect.
type policyReadiness struct {
	Known  bool // the status reports policyReadiness
	Ready  bool
	Detail string
}

// judgeReadiness turns the Ready condition (or the deprecated status.ready) into a
// policyReadiness. An object read from an API server (it has a UID or creation timestamp) but
// without status has not been processed by Kyverno; a manifest has no status to judge.
func judgeReadiness(u *unstructured.Unstructured, c statusCondition, legacy *bool, field string) policyReadiness {
	switch {
	case c.Found:
		return policyReadiness{Known: true, Ready: c.Status == string(metav1.ConditionTrue), Detail: "Ready condition " + c.String()}
	case legacy != nil:
		return policyReadiness{Known: true, Ready: *legacy, Detail: fmt.Sprintf("%s is %t", field, *legacy)}
	case u.GetUID() != "" || u.GetCreationTimestamp() != metav1.Time{}:
		return policyReadiness{Known: true, Detail: "no Ready condition in status: Kyverno has not processed the policy"}
	}
	return policyReadiness{}
}

func newClusterPolicy(u *unstructured.Unstructured) *clusterPolicy {
	r := &fieldReader{what: "ClusterPolicy " + u.GetName()}
	p := &clusterPolicy{APIVersion: u.GetAPIVersion(), Name: u.GetName(), Admission: true, FailurePolicy: "Fail"}
	spec := r.obj(u.Object, "spec", "spec")
	p.ValidationFailureAction = r.str(spec, "validationFailureAction", "spec.validationFailureAction")
	p.Overrides = readOverrides(r, spec, "validationFailureActionOverrides", "spec.validationFailureActionOverrides")
	if b := r.boolean(spec, "admission", "spec.admission"); b != nil {
		p.Admission = *b
	}
	if v := r.str(r.obj(spec, "webhookConfiguration", "spec.webhookConfiguration"), "failurePolicy", "spec.webhookConfiguration.failurePolicy"); v != "" {
		p.FailurePolicy, p.FailurePolicyFrom = v, "spec.webhookConfiguration.failurePolicy"
	} else if v := r.str(spec, "failurePolicy", "spec.failurePolicy"); v != "" {
		p.FailurePolicy, p.FailurePolicyFrom = v, "spec.failurePolicy"
	}
	for i, rv := range r.list(spec, "rules", "spec.rules") {
		path := fmt.Sprintf("spec.rules[%d]", i)
		rm, ok := rv.(map[string]any)
		if !ok {
			r.bad(path, "an object", rv)
			continue
		}
		rule := kyvernoRule{Index: i, Name: r.str(rm, "name", path+".name")}
		rule.Match = readMatch(r, rm, "match", path+".match")
		rule.Exclude = readMatch(r, rm, "exclude", path+".exclude")
		if v := r.obj(rm, "validate", path+".validate"); len(v) > 0 {
			rule.Validate = true
			rule.FailureAction = r.str(v, "failureAction", path+".validate.failureAction")
			rule.Overrides = readOverrides(r, v, "failureActionOverrides", path+".validate.failureActionOverrides")
			for _, k := range []string{"validate", "preconditions", "celPreconditions", "context"} {
				gatherStrings(rm[k], &rule.Text)
			}
		}
		p.Rules = append(p.Rules, rule)
	}
	status := r.obj(u.Object, "status", "status")
	p.Ready = judgeReadiness(u, r.condition(status, "conditions", "status.conditions", "Ready"), r.boolean(status, "ready", "status.ready"), "status.ready")
	if b := r.boolean(r.obj(status, "validatingadmissionpolicy", "status.validatingadmissionpolicy"), "generated", "status.validatingadmissionpolicy.generated"); b != nil {
		p.GeneratedVAP = *b
	}
	p.Problems = r.problems
	return p
}

func readOverrides(r *fieldReader, m map[string]any, key, path string) []failureActionOverride {
	var out []failureActionOverride
	for i, v := range r.list(m, key, path) {
		p := fmt.Sprintf("%s[%d]", path, i)
		om, ok := v.(map[string]any)
		if !ok {
			r.bad(p, "an object", v)
			continue
		}
		out = append(out, failureActionOverride{
			Path:              p,
			Action:            r.str(om, "action", p+".action"),
			Namespaces:        r.strs(om, "namespaces", p+".namespaces"),
			NamespaceSelector: r.selector(om, "namespaceSelector", p+".namespaceSelector"),
		})
	}
	return out
}

func readMatch(r *fieldReader, m map[string]any, key, path string) kyvernoMatch {
	bm := r.obj(m, key, path)
	if bm == nil {
		return kyvernoMatch{}
	}
	out := kyvernoMatch{Set: true}
	for _, which := range []string{"any", "all"} {
		for i, v := range r.list(bm, which, path+"."+which) {
			p := fmt.Sprintf("%s.%s[%d]", path, which, i)
			fm, ok := v.(map[string]any)
			if !ok {
				r.bad(p, "an object", v)
				continue
			}
			f := readFilter(r, fm, p)
			if which == "any" {
				out.Any = append(out.Any, f)
			} else {
				out.All = append(out.All, f)
			}
		}
	}
	if _, legacy := bm["resources"]; legacy {
		out.All = append(out.All, readFilter(r, bm, path))
	}
	return out
}

func readFilter(r *fieldReader, m map[string]any, path string) kyvernoFilter {
	f := kyvernoFilter{Path: path}
	res := r.obj(m, "resources", path+".resources")
	rp := path + ".resources"
	f.Kinds = r.strs(res, "kinds", rp+".kinds")
	f.Names = r.strs(res, "names", rp+".names")
	if n := r.str(res, "name", rp+".name"); n != "" {
		f.Names = append(f.Names, n)
	}
	f.Namespaces = r.strs(res, "namespaces", rp+".namespaces")
	f.Operations = r.strs(res, "operations", rp+".operations")
	f.Annotations = r.obj(res, "annotations", rp+".annotations")
	f.Selector = r.selector(res, "selector", rp+".selector")
	f.NamespaceSelector = r.selector(res, "namespaceSelector", rp+".namespaceSelector")
	for _, k := range []string{"subjects", "roles", "clusterRoles"} {
		if l := r.list(m, k, path+"."+k); len(l) > 0 {
			f.UserInfo = append(f.UserInfo, k)
		}
	}
	return f
}

// selector reads a label selector; an invalid one is recorded and reads as one that
// matches nothing, as Kyverno and the API server treat a selector they cannot parse.
func (r *fieldReader) selector(m map[string]any, key, path string) *metav1.LabelSelector {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	sm, ok := v.(map[string]any)
	if !ok {
		r.bad(path, "a label selector", v)
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "-", Operator: metav1.LabelSelectorOpIn}}}
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sm, &sel); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: %s is not a label selector: %v", r.what, path, err))
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "-", Operator: metav1.LabelSelectorOpIn}}}
	}
	if _, err := metav1.LabelSelectorAsSelector(&sel); err != nil {
		r.problems = append(r.problems, fmt.Sprintf("%s: %s is not a valid label selector: %v", r.what, path, err))
	}
	return &sel
}

// selectorAllows evaluates a label selector; nil matches everything, an invalid one nothing.
func selectorAllows(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(l))
}

// selectorText renders a selector for messages.
func selectorText(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "<none>"
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "<invalid>"
	}
	if str := s.String(); str != "" {
		return str
	}
	return "<everything>"
}

// gatherStrings gathers every map key and string value under v, depth first in key order,
// leaving out messages shown to users: they describe the check, they are not the check.
func gatherStrings(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case []any:
		for _, e := range t {
			gatherStrings(e, out)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "message" || k == "messageExpression" {
				continue
			}
			*out = append(*out, k)
			gatherStrings(t[k], out)
		}
	}
}

// validatingPolicy is the view of a policies.kyverno.io ValidatingPolicy (any version).
type validatingPolicy struct {
	APIVersion        string
	Name              string
	MatchConstraints  *admissionv1.MatchResources
	ValidationActions []string
	FailurePolicy     string // "" means the default, Fail
	Admission         bool
	Ready             policyReadiness
	GeneratedVAP      bool
	Text              []string
	Problems          []string
}

func newValidatingPolicy(u *unstructured.Unstructured) *validatingPolicy {
	r := &fieldReader{what: "ValidatingPolicy " + u.GetName()}
	p := &validatingPolicy{APIVersion: u.GetAPIVersion(), Name: u.GetName(), Admission: true}
	spec := r.obj(u.Object, "spec", "spec")
	if mc := r.obj(spec, "matchConstraints", "spec.matchConstraints"); mc != nil {
		var m admissionv1.MatchResources
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(mc, &m); err != nil {
			r.problems = append(r.problems, fmt.Sprintf("%s: spec.matchConstraints is not a MatchResources: %v", r.what, err))
		} else {
			p.MatchConstraints = &m
		}
	}
	p.ValidationActions = r.strs(spec, "validationActions", "spec.validationActions")
	p.FailurePolicy = r.str(spec, "failurePolicy", "spec.failurePolicy")
	adm := r.obj(r.obj(spec, "evaluation", "spec.evaluation"), "admission", "spec.evaluation.admission")
	if b := r.boolean(adm, "enabled", "spec.evaluation.admission.enabled"); b != nil {
		p.Admission = *b
	}
	for _, k := range []string{"validations", "matchConditions", "variables"} {
		gatherStrings(spec[k], &p.Text)
	}
	status := r.obj(u.Object, "status", "status")
	cs := r.obj(status, "conditionStatus", "status.conditionStatus")
	p.Ready = judgeReadiness(u, r.condition(cs, "conditions", "status.conditionStatus.conditions", "Ready"), r.boolean(cs, "ready", "status.conditionStatus.ready"), "status.conditionStatus.ready")
	if b := r.boolean(status, "generated", "status.generated"); b != nil {
		p.GeneratedVAP = *b
	}
	p.Problems = r.problems
	return p
}
