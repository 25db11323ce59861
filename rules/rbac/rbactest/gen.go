// Package rbactest generates a deterministic set of Roles, ClusterRoles and bindings that
// exercises every edge of RBAC's rule matching (wildcard verbs, groups and resources,
// resourceNames, subresources and "*/subresource", non-resource URLs, aggregated
// ClusterRoles, RoleBindings to ClusterRoles, subjects by user, group and
// ServiceAccount, broad groups) for the differential tests of rules/rbac.
package rbactest

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Set is a generated RBAC set.
type Set struct {
	Namespaces          []string
	Roles               []*rbacv1.Role
	ClusterRoles        []*rbacv1.ClusterRole
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
}

// Bindings counts the set's bindings.
func (s Set) Bindings() int { return len(s.RoleBindings) + len(s.ClusterRoleBindings) }

func l(s ...string) []string { return s }

func r(verbs, groups, resources []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
}

// rulePool: the rule shapes roles are built from; the index of a role picks a few.
var rulePool = []rbacv1.PolicyRule{
	r(l("create"), l(""), l("pods")),
	r(l("create", "update"), l("apps"), l("deployments")),
	r(l("*"), l("kyverno.io"), l("policyexceptions")),
	r(l("create"), l("*"), l("policyexceptions")),
	r(l("update", "patch"), l(""), l("configmaps"), "litellm-config"),
	r(l("delete"), l(""), l("configmaps"), "other-config"),
	r(l("create"), l(""), l("pods/exec")),
	r(l("create"), l(""), l("*/exec")),
	r(l("get", "list", "watch"), l("*"), l("*")),
	r(l("patch"), l(""), l("namespaces")),
	r(l("update"), l(""), l("namespaces"), "ns-1", "kyverno"),
	r(l("create", "update", "patch", "delete"), l("networking.k8s.io"), l("networkpolicies")),
	r(l("*"), l("policy.networking.k8s.io"), l("*")),
	r(l("update"), l("apps"), l("deployments"), "kyverno-admission-controller"),
	r(l("update", "delete"), l("admissionregistration.k8s.io"), l("validatingwebhookconfigurations")),
	r(l("impersonate"), l(""), l("serviceaccounts")),
	r(l("escalate", "bind"), l(rbacv1.GroupName), l("clusterroles", "roles")),
	r(l("create"), l(rbacv1.GroupName), l("rolebindings")),
	r(l("create"), l("batch"), l("jobs", "cronjobs")),
	r(l("update"), l("postgresql.cnpg.io"), l("clusters")),
}

// nonResource are rules of ClusterRoles only (a Role's non-resource URLs are rejected).
var nonResource = []rbacv1.PolicyRule{
	{Verbs: l("get"), NonResourceURLs: l("/healthz", "/metrics")},
	{Verbs: l("*"), NonResourceURLs: l("/api/*")},
}

// Generate returns a set of at least bindings bindings over namespaces ns-0..ns-9 plus
// kyverno and litellm; the same set every time.
func Generate(bindings int) Set {
	s := Set{Namespaces: l("kyverno", "litellm")}
	for i := range 10 {
		s.Namespaces = append(s.Namespaces, fmt.Sprintf("ns-%d", i))
	}
	pick := func(i, n int) []rbacv1.PolicyRule {
		var out []rbacv1.PolicyRule
		for k := range n {
			out = append(out, rulePool[(i*7+k*3)%len(rulePool)])
		}
		return out
	}
	// ClusterRoles: plain ones, one with everything, aggregated ones (nested included).
	for i := range 12 {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gen-cr-%02d", i)}, Rules: pick(i, 1+i%3)}
		if i%4 == 0 {
			cr.Rules = append(cr.Rules, nonResource[i%len(nonResource)])
		}
		if i%3 == 0 {
			cr.Labels = map[string]string{"gen/aggregate-to-tenant": "true"}
		}
		if i%5 == 0 {
			cr.Labels = map[string]string{"gen/aggregate-to-ops": "true"}
		}
		s.ClusterRoles = append(s.ClusterRoles, cr)
	}
	s.ClusterRoles = append(s.ClusterRoles,
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gen-everything"}, Rules: []rbacv1.PolicyRule{r(l("*"), l("*"), l("*")), {Verbs: l("*"), NonResourceURLs: l("*")}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gen-tenant", Labels: map[string]string{"gen/aggregate-to-ops": "true"}},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"gen/aggregate-to-tenant": "true"}}}}},
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "gen-ops"},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"gen/aggregate-to-ops": "true"}}}}},
	)
	for i, ns := range s.Namespaces {
		for k := range 2 {
			s.Roles = append(s.Roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("gen-role-%d", k)}, Rules: pick(i*2+k+5, 1+k)})
		}
	}
	subject := func(i int, ns string) rbacv1.Subject {
		switch i % 6 {
		case 0:
			return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("user-%d", i%17)}
		case 1:
			return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("group-%d", i%11)}
		case 2, 3:
			return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: fmt.Sprintf("sa-%d", i%5)}
		case 4:
			return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:serviceaccounts:" + ns}
		}
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("system:serviceaccount:%s:sa-%d", ns, i%5)}
	}
	crNames := func(i int) string {
		switch i % 9 {
		case 0:
			return "gen-tenant"
		case 4:
			return "gen-ops"
		}
		return fmt.Sprintf("gen-cr-%02d", i%12)
	}
	// A few ClusterRoleBindings (one with the everything role, to one user only).
	for i := range 12 {
		role := crNames(i)
		if i == 11 {
			role = "gen-everything"
		}
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("gen-crb-%02d", i)},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{subject(i*5+1, s.Namespaces[i%len(s.Namespaces)])}}
		if i == 3 {
			b.Subjects = append(b.Subjects, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"})
			b.RoleRef.Name = "gen-cr-08" // read-only
		}
		s.ClusterRoleBindings = append(s.ClusterRoleBindings, b)
	}
	for i := 0; s.Bindings() < bindings; i++ {
		ns := s.Namespaces[i%len(s.Namespaces)]
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: crNames(i / 3)}
		if i%4 == 1 {
			ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("gen-role-%d", i%2)}
		}
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("gen-rb-%03d", i)}, RoleRef: ref,
			Subjects: []rbacv1.Subject{subject(i, ns)}}
		if i%3 == 0 {
			// A ServiceAccount of another namespace.
			b.Subjects = append(b.Subjects, subject(i+2, s.Namespaces[(i+1)%len(s.Namespaces)]))
		}
		s.RoleBindings = append(s.RoleBindings, b)
	}
	return s
}

// Request is one API request of Requests (the fields of rbac.Action, which this package
// does not import).
type Request struct {
	Verb, Group, Resource, Subresource, Namespace, Name string
}

// Requests are the requests the differential tests ask of every identity: the tamper
// rules' kinds of doors and escalation steps, in every namespace of the set (named and
// unnamed, main resource and subresource), and the cluster-scoped ones.
func (s Set) Requests() []Request {
	var out []Request
	type kind struct{ verbs, group, resource, sub, name string }
	namespaced := []kind{
		{"create", "", "pods", "", ""},
		{"create", "", "pods", "exec", ""},
		{"create", "apps", "deployments", "", ""},
		{"update patch delete", "apps", "deployments", "", "kyverno-admission-controller"},
		{"update patch", "", "configmaps", "", "litellm-config"},
		{"delete", "", "configmaps", "", "other-config"},
		{"create", "kyverno.io", "policyexceptions", "", ""},
		{"create", "policies.kyverno.io", "policyexceptions", "", ""},
		{"create delete", "networking.k8s.io", "networkpolicies", "", ""},
		{"create", "batch", "cronjobs", "", ""},
		{"update", "postgresql.cnpg.io", "clusters", "", "main"},
		{"escalate update", rbacv1.GroupName, "roles", "", ""},
		{"bind", rbacv1.GroupName, "clusterroles", "", ""},
		{"create", rbacv1.GroupName, "rolebindings", "", ""},
		{"impersonate", "", "serviceaccounts", "", ""},
		{"get", "", "secrets", "", ""},
	}
	cluster := []kind{
		{"create delete", "policy.networking.k8s.io", "adminnetworkpolicies", "", ""},
		{"update delete", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "", "kyverno-resource-validating-webhook-cfg"},
		{"escalate update bind", rbacv1.GroupName, "clusterroles", "", ""},
		{"create", rbacv1.GroupName, "clusterrolebindings", "", ""},
		{"impersonate", "", "users", "", ""},
		{"impersonate", "", "groups", "", ""},
	}
	fields := func(v string) []string {
		var out []string
		start := 0
		for i := 0; i <= len(v); i++ {
			if i == len(v) || v[i] == ' ' {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
		return out
	}
	for _, k := range cluster {
		for _, v := range fields(k.verbs) {
			out = append(out, Request{Verb: v, Group: k.group, Resource: k.resource, Subresource: k.sub, Name: k.name})
		}
	}
	for _, ns := range s.Namespaces {
		for _, v := range []string{"patch", "update"} {
			out = append(out, Request{Verb: v, Resource: "namespaces", Namespace: ns, Name: ns})
		}
		for _, k := range namespaced {
			for _, v := range fields(k.verbs) {
				out = append(out, Request{Verb: v, Group: k.group, Resource: k.resource, Subresource: k.sub, Namespace: ns, Name: k.name})
			}
		}
	}
	return out
}
