// Package kyverno reads Kyverno's policies (kyverno.io ClusterPolicy, policies.kyverno.io
// ValidatingPolicy) from unstructured into small typed views, and implements the part of
// Kyverno's semantics the GPU gate checks need: match and exclude blocks, kind selectors
// and wildcards, failure-action overrides, and the resourceFilters of Kyverno's ConfigMap.
package kyverno

import (
	"fmt"
	"sort"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
)

// Kyverno policies are read as unstructured into the small views below. The kyverno.io/v1
// Go types live in the main Kyverno module (github.com/kyverno/kyverno), whose go.mod
// carries ~385 requirements (sigstore, kyverno-json, pod-security-admission, ...), and the
// policies.kyverno.io types moved to github.com/kyverno/api in v1.17 and change version
// (v1alpha1, v1beta1, v1) release by release. A view keeps only what the gate checks read
// and records, instead of panicking on, a field of an unexpected type.

const (
	// Group is the API group of ClusterPolicy; PoliciesGroup that of ValidatingPolicy.
	Group         = "kyverno.io"
	PoliciesGroup = "policies.kyverno.io"

	// Kyverno's resource validating webhook configuration and webhook name prefixes
	// (kyverno pkg/config/config.go, v1.12..v1.17).
	ResourceWebhookConfig = "kyverno-resource-validating-webhook-cfg"
	ValidateWebhook       = "validate.kyverno.svc"
	VpolWebhook           = "vpol.validate.kyverno.svc"
	// HealthLease is the Lease Kyverno renews while healthy, stamped with
	// LastRequestAnnotation.
	HealthLease           = "kyverno-health"
	LastRequestAnnotation = "kyverno.io/last-request-time"
	// ConfigMap holds resourceFilters, requests Kyverno skips before any policy.
	ConfigMap = "kyverno"
)

// Filter is one ResourceFilter of a match or exclude block: a resource description
// plus, when set, user-info conditions.
type Filter struct {
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

// Match is a match or exclude block: any (one filter suffices) and/or all (every
// filter must hold). The legacy form (resources at the top of the block) reads as all.
type Match struct {
	Set bool
	Any []Filter
	All []Filter
}

// FailureActionOverride is one entry of validationFailureActionOverrides or of a rule's
// validate.failureActionOverrides.
type FailureActionOverride struct {
	Path              string
	Action            string
	Namespaces        []string
	NamespaceSelector *metav1.LabelSelector
}

// Rule is one rule of a ClusterPolicy.
type Rule struct {
	Index          int
	Name           string
	Match, Exclude Match
	Validate       bool // the rule has a validate block
	FailureAction  string
	Overrides      []FailureActionOverride
	// Text is every key and string value of the rule's checks (validate, preconditions,
	// context), in which the GPU resource names and the queue label are looked for.
	Text []string
	// Raw is the rule as written, which EvaluatePodCreate evaluates.
	Raw map[string]any
}

func (r Rule) Path() string { return fmt.Sprintf("spec.rules[%d]", r.Index) }

// ClusterPolicy is the view of a kyverno.io ClusterPolicy.
type ClusterPolicy struct {
	APIVersion string
	Name       string
	// ValidationFailureAction is spec.validationFailureAction; "" means the CRD default, Audit.
	ValidationFailureAction string
	Overrides               []FailureActionOverride
	Admission               bool
	// FailurePolicy is the effective webhook failure policy and FailurePolicyFrom the field
	// it came from ("" when defaulted to Fail).
	FailurePolicy     string
	FailurePolicyFrom string
	Ready             Readiness
	// GeneratedVAP: Kyverno generated a ValidatingAdmissionPolicy from the policy and
	// left it out of its own webhook; the VAP and its binding enforce it.
	GeneratedVAP bool
	Rules        []Rule
	Problems     []string
}

// Readiness is what the policy's status says about it being in effect.
type Readiness struct {
	Known  bool // the status reports Readiness
	Ready  bool
	Detail string
}

// judgeReadiness turns the Ready condition (or the deprecated status.ready) into a
// Readiness. An object read from an API server (it has a UID or creation timestamp) but
// without status has not been processed by Kyverno; a manifest has no status to judge.
func judgeReadiness(u *unstructured.Unstructured, c fields.Condition, legacy *bool, field string) Readiness {
	switch {
	case c.Found:
		return Readiness{Known: true, Ready: c.Status == string(metav1.ConditionTrue), Detail: "Ready condition " + c.String()}
	case legacy != nil:
		return Readiness{Known: true, Ready: *legacy, Detail: fmt.Sprintf("%s is %t", field, *legacy)}
	case u.GetUID() != "" || u.GetCreationTimestamp() != metav1.Time{}:
		return Readiness{Known: true, Detail: "no Ready condition in status: Kyverno has not processed the policy"}
	}
	return Readiness{}
}

func NewClusterPolicy(u *unstructured.Unstructured) *ClusterPolicy {
	r := &fields.Reader{What: "ClusterPolicy " + u.GetName()}
	p := &ClusterPolicy{APIVersion: u.GetAPIVersion(), Name: u.GetName(), Admission: true, FailurePolicy: "Fail"}
	spec := r.Obj(u.Object, "spec", "spec")
	p.ValidationFailureAction = r.Str(spec, "validationFailureAction", "spec.validationFailureAction")
	p.Overrides = readOverrides(r, spec, "validationFailureActionOverrides", "spec.validationFailureActionOverrides")
	if b := r.Boolean(spec, "admission", "spec.admission"); b != nil {
		p.Admission = *b
	}
	if v := r.Str(r.Obj(spec, "webhookConfiguration", "spec.webhookConfiguration"), "failurePolicy", "spec.webhookConfiguration.failurePolicy"); v != "" {
		p.FailurePolicy, p.FailurePolicyFrom = v, "spec.webhookConfiguration.failurePolicy"
	} else if v := r.Str(spec, "failurePolicy", "spec.failurePolicy"); v != "" {
		p.FailurePolicy, p.FailurePolicyFrom = v, "spec.failurePolicy"
	}
	for i, rv := range r.List(spec, "rules", "spec.rules") {
		path := fmt.Sprintf("spec.rules[%d]", i)
		rm, ok := rv.(map[string]any)
		if !ok {
			r.Bad(path, "an object", rv)
			continue
		}
		rule := Rule{Index: i, Name: r.Str(rm, "name", path+".name"), Raw: rm}
		rule.Match = readMatch(r, rm, "match", path+".match")
		rule.Exclude = readMatch(r, rm, "exclude", path+".exclude")
		if v := r.Obj(rm, "validate", path+".validate"); len(v) > 0 {
			rule.Validate = true
			rule.FailureAction = r.Str(v, "failureAction", path+".validate.failureAction")
			rule.Overrides = readOverrides(r, v, "failureActionOverrides", path+".validate.failureActionOverrides")
			for _, k := range []string{"validate", "preconditions", "celPreconditions", "context"} {
				gatherStrings(rm[k], &rule.Text)
			}
		}
		p.Rules = append(p.Rules, rule)
	}
	status := r.Obj(u.Object, "status", "status")
	p.Ready = judgeReadiness(u, r.Condition(status, "conditions", "status.conditions", "Ready"), r.Boolean(status, "ready", "status.ready"), "status.ready")
	if b := r.Boolean(r.Obj(status, "validatingadmissionpolicy", "status.validatingadmissionpolicy"), "generated", "status.validatingadmissionpolicy.generated"); b != nil {
		p.GeneratedVAP = *b
	}
	p.Problems = r.Problems
	return p
}

func readOverrides(r *fields.Reader, m map[string]any, key, path string) []FailureActionOverride {
	var out []FailureActionOverride
	for p, om := range r.Objects(m, key, path) {
		out = append(out, FailureActionOverride{
			Path:              p,
			Action:            r.Str(om, "action", p+".action"),
			Namespaces:        r.Strs(om, "namespaces", p+".namespaces"),
			NamespaceSelector: r.Selector(om, "namespaceSelector", p+".namespaceSelector"),
		})
	}
	return out
}

func readMatch(r *fields.Reader, m map[string]any, key, path string) Match {
	bm := r.Obj(m, key, path)
	if bm == nil {
		return Match{}
	}
	out := Match{Set: true}
	for _, which := range []string{"any", "all"} {
		for p, fm := range r.Objects(bm, which, path+"."+which) {
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

func readFilter(r *fields.Reader, m map[string]any, path string) Filter {
	f := Filter{Path: path}
	res := r.Obj(m, "resources", path+".resources")
	rp := path + ".resources"
	f.Kinds = r.Strs(res, "kinds", rp+".kinds")
	f.Names = r.Strs(res, "names", rp+".names")
	if n := r.Str(res, "name", rp+".name"); n != "" {
		f.Names = append(f.Names, n)
	}
	f.Namespaces = r.Strs(res, "namespaces", rp+".namespaces")
	f.Operations = r.Strs(res, "operations", rp+".operations")
	f.Annotations = r.Obj(res, "annotations", rp+".annotations")
	f.Selector = r.Selector(res, "selector", rp+".selector")
	f.NamespaceSelector = r.Selector(res, "namespaceSelector", rp+".namespaceSelector")
	for _, k := range []string{"subjects", "roles", "clusterRoles"} {
		if l := r.List(m, k, path+"."+k); len(l) > 0 {
			f.UserInfo = append(f.UserInfo, k)
		}
	}
	return f
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

// ValidatingPolicy is the view of a policies.kyverno.io ValidatingPolicy (any version).
type ValidatingPolicy struct {
	APIVersion        string
	Name              string
	MatchConstraints  *admissionv1.MatchResources
	ValidationActions []string
	FailurePolicy     string // "" means the default, Fail
	Admission         bool
	Ready             Readiness
	GeneratedVAP      bool
	Text              []string
	// Validations, Variables and MatchConditions are the CEL the policy evaluates.
	Validations     []admissionv1.Validation
	Variables       []admissionv1.Variable
	MatchConditions []admissionv1.MatchCondition
	HasParams       bool
	Problems        []string
}

func NewValidatingPolicy(u *unstructured.Unstructured) *ValidatingPolicy {
	r := &fields.Reader{What: "ValidatingPolicy " + u.GetName()}
	p := &ValidatingPolicy{APIVersion: u.GetAPIVersion(), Name: u.GetName(), Admission: true}
	spec := r.Obj(u.Object, "spec", "spec")
	if mc := r.Obj(spec, "matchConstraints", "spec.matchConstraints"); mc != nil {
		var m admissionv1.MatchResources
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(mc, &m); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: spec.matchConstraints is not a MatchResources: %v", r.What, err))
		} else {
			p.MatchConstraints = &m
		}
	}
	p.ValidationActions = r.Strs(spec, "validationActions", "spec.validationActions")
	p.FailurePolicy = r.Str(spec, "failurePolicy", "spec.failurePolicy")
	adm := r.Obj(r.Obj(spec, "evaluation", "spec.evaluation"), "admission", "spec.evaluation.admission")
	if b := r.Boolean(adm, "enabled", "spec.evaluation.admission.enabled"); b != nil {
		p.Admission = *b
	}
	for _, k := range []string{"validations", "matchConditions", "variables"} {
		gatherStrings(spec[k], &p.Text)
	}
	convertList(r, spec, "validations", &p.Validations)
	convertList(r, spec, "variables", &p.Variables)
	convertList(r, spec, "matchConditions", &p.MatchConditions)
	_, p.HasParams = spec["paramKind"]
	status := r.Obj(u.Object, "status", "status")
	cs := r.Obj(status, "conditionStatus", "status.conditionStatus")
	p.Ready = judgeReadiness(u, r.Condition(cs, "conditions", "status.conditionStatus.conditions", "Ready"), r.Boolean(cs, "ready", "status.conditionStatus.ready"), "status.conditionStatus.ready")
	if b := r.Boolean(status, "generated", "status.generated"); b != nil {
		p.GeneratedVAP = *b
	}
	p.Problems = r.Problems
	return p
}

// convertList converts spec[key], a list, into typed elements, recording a problem for
// an element of the wrong shape.
func convertList[T any](r *fields.Reader, spec map[string]any, key string, out *[]T) {
	for p, m := range r.Objects(spec, key, "spec."+key) {
		var v T
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &v); err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s: %s: %v", r.What, p, err))
			continue
		}
		*out = append(*out, v)
	}
}
