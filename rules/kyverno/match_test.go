package kyverno

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestWildcard(t *testing.T) {
	tests := map[string]struct {
		pattern, s string
		want       bool
	}{
		"exact":             {"team-a", "team-a", true},
		"star suffix":       {"team-*", "team-search", true},
		"star matches none": {"team-*", "team-", true},
		"star inside":       {"t*-search", "team-search", true},
		"question mark":     {"team-?", "team-a", true},
		"question mark one": {"team-?", "team-ab", false},
		"no match":          {"team-*", "serving", false},
		"only star":         {"*", "", true},
		"empty pattern":     {"", "x", false},
		"backtracking":      {"*a*b", "xaxxb", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Wildcard(tc.pattern, tc.s))
		})
	}
}

func TestKindSelectsPodCreate(t *testing.T) {
	tests := map[string]bool{
		"Pod":                     true,
		"v1/Pod":                  true,
		"*/Pod":                   true,  // Kyverno reads "*" as the version
		"*/exec":                  false, // and "*/<lower case>" as any kind's subresource
		"*":                       true,
		"*/*":                     true,
		"P*":                      true,
		"core/v1/Pod":             true,
		"/v1/Pod":                 true,
		"apps/v1/Deployment":      false,
		"Deployment":              false,
		"Pod/exec":                false,
		"Pod.ephemeralcontainers": false,
		"v2/Pod":                  false,
		"":                        false,
	}
	for sel, want := range tests {
		t.Run(sel, func(t *testing.T) {
			assert.Equal(t, want, KindSelectsPodCreate(sel))
		})
	}
}

func TestClusterPolicyActionIn(t *testing.T) {
	research, search := managed("team-research"), managed("team-search")
	tests := map[string]struct {
		muts          []mut
		research      string
		search        string
		researchField string
	}{
		"rule action": {research: "Enforce", search: "Enforce", researchField: "spec.rules[0].validate.failureAction"},
		"CRD default": {muts: []mut{setRule(nil, "validate", "failureAction")}, research: "Audit", search: "Audit", researchField: "spec.validationFailureAction (unset: the CRD defaults it to Audit)"},
		"spec action": {muts: []mut{setRule(nil, "validate", "failureAction"), set("Enforce", "spec", "validationFailureAction")}, research: "Enforce", search: "Enforce", researchField: "spec.validationFailureAction"},
		// wildcard.CheckPatterns of no pattern is false: an override without namespaces
		// (and without a selector) matches no namespace.
		"override without namespaces matches none": {muts: []mut{setRule([]any{map[string]any{"action": "Audit"}}, "validate", "failureActionOverrides")}, research: "Enforce", search: "Enforce", researchField: "spec.rules[0].validate.failureAction"},
		"first matching override wins": {
			muts: []mut{setRule([]any{
				map[string]any{"action": "Enforce", "namespaces": []any{"team-research"}},
				map[string]any{"action": "Audit", "namespaces": []any{"team-*"}},
			}, "validate", "failureActionOverrides")},
			research: "Enforce", search: "Audit", researchField: "spec.rules[0].validate.failureActionOverrides[0].action",
		},
		"rule overrides replace the spec's": {
			muts: []mut{
				set([]any{map[string]any{"action": "Audit"}}, "spec", "validationFailureActionOverrides"),
				setRule([]any{map[string]any{"action": "Enforce", "namespaces": []any{"team-research"}}}, "validate", "failureActionOverrides"),
			},
			research: "Enforce", search: "Enforce", researchField: "spec.rules[0].validate.failureActionOverrides[0].action",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := NewClusterPolicy(gatePolicy(t, tc.muts...))
			assert.Empty(t, p.Problems)
			a, from := p.ActionIn(p.Rules[0], research, v117)
			assert.Equal(t, tc.research, a)
			assert.Equal(t, tc.researchField, from)
			a, _ = p.ActionIn(p.Rules[0], search, v117)
			assert.Equal(t, tc.search, a)
		})
	}
}

func TestParseKindSelector(t *testing.T) {
	cases := map[string][4]string{
		"Pod":                {"*", "*", "Pod", ""},
		"v1/Pod":             {"*", "v1", "Pod", ""},
		"*/*":                {"*", "*", "*", "*"},
		"*/exec":             {"*", "*", "*", "exec"},
		"Pod/exec":           {"*", "*", "Pod", "exec"},
		"Pod.status":         {"*", "*", "Pod", "status"},
		"v1/Pod/exec":        {"*", "v1", "Pod", "exec"},
		"apps/v1/Deployment": {"apps", "v1", "Deployment", ""},
		"a/b/c/d":            {"a", "b", "c", "d"},
		"a/b/c/d/e":          {"", "", "", ""},
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			g, v, k, s := parseKindSelector(in)
			assert.Equal(t, want, [4]string{g, v, k, s})
		})
	}
}

func TestEnforces(t *testing.T) {
	for action, want := range map[string]bool{"Enforce": true, "enforce": true, "Audit": false, "audit": false, "": false} {
		assert.Equal(t, want, Enforces(action), action)
	}
}

func sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func TestFilterSelectsEveryPodIn(t *testing.T) {
	ns := managed("team-a")
	pods := func(f Filter) Filter { f.Path = "m"; f.Kinds = append([]string{"Pod"}, f.Kinds...); return f }
	cases := map[string]struct {
		f    Filter
		want string // "" selects every pod
	}{
		"every pod":                 {f: pods(Filter{})},
		"no kinds":                  {f: Filter{Path: "m"}, want: "m.resources.kinds is empty"},
		"not pods":                  {f: Filter{Path: "m", Kinds: []string{"Deployment"}}, want: "m.resources.kinds [Deployment] does not include Pod"},
		"CREATE among operations":   {f: pods(Filter{Operations: []string{"update", "create"}})},
		"operations wildcard":       {f: pods(Filter{Operations: []string{"*"}})},
		"no CREATE":                 {f: pods(Filter{Operations: []string{"UPDATE"}}), want: "m.resources.operations [UPDATE] does not include CREATE"},
		"namespace wildcard":        {f: pods(Filter{Namespaces: []string{"team-*"}})},
		"other namespaces":          {f: pods(Filter{Namespaces: []string{"dev"}}), want: "m.resources.namespaces [dev] does not include it"},
		"namespaceSelector selects": {f: pods(Filter{NamespaceSelector: sel("llm-platform/kueue-managed", "true")})},
		"namespaceSelector misses":  {f: pods(Filter{NamespaceSelector: sel("x", "y")}), want: "m.resources.namespaceSelector (x=y) does not select it"},
		"names":                     {f: pods(Filter{Names: []string{"trainer-*"}}), want: "m.resources.names [trainer-*] covers only pods so named"},
		"names star":                {f: pods(Filter{Names: []string{"*"}})},
		"label selector":            {f: pods(Filter{Selector: sel("gpu", "yes")}), want: "m.resources.selector (gpu=yes) covers only pods carrying those labels"},
		"empty label selector":      {f: pods(Filter{Selector: &metav1.LabelSelector{}})},
		"annotations":               {f: pods(Filter{Annotations: map[string]any{"a": "b"}}), want: "m.resources.annotations covers only pods carrying those annotations"},
		"requesters":                {f: pods(Filter{UserInfo: []string{"subjects"}}), want: "m limits the rule to some requesters (subjects)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, why := tc.f.SelectsEveryPodIn(ns)
			assert.Equal(t, tc.want == "", ok)
			assert.Equal(t, tc.want, why)
		})
	}
}

func TestFilterExcludesPodsIn(t *testing.T) {
	ns := managed("team-a")
	cases := map[string]struct {
		f        Filter
		excludes bool
		why      string
	}{
		"whole namespace":          {f: Filter{Path: "x", Namespaces: []string{"team-a"}}, excludes: true, why: "x excludes it"},
		"requesters only":          {f: Filter{Path: "x", UserInfo: []string{"roles"}}},
		"other kinds":              {f: Filter{Path: "x", Kinds: []string{"Deployment"}}},
		"other operations":         {f: Filter{Path: "x", Operations: []string{"DELETE"}}},
		"other namespaces":         {f: Filter{Path: "x", Namespaces: []string{"dev"}}},
		"namespaceSelector misses": {f: Filter{Path: "x", NamespaceSelector: sel("x", "y")}},
		"names and labels": {f: Filter{Path: "x", Kinds: []string{"Pod"}, Names: []string{"a"}, Selector: sel("skip", "yes"), Annotations: map[string]any{"k": "v"}},
			excludes: true, why: "x excludes pods named [a] and labelled skip=yes and carrying its annotations, which any tenant can choose"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ex, why := tc.f.ExcludesPodsIn(ns)
			assert.Equal(t, tc.excludes, ex)
			assert.Equal(t, tc.why, why)
		})
	}
}

func TestRuleCoversEveryPodIn(t *testing.T) {
	ns := managed("team-a")
	pods := Filter{Path: "p", Kinds: []string{"Pod"}}
	deploys := Filter{Path: "d", Kinds: []string{"Deployment"}}
	dev := Filter{Path: "e", Namespaces: []string{"dev"}}
	teamA := Filter{Path: "e", Namespaces: []string{"team-a"}}
	cases := map[string]struct {
		r   Rule
		why string // "" covers
	}{
		"unset match":                  {r: Rule{}, why: "spec.rules[0].match is empty"},
		"set but empty match":          {r: Rule{Index: 2, Match: Match{Set: true}}, why: "spec.rules[2].match is empty"},
		"any: one filter suffices":     {r: Rule{Match: Match{Set: true, Any: []Filter{deploys, pods}}}},
		"any: none selects":            {r: Rule{Match: Match{Set: true, Any: []Filter{deploys, deploys}}}, why: "d.resources.kinds [Deployment] does not include Pod; d.resources.kinds [Deployment] does not include Pod"},
		"all: every filter must hold":  {r: Rule{Match: Match{Set: true, All: []Filter{pods, deploys}}}, why: "d.resources.kinds [Deployment] does not include Pod"},
		"exclude any other namespace":  {r: Rule{Match: Match{Set: true, Any: []Filter{pods}}, Exclude: Match{Set: true, Any: []Filter{dev}}}},
		"exclude any this namespace":   {r: Rule{Match: Match{Set: true, Any: []Filter{pods}}, Exclude: Match{Set: true, Any: []Filter{teamA}}}, why: "e excludes it"},
		"exclude all, one misses":      {r: Rule{Match: Match{Set: true, Any: []Filter{pods}}, Exclude: Match{Set: true, All: []Filter{teamA, dev}}}},
		"exclude all, every one holds": {r: Rule{Match: Match{Set: true, Any: []Filter{pods}}, Exclude: Match{Set: true, All: []Filter{teamA, teamA}}}, why: "e excludes it and e excludes it"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, why := tc.r.CoversEveryPodIn(ns)
			assert.Equal(t, tc.why == "", ok)
			assert.Equal(t, tc.why, why)
		})
	}
}

func TestRuleSelectsPods(t *testing.T) {
	cases := map[string]struct {
		r    Rule
		want bool
	}{
		"any":                {Rule{Match: Match{Any: []Filter{{Kinds: []string{"Deployment"}}, {Kinds: []string{"v1/Pod"}}}}}, true},
		"all":                {Rule{Match: Match{All: []Filter{{Kinds: []string{"*"}}}}}, true},
		"no pod":             {Rule{Match: Match{Any: []Filter{{Kinds: []string{"Deployment"}}}}}, false},
		"exclude counts not": {Rule{Exclude: Match{Any: []Filter{{Kinds: []string{"Pod"}}}}}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, tc.r.SelectsPods()) })
	}
}

func TestActionInSelectorsAndDefaults(t *testing.T) {
	labelled := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"env": "dev"}}}
	p := &ClusterPolicy{Overrides: []FailureActionOverride{{Path: "o[0]", Action: "Audit", NamespaceSelector: sel("env", "dev")}}, ValidationFailureAction: "Enforce"}
	a, from := p.ActionIn(Rule{}, labelled, v117)
	assert.Equal(t, "Audit", a)
	assert.Equal(t, "o[0].action", from)
	a, from = p.ActionIn(Rule{}, managed("team-b"), v117)
	assert.Equal(t, "Enforce", a, "the selector does not select team-b")
	assert.Equal(t, "spec.validationFailureAction", from)
}

var v117 = Version{Major: 1, Minor: 17, Patch: 0}

// TestActionInByVersion: the same policy resolves differently by Kyverno release (see
// the version facts); an unknown version or patch takes the least enforcing reading.
func TestActionInByVersion(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Labels: map[string]string{"env": "dev"}}}
	enforceRule := Rule{Index: 0, FailureAction: "Enforce"}
	bySelector := []FailureActionOverride{{Path: "o[0]", Action: "Audit", NamespaceSelector: sel("env", "dev")}}
	elsewhere := []FailureActionOverride{{Path: "o[0]", Action: "Audit", Namespaces: []string{"dev"}}}
	v := func(s string) Version { x, ok := ParseVersion(s); require.True(t, ok); return x }
	cases := map[string]struct {
		p       *ClusterPolicy
		r       Rule
		v       Version
		want    string
		fromHas string
	}{
		"v1.17: a selector override matches":              {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: bySelector}, v: v("v1.17.0"), want: "Audit", fromHas: "o[0].action"},
		"v1.16: a selector override is ignored":           {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: bySelector}, v: v("v1.16.4"), want: "Enforce", fromHas: "which Kyverno ignores before v1.17"},
		"unknown version: the selector override counts":   {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: bySelector}, v: Version{}, want: "Audit", fromHas: "Kyverno version unknown: read as Kyverno v1.17 or later"},
		"v1.13.3: an override elsewhere keeps the rule's": {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: elsewhere}, v: v("v1.13.3"), want: "Enforce"},
		"v1.13.1: an override elsewhere drops the rule":   {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: elsewhere}, v: v("v1.13.1"), want: "", fromHas: "neither enforces nor audits"},
		"v1.13 with unknown patch: least enforcing":       {p: &ClusterPolicy{}, r: Rule{FailureAction: "Enforce", Overrides: elsewhere}, v: Version{Major: 1, Minor: 13, Patch: -1}, want: "", fromHas: "read as Kyverno v1.13.0-v1.13.2"},
		"v1.12: the rule's own action does not exist":     {p: &ClusterPolicy{}, r: enforceRule, v: v("v1.12.7"), want: "Audit", fromHas: "ignores rule-level failure actions"},
		"v1.12: the spec's action":                        {p: &ClusterPolicy{ValidationFailureAction: "Enforce"}, r: Rule{}, v: v("v1.12.7"), want: "Enforce"},
		"v1.12: a spec override by namespace":             {p: &ClusterPolicy{ValidationFailureAction: "Enforce", Overrides: []FailureActionOverride{{Path: "s[0]", Action: "Audit", Namespaces: []string{"team-*"}}}}, r: Rule{}, v: v("v1.12.0"), want: "Audit", fromHas: "s[0].action"},
		"unknown version: rule action honoured":           {p: &ClusterPolicy{}, r: enforceRule, v: Version{}, want: "Enforce"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, from := tc.p.ActionIn(tc.r, ns, tc.v)
			assert.Equal(t, tc.want, a, from)
			assert.Contains(t, from, tc.fromHas)
		})
	}
}
