package kyverno

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno/operator"
)

// Kyverno's match, exclude and failure-action semantics, as far as the gate checks need
// them: does a ClusterPolicy rule reach the CREATE of every pod in a namespace, and does
// it enforce there.

// Wildcard is Kyverno's wildcard: `*` matches any run of characters, `?` one (its
// ext/wildcard Match, ported once in the operator package).
func Wildcard(pattern, s string) bool { return operator.WildcardMatch(pattern, s) }

func anyWildcard(patterns []string, s string) bool {
	for _, p := range patterns {
		if Wildcard(p, s) {
			return true
		}
	}
	return false
}

var versionRE = regexp.MustCompile(`^(v\d+((alpha|beta)\d+)?|\*)$`)

// parseKindSelector splits a Kyverno kind selector ("Pod", "v1/Pod", "*/*",
// "apps/v1/Deployment", "Pod/exec", "Pod.status") into group, version, kind and
// subresource, as kyverno pkg/utils/kube ParseKindSelector does.
func parseKindSelector(in string) (group, version, kind, sub string) {
	parts := strings.Split(in, "/")
	parts = append(parts[:len(parts)-1], strings.Split(parts[len(parts)-1], ".")...)
	switch len(parts) {
	case 1:
		return "*", "*", parts[0], ""
	case 2:
		if parts[0] == "*" && parts[1] == "*" {
			return "*", "*", "*", "*"
		}
		if parts[0] == "*" && strings.ToLower(parts[1]) == parts[1] {
			return "*", "*", parts[0], parts[1]
		}
		if versionRE.MatchString(parts[0]) {
			return "*", parts[0], parts[1], ""
		}
		return "*", "*", parts[0], parts[1]
	case 3:
		if versionRE.MatchString(parts[0]) {
			return "*", parts[0], parts[1], parts[2]
		}
		return parts[0], parts[1], parts[2], ""
	case 4:
		return parts[0], parts[1], parts[2], parts[3]
	}
	return "", "", "", ""
}

// KindSelectsPodCreate reports whether a Kyverno kind selector matches a CREATE of a core/v1 Pod.
func KindSelectsPodCreate(sel string) bool {
	g, v, k, sub := parseKindSelector(sel)
	if k == "" || (sub != "" && sub != "*") {
		return false
	}
	groupOK := Wildcard(g, "") || g == "core"
	return groupOK && Wildcard(v, "v1") && Wildcard(k, "Pod")
}

// SelectsEveryPodIn reports whether a match filter selects the CREATE of every pod in ns,
// whatever the pod's name, labels and annotations, and for every requester. When it does
// not, the reason names the field that narrows it.
func (f Filter) SelectsEveryPodIn(ns *corev1.Namespace) (bool, string) {
	if len(f.Kinds) == 0 {
		return false, f.Path + ".resources.kinds is empty"
	}
	if !anyKindSelectsPod(f.Kinds) {
		return false, fmt.Sprintf("%s.resources.kinds %v does not include Pod", f.Path, f.Kinds)
	}
	if len(f.Operations) > 0 && !hasFold(f.Operations, "CREATE") {
		return false, fmt.Sprintf("%s.resources.operations %v does not include CREATE", f.Path, f.Operations)
	}
	if len(f.Namespaces) > 0 && !anyWildcard(f.Namespaces, ns.Name) {
		return false, fmt.Sprintf("%s.resources.namespaces %v does not include it", f.Path, f.Namespaces)
	}
	if !fields.SelectorAllows(f.NamespaceSelector, ns.Labels) {
		return false, fmt.Sprintf("%s.resources.namespaceSelector (%s) does not select it", f.Path, fields.SelectorText(f.NamespaceSelector))
	}
	if len(f.Names) > 0 && !slices.Contains(f.Names, "*") {
		return false, fmt.Sprintf("%s.resources.names %v covers only pods so named", f.Path, f.Names)
	}
	if f.Selector != nil && !fields.SelectorAllows(f.Selector, nil) {
		return false, fmt.Sprintf("%s.resources.selector (%s) covers only pods carrying those labels", f.Path, fields.SelectorText(f.Selector))
	}
	if len(f.Annotations) > 0 {
		return false, f.Path + ".resources.annotations covers only pods carrying those annotations"
	}
	if len(f.UserInfo) > 0 {
		return false, fmt.Sprintf("%s limits the rule to some requesters (%s)", f.Path, strings.Join(f.UserInfo, ", "))
	}
	return true, ""
}

// selectsPodCreatesIn reports whether the filter's kinds, operations, namespaces and
// namespaceSelector let it select the CREATE of a pod in ns (names, labels and
// annotations aside).
func (f Filter) selectsPodCreatesIn(ns *corev1.Namespace) bool {
	return (len(f.Kinds) == 0 || anyKindSelectsPod(f.Kinds)) &&
		(len(f.Operations) == 0 || hasFold(f.Operations, "CREATE")) &&
		(len(f.Namespaces) == 0 || anyWildcard(f.Namespaces, ns.Name)) &&
		fields.SelectorAllows(f.NamespaceSelector, ns.Labels)
}

// ExcludesPodsIn reports whether an exclude filter lets pods in ns skip the rule. Name,
// label and annotation conditions count: the pod's author chooses those. A filter limited
// to some requesters (user info) is a deliberate exemption for them, not a namespace gap.
func (f Filter) ExcludesPodsIn(ns *corev1.Namespace) (bool, string) {
	if len(f.UserInfo) > 0 || !f.selectsPodCreatesIn(ns) {
		return false, ""
	}
	var narrow []string
	if len(f.Names) > 0 && !slices.Contains(f.Names, "*") {
		narrow = append(narrow, fmt.Sprintf("named %v", f.Names))
	}
	if f.Selector != nil && !fields.SelectorAllows(f.Selector, nil) {
		narrow = append(narrow, fmt.Sprintf("labelled %s", fields.SelectorText(f.Selector)))
	}
	if len(f.Annotations) > 0 {
		narrow = append(narrow, "carrying its annotations")
	}
	if len(narrow) > 0 {
		return true, fmt.Sprintf("%s excludes pods %s, which any tenant can choose", f.Path, strings.Join(narrow, " and "))
	}
	return true, f.Path + " excludes it"
}

// CoversEveryPodIn reports whether a rule's match selects every pod CREATE in ns and its
// exclude block lets none through; otherwise why not.
func (r Rule) CoversEveryPodIn(ns *corev1.Namespace) (bool, string) {
	m := r.Match
	if !m.Set || (len(m.Any) == 0 && len(m.All) == 0) {
		return false, r.Path() + ".match is empty"
	}
	if len(m.Any) > 0 {
		var reasons []string
		ok := false
		for _, f := range m.Any {
			if sel, why := f.SelectsEveryPodIn(ns); sel {
				ok = true
				break
			} else {
				reasons = append(reasons, why)
			}
		}
		if !ok {
			return false, strings.Join(reasons, "; ")
		}
	}
	for _, f := range m.All {
		if sel, why := f.SelectsEveryPodIn(ns); !sel {
			return false, why
		}
	}
	for _, f := range r.Exclude.Any {
		if ex, why := f.ExcludesPodsIn(ns); ex {
			return false, why
		}
	}
	if len(r.Exclude.All) > 0 {
		var whys []string
		all := true
		for _, f := range r.Exclude.All {
			ex, why := f.ExcludesPodsIn(ns)
			if !ex {
				all = false
				break
			}
			whys = append(whys, why)
		}
		if all {
			return false, strings.Join(whys, " and ")
		}
	}
	return true, ""
}

// SelectsPods reports whether a rule's match names kind Pod at all.
func (r Rule) SelectsPods() bool {
	for _, fs := range [][]Filter{r.Match.Any, r.Match.All} {
		for _, f := range fs {
			if anyKindSelectsPod(f.Kinds) {
				return true
			}
		}
	}
	return false
}

// ActionIn returns a validate rule's effective failure action in a namespace and the field
// it comes from, as the policy cache of the running Kyverno version resolves it
// (pkg/policycache/cache.go checkValidationFailureActionOverrides; see the version facts).
// A version whose patch decides and is not known gets the reading under which the rule
// enforces least, and says so. An unknown version gets the least-enforcing reading among
// the releases that honour rule-level failure actions as documented (v1.13.3 and later):
// reading it as v1.12 would call every policy written for a current Kyverno audit-only.
func (p *ClusterPolicy) ActionIn(r Rule, ns *corev1.Namespace, v Version) (action, from string) {
	var readings []actionEra
	for _, e := range actionEras {
		if e.possible(v) {
			readings = append(readings, e)
		}
	}
	// Readings run newest first; when they disagree, the least enforcing one wins.
	enforcing := 0
	for _, e := range readings {
		if a, _ := e.read(p, r, ns); Enforces(a) {
			enforcing++
		}
	}
	newest := readings[len(readings)-1]
	if enforcing == 0 || enforcing == len(readings) {
		return newest.read(p, r, ns)
	}
	for i := len(readings) - 1; i >= 0; i-- {
		if a, f := readings[i].read(p, r, ns); !Enforces(a) {
			return a, fmt.Sprintf("%s (Kyverno version %s: read as Kyverno %s, under which the rule enforces least)", f, v, readings[i].name)
		}
	}
	return newest.read(p, r, ns)
}

// actionEra is one way Kyverno resolved failure actions, for versions in [lo, hi).
type actionEra struct {
	name   string
	lo, hi [3]int // hi zero: no upper bound
	read   func(p *ClusterPolicy, r Rule, ns *corev1.Namespace) (string, string)
}

func (e actionEra) possible(v Version) bool {
	if !v.Known() {
		return e.lo[0] > 1 || e.lo[0] == 1 && (e.lo[1] > 13 || e.lo[1] == 13 && e.lo[2] >= 3)
	}
	if at, ok := v.AtLeast(e.lo[0], e.lo[1], e.lo[2]); ok && !at {
		return false
	}
	if e.hi != [3]int{} {
		if at, ok := v.AtLeast(e.hi[0], e.hi[1], e.hi[2]); ok && at {
			return false
		}
	}
	return true
}

var actionEras = []actionEra{
	{name: "up to v1.12", lo: [3]int{0, 0, 0}, hi: [3]int{1, 13, 0}, read: (*ClusterPolicy).actionSpecOnly},
	{name: "v1.13.0-v1.13.2", lo: [3]int{1, 13, 0}, hi: [3]int{1, 13, 3}, read: (*ClusterPolicy).actionStrictOverrides},
	{name: "v1.13.3-v1.16", lo: [3]int{1, 13, 3}, hi: [3]int{1, 17, 0}, read: func(p *ClusterPolicy, r Rule, ns *corev1.Namespace) (string, string) {
		return p.actionFirstMatch(r, ns, false)
	}},
	{name: "v1.17 or later", lo: [3]int{1, 17, 0}, read: func(p *ClusterPolicy, r Rule, ns *corev1.Namespace) (string, string) {
		return p.actionFirstMatch(r, ns, true)
	}},
}

// specAction is spec.validationFailureAction, whose CRD default is Audit.
func (p *ClusterPolicy) specAction() (string, string) {
	if p.ValidationFailureAction != "" {
		return p.ValidationFailureAction, "spec.validationFailureAction"
	}
	return "Audit", "spec.validationFailureAction (unset: the CRD defaults it to Audit)"
}

// ruleAction is the rule's failureAction, else the spec's (Kyverno v1.13+).
func (p *ClusterPolicy) ruleAction(r Rule) (string, string) {
	if r.FailureAction != "" {
		return r.FailureAction, r.Path() + ".validate.failureAction"
	}
	return p.specAction()
}

func (p *ClusterPolicy) overridesOf(r Rule) []FailureActionOverride {
	if len(r.Overrides) > 0 {
		return r.Overrides
	}
	return p.Overrides
}

// actionSpecOnly: up to v1.12 rules have no action of their own; an override whose
// namespaces match decides, else the spec's action (FactRuleFailureAction).
func (p *ClusterPolicy) actionSpecOnly(_ Rule, ns *corev1.Namespace) (string, string) {
	for _, o := range p.Overrides {
		if anyWildcard(o.Namespaces, ns.Name) {
			return o.Action, o.Path + ".action"
		}
	}
	a, f := p.specAction()
	return a, f + " (Kyverno up to v1.12 ignores rule-level failure actions)"
}

// actionStrictOverrides: v1.13.0-v1.13.2 (FactOverrideFirstMatch): without overrides the
// rule's action; with overrides the rule enforces only where an Enforce override's
// namespaces match.
func (p *ClusterPolicy) actionStrictOverrides(r Rule, ns *corev1.Namespace) (string, string) {
	overrides := p.overridesOf(r)
	if len(overrides) == 0 {
		return p.ruleAction(r)
	}
	for _, o := range overrides {
		if Enforces(o.Action) && anyWildcard(o.Namespaces, ns.Name) {
			return o.Action, o.Path + ".action"
		}
	}
	for _, o := range overrides {
		if anyWildcard(o.Namespaces, ns.Name) {
			return o.Action, o.Path + ".action"
		}
	}
	return "", "failure-action overrides, none of whose namespaces match (Kyverno v1.13.0-v1.13.2 then neither enforces nor audits the rule)"
}

// actionFirstMatch: from v1.13.3 the first override that matches decides, else the
// rule's action; namespaceSelector matches only from v1.17 (FactOverrideNamespaceSelector).
// An override without namespaces and selector matches no namespace.
func (p *ClusterPolicy) actionFirstMatch(r Rule, ns *corev1.Namespace, selectors bool) (string, string) {
	ignored := ""
	for _, o := range p.overridesOf(r) {
		if anyWildcard(o.Namespaces, ns.Name) {
			return o.Action, o.Path + ".action"
		}
		if o.NamespaceSelector != nil && fields.SelectorAllows(o.NamespaceSelector, ns.Labels) {
			if selectors {
				return o.Action, o.Path + ".action"
			}
			if ignored == "" {
				ignored = fmt.Sprintf(" (%s matches by namespaceSelector only, which Kyverno ignores before v1.17)", o.Path)
			}
		}
	}
	a, f := p.ruleAction(r)
	return a, f + ignored
}

// Enforces reports whether a Kyverno failure action blocks the request ("Enforce", or
// the deprecated "enforce").
func Enforces(action string) bool { return strings.EqualFold(action, "Enforce") }

func anyKindSelectsPod(kinds []string) bool {
	for _, k := range kinds {
		if KindSelectsPodCreate(k) {
			return true
		}
	}
	return false
}

func hasFold(l []string, s string) bool {
	for _, v := range l {
		if strings.EqualFold(v, s) || v == "*" {
			return true
		}
	}
	return false
}
