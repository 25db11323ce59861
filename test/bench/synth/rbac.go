package synth

import (
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RBAC is a generated set of tenant RBAC objects over a cluster's tenant namespaces.
type RBAC struct {
	ClusterRoles        []*rbacv1.ClusterRole
	Roles               []*rbacv1.Role
	RoleBindings        []*rbacv1.RoleBinding
	ClusterRoleBindings []*rbacv1.ClusterRoleBinding
}

// Bindings counts the set's bindings.
func (r *RBAC) Bindings() int { return len(r.RoleBindings) + len(r.ClusterRoleBindings) }

// Objects are the set's objects, roles before the bindings that refer to them.
func (r *RBAC) Objects() []any {
	var out []any
	for _, o := range r.ClusterRoles {
		out = append(out, o)
	}
	for _, o := range r.Roles {
		out = append(out, o)
	}
	for _, o := range r.ClusterRoleBindings {
		out = append(out, o)
	}
	for _, o := range r.RoleBindings {
		out = append(out, o)
	}
	return out
}

// The custom ClusterRoles GenerateRBAC binds, beside the API server's bootstrap admin,
// edit and view.
const (
	RoleDeveloper         = "tenant-developer"
	RoleMLRunner          = "tenant-ml-runner"
	RolePlatformRead      = "platform-read"
	RoleNamespaceLabeller = "namespace-labeller"
	RoleExceptionWriter   = "kyverno-exception-writer"
)

// GenerateRBAC returns exactly bindings bindings (if bindings >= 3) over the tenant
// namespaces TenantNamespace(0..namespaces-1), the same set every time. It is the shape
// of a multi-tenant cluster's RBAC:
//   - RoleBindings in the tenant namespaces, spread round-robin (binding i in namespace
//     i mod namespaces), the k-th round binding: the team's developers group to the
//     bootstrap ClusterRole edit; its viewers group to view; its "runner"
//     ServiceAccount to tenant-ml-runner (Jobs, pods, Kueue Workloads); its owner (a
//     user) to admin; its "ci" ServiceAccount and the namespace's ServiceAccounts group
//     to a namespaced Role "local"; the developers group to tenant-developer;
//   - one ClusterRoleBinding per 50 bindings: SRE users to view, the platform-sre
//     group to namespace-labeller (patch on namespaces: a tamper door of SR1 and SR2),
//     monitoring ServiceAccounts and auditor users to platform-read;
//   - two defects (the doors the tamper rules report on the example platform): the
//     developers group of the first tenant may create PolicyExceptions in kyverno
//     (SR2) and edit in litellm (SR1 pods in a trusted namespace, SR3 its ConfigMap).
//
// The API server's bootstrap roles and bindings (about 60 ClusterRoles, 50
// ClusterRoleBindings) are not part of the set; a Snapshot built from it alone lacks
// admin, edit and view.
func GenerateRBAC(namespaces, bindings int) *RBAC {
	r := &RBAC{}
	if bindings <= 0 || namespaces <= 0 {
		return r
	}
	rule := func(verbs, groups, resources []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
	}
	l := func(s ...string) []string { return s }
	write := l("create", "update", "patch", "delete")
	read := l("get", "list", "watch")
	r.ClusterRoles = []*rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: RoleDeveloper}, Rules: []rbacv1.PolicyRule{
			rule(write, l("", "apps", "batch"), l("pods", "services", "configmaps", "deployments", "jobs", "cronjobs")),
			rule(l("create"), l(""), l("pods/exec", "pods/portforward")),
			rule(read, l("", "apps", "batch", "kueue.x-k8s.io"), l("*")),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: RoleMLRunner}, Rules: []rbacv1.PolicyRule{
			rule(l("create", "delete"), l("batch"), l("jobs")),
			rule(l("create", "delete"), l(""), l("pods")),
			rule(read, l("kueue.x-k8s.io"), l("workloads", "localqueues")),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: RolePlatformRead}, Rules: []rbacv1.PolicyRule{
			rule(read, l("*"), l("*")),
			{Verbs: l("get"), NonResourceURLs: l("/metrics", "/healthz")},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: RoleNamespaceLabeller}, Rules: []rbacv1.PolicyRule{
			rule(l("get", "list", "patch"), l(""), l("namespaces")),
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: RoleExceptionWriter}, Rules: []rbacv1.PolicyRule{
			rule(l("create", "update", "delete"), l("kyverno.io"), l("policyexceptions")),
		}},
	}
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	group := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
	}
	user := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
	}
	sa := func(ns, name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
	}

	crbs := max(1, bindings/50)
	for j := range crbs {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("platform-%04d", j)}}
		switch j % 4 {
		case 0:
			b.RoleRef, b.Subjects = ref("ClusterRole", "view"), []rbacv1.Subject{user(fmt.Sprintf("sre-%d@example.com", j))}
		case 1:
			b.RoleRef, b.Subjects = ref("ClusterRole", RoleNamespaceLabeller), []rbacv1.Subject{group("platform-sre")}
		case 2:
			b.RoleRef, b.Subjects = ref("ClusterRole", RolePlatformRead), []rbacv1.Subject{sa("monitoring", fmt.Sprintf("scraper-%d", j))}
		default:
			b.RoleRef, b.Subjects = ref("ClusterRole", RolePlatformRead), []rbacv1.Subject{user(fmt.Sprintf("auditor-%d@example.com", j))}
		}
		r.ClusterRoleBindings = append(r.ClusterRoleBindings, b)
	}
	if r.Bindings() >= bindings {
		return r
	}
	first := TenantNamespace(0)
	r.RoleBindings = append(r.RoleBindings,
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: first + "-exceptions"},
			RoleRef: ref("ClusterRole", RoleExceptionWriter), Subjects: []rbacv1.Subject{group(first + "-developers")}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "litellm", Name: first + "-edit"},
			RoleRef: ref("ClusterRole", "edit"), Subjects: []rbacv1.Subject{group(first + "-developers")}},
	)
	local := map[string]bool{}
	for i := 0; r.Bindings() < bindings; i++ {
		ns := TenantNamespace(i % namespaces)
		round := i / namespaces
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("team-%d", round)}}
		switch round % 6 {
		case 0:
			b.RoleRef, b.Subjects = ref("ClusterRole", "edit"), []rbacv1.Subject{group(ns + "-developers")}
		case 1:
			b.RoleRef, b.Subjects = ref("ClusterRole", "view"), []rbacv1.Subject{group(ns + "-viewers")}
		case 2:
			b.RoleRef, b.Subjects = ref("ClusterRole", RoleMLRunner), []rbacv1.Subject{sa(ns, "runner")}
		case 3:
			b.RoleRef, b.Subjects = ref("ClusterRole", "admin"), []rbacv1.Subject{user("owner@" + ns + ".example.com")}
		case 4:
			b.RoleRef, b.Subjects = ref("Role", "local"), []rbacv1.Subject{sa(ns, "ci"), group("system:serviceaccounts:" + ns)}
			if !local[ns] {
				local[ns] = true
				r.Roles = append(r.Roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local"}, Rules: []rbacv1.PolicyRule{
					rule(l("get", "list", "update", "patch"), l(""), l("configmaps")),
					rule(l("get", "list", "update"), l("apps"), l("deployments")),
				}})
			}
		default:
			b.RoleRef, b.Subjects = ref("ClusterRole", RoleDeveloper), []rbacv1.Subject{group(ns + "-developers")}
		}
		r.RoleBindings = append(r.RoleBindings, b)
	}
	return r
}
