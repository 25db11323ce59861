package rbac

import (
	"testing"

	"github.com/stretchr/testify/assert"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func rule(verbs, groups, resources []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

func l(s ...string) []string { return s }

// TestMatches: one case per edge of RBAC's rule matching.
func TestMatches(t *testing.T) {
	create := Action{Verb: "create", Group: "kyverno.io", Resource: "policyexceptions", Namespace: "kyverno"}
	cases := map[string]struct {
		rule rbacv1.PolicyRule
		act  Action
		want bool
	}{
		"exact":                              {rule(l("create"), l("kyverno.io"), l("policyexceptions")), create, true},
		"other verb":                         {rule(l("update"), l("kyverno.io"), l("policyexceptions")), create, false},
		"verb wildcard":                      {rule(l("*"), l("kyverno.io"), l("policyexceptions")), create, true},
		"group wildcard":                     {rule(l("create"), l("*"), l("policyexceptions")), create, true},
		"other group":                        {rule(l("create"), l("policies.kyverno.io"), l("policyexceptions")), create, false},
		"resource wildcard":                  {rule(l("create"), l("kyverno.io"), l("*")), create, true},
		"resourceNames never match a create": {rule(l("create"), l("kyverno.io"), l("policyexceptions"), "x"), create, false},
		"resourceNames match the name": {rule(l("update"), l(""), l("configmaps"), "litellm-config"),
			Action{Verb: "update", Resource: "configmaps", Namespace: "litellm", Name: "litellm-config"}, true},
		"resourceNames miss another name": {rule(l("update"), l(""), l("configmaps"), "other"),
			Action{Verb: "update", Resource: "configmaps", Namespace: "litellm", Name: "litellm-config"}, false},
		"subresource exact": {rule(l("create"), l(""), l("pods/exec")),
			Action{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "litellm"}, true},
		"subresource wildcard */exec": {rule(l("create"), l(""), l("*/exec")),
			Action{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "litellm"}, true},
		"pods does not grant pods/exec": {rule(l("create"), l(""), l("pods")),
			Action{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "litellm"}, false},
		"pods/exec does not grant pods": {rule(l("create"), l(""), l("pods/exec")),
			Action{Verb: "create", Resource: "pods", Namespace: "litellm"}, false},
		"* grants every subresource": {rule(l("create"), l(""), l("*")),
			Action{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "litellm"}, true},
		"non-resource rule grants no resource": {rbacv1.PolicyRule{Verbs: l("*"), NonResourceURLs: l("*")}, create, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, c.want, Matches(c.rule, c.act)) })
	}
}

func crole(name string, labels map[string]string, agg []map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Rules: rules}
	if agg != nil {
		cr.AggregationRule = &rbacv1.AggregationRule{}
		for _, m := range agg {
			cr.AggregationRule.ClusterRoleSelectors = append(cr.AggregationRule.ClusterRoleSelectors, metav1.LabelSelector{MatchLabels: m})
		}
	}
	return cr
}

func rb(ns, name string, role rbacv1.RoleRef, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, RoleRef: role, Subjects: subjects}
}

func crb(name string, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
}

func clusterRoleRef(n string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: n}
}

var (
	group = func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	usr = func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: n}
	}
	sa = func(ns, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: n}
	}
)

// TestAggregation: an aggregated ClusterRole holds the union of the rules of the
// ClusterRoles its selectors match, duplicates once, itself excepted, nested aggregation
// resolved; a path names the ClusterRole a rule came from.
func TestAggregation(t *testing.T) {
	writeExc := rule(l("create"), l("kyverno.io"), l("policyexceptions"))
	readCM := rule(l("get"), l(""), l("configmaps"))
	crs := []*rbacv1.ClusterRole{
		crole("tenant-admin", nil, []map[string]string{{"agg/tenant": "true"}}),
		crole("a-exceptions", map[string]string{"agg/tenant": "true"}, nil, writeExc),
		crole("b-read", map[string]string{"agg/tenant": "true"}, nil, readCM, writeExc),
		crole("c-unlabelled", nil, nil, rule(l("*"), l("*"), l("*"))),
		// nested: outer selects tenant-admin, itself aggregated
		crole("outer", nil, []map[string]string{{"agg/outer": "true"}}),
	}
	crs[0].Labels = map[string]string{"agg/outer": "true"}
	assert.Equal(t, []rbacv1.PolicyRule{writeExc, readCM}, AggregatedRules(crs, "tenant-admin"))
	assert.Equal(t, []rbacv1.PolicyRule{writeExc, readCM}, AggregatedRules(crs, "outer"))

	a := New(nil, crs, []*rbacv1.RoleBinding{rb("kyverno", "tenants", clusterRoleRef("outer"), group("tenants"))}, nil)
	g := a.For(Identity{Kind: rbacv1.GroupKind, Name: "tenants"}).Grants(Action{Verb: "create", Group: "kyverno.io", Resource: "policyexceptions", Namespace: "kyverno"})
	if assert.Len(t, g, 1) {
		assert.Equal(t, "RoleBinding kyverno/tenants (subject 0) -> ClusterRole outer rule 0 (aggregated from ClusterRole a-exceptions rule 0)", g[0].String())
	}
	// A selector that does not parse selects nothing, as the controller's sync fails.
	bad := crole("bad", nil, nil)
	bad.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}}}}
	assert.Empty(t, AggregatedRules(append(crs, bad), "bad"))
}

// TestSubjects: which identities a binding applies to, as the API server decides.
func TestSubjects(t *testing.T) {
	all := rule(l("*"), l("*"), l("*"))
	act := func(ns string) Action { return Action{Verb: "create", Resource: "pods", Namespace: ns} }
	crs := []*rbacv1.ClusterRole{crole("all", nil, nil, all)}
	cases := map[string]struct {
		rbs  []*rbacv1.RoleBinding
		crbs []*rbacv1.ClusterRoleBinding
		id   Identity
		ns   string
		want bool
	}{
		"user by name":                      {rbs: []*rbacv1.RoleBinding{rb("litellm", "b", clusterRoleRef("all"), usr("alice"))}, id: Identity{Kind: "User", Name: "alice"}, ns: "litellm", want: true},
		"other user":                        {rbs: []*rbacv1.RoleBinding{rb("litellm", "b", clusterRoleRef("all"), usr("alice"))}, id: Identity{Kind: "User", Name: "bob"}, ns: "litellm"},
		"RoleBinding only in its namespace": {rbs: []*rbacv1.RoleBinding{rb("team-a", "b", clusterRoleRef("all"), usr("alice"))}, id: Identity{Kind: "User", Name: "alice"}, ns: "litellm"},
		"ClusterRoleBinding everywhere":     {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", usr("alice"))}, id: Identity{Kind: "User", Name: "alice"}, ns: "litellm", want: true},
		"ServiceAccount defaults to the RoleBinding's namespace": {rbs: []*rbacv1.RoleBinding{rb("litellm", "b", clusterRoleRef("all"), rbacv1.Subject{Kind: "ServiceAccount", Name: "ci"})},
			id: Identity{Kind: "ServiceAccount", Namespace: "litellm", Name: "ci"}, ns: "litellm", want: true},
		"ServiceAccount without namespace in a ClusterRoleBinding names nobody": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", rbacv1.Subject{Kind: "ServiceAccount", Name: "ci"})},
			id: Identity{Kind: "ServiceAccount", Namespace: "litellm", Name: "ci"}, ns: "litellm"},
		"ServiceAccount through system:serviceaccounts:<ns>": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:serviceaccounts:team-a"))},
			id: Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "default"}, ns: "litellm", want: true},
		"ServiceAccount through system:serviceaccounts": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:serviceaccounts"))},
			id: Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "default"}, ns: "litellm", want: true},
		"ServiceAccount of another namespace's group": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:serviceaccounts:team-b"))},
			id: Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "default"}, ns: "litellm"},
		"user through system:authenticated": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:authenticated"))},
			id: Identity{Kind: "User", Name: "alice"}, ns: "litellm", want: true},
		"a group member through system:authenticated": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:authenticated"))},
			id: Identity{Kind: "Group", Name: "tenants"}, ns: "litellm", want: true},
		"unauthenticated is not authenticated": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", group("system:authenticated"))},
			id: Identity{Kind: "Group", Name: "system:unauthenticated"}, ns: "litellm"},
		"User subject spelling a ServiceAccount": {crbs: []*rbacv1.ClusterRoleBinding{crb("b", "all", usr("system:serviceaccount:team-a:ci"))},
			id: Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "ci"}, ns: "litellm", want: true},
		"missing role grants nothing": {rbs: []*rbacv1.RoleBinding{rb("litellm", "b", clusterRoleRef("absent"), usr("alice"))}, id: Identity{Kind: "User", Name: "alice"}, ns: "litellm"},
		"a RoleBinding's Role is in its namespace": {rbs: []*rbacv1.RoleBinding{rb("litellm", "b", rbacv1.RoleRef{Kind: "Role", Name: "all"}, usr("alice"))},
			id: Identity{Kind: "User", Name: "alice"}, ns: "litellm", want: true},
	}
	roles := []*rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "litellm", Name: "all"}, Rules: []rbacv1.PolicyRule{all}}}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a := New(roles, crs, c.rbs, c.crbs)
			assert.Equal(t, c.want, a.For(c.id).Allows(act(c.ns)))
		})
	}
}

// TestNamespaceRequestIsInItsNamespace: patching a Namespace is a request in that
// namespace, so a RoleBinding there grants it (and only for that namespace).
func TestNamespaceRequestIsInItsNamespace(t *testing.T) {
	crs := []*rbacv1.ClusterRole{crole("ns-patch", nil, nil, rule(l("patch"), l(""), l("namespaces")))}
	a := New(nil, crs, []*rbacv1.RoleBinding{rb("team-a", "b", clusterRoleRef("ns-patch"), group("team-a"))}, nil)
	s := a.For(Identity{Kind: "Group", Name: "team-a"})
	assert.True(t, s.Allows(NamespaceAction("patch", "team-a")))
	assert.False(t, s.Allows(NamespaceAction("patch", "team-b")))
}
