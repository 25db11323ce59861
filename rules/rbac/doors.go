package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
)

// Door is one way to switch a control off: any one of its requests undoes it (write a
// NetworkPolicy in a protected namespace, create a PolicyException where Kyverno reads
// them). The families declare their doors (tamper.go); the requests are exact, names
// included, so that resourceNames and RoleBindings narrow them as the API server would.
type Door struct {
	// ID is short and stable: it is part of a finding's identity.
	ID string
	// What says what the requests do to the control, for messages.
	What    string
	Actions []Action
	// TenantOwn: a request in a tenant namespace (not Scope.Platform) granted by a
	// RoleBinding of that namespace, or reached by an escalation that starts there, is
	// not an opening. For the doors "start pods in a namespace the gate (Pod Security)
	// does not cover": a tenant starting pods in its own namespace is what the namespace's
	// scope rules judge, once per namespace; a grant reaching into other namespaces (a
	// ClusterRoleBinding, a RoleBinding in another namespace) still is a door.
	TenantOwn bool
}

// Tier says how a finding's identity is judged.
type Tier int

const (
	// Tenant: any identity neither declared nor the platform's own.
	Tenant Tier = iota
	// Admin: declared in rbac.admins.
	Admin
	// Platform: a ServiceAccount of a platform namespace (protected, trusted, host-network,
	// Kyverno's): its power is by design; who may act as it is judged through the
	// escalation doors (create pods there, impersonate).
	Platform
)

func (t Tier) String() string {
	switch t {
	case Admin:
		return "declared admin"
	case Platform:
		return "platform ServiceAccount"
	}
	return "tenant identity"
}

// Scope says which identities are judged and how.
type Scope struct {
	Admins []rbacv1.Subject
	// Platform reports whether a namespace is one of the platform's own.
	Platform func(ns string) bool
	// Namespaces are the cluster's namespaces (the groups system:serviceaccounts:<ns>).
	Namespaces []string
}

// Opening is one identity's way through one door: the binding path that grants a
// request directly, or the escalation that leads to it.
type Opening struct {
	Identity Identity
	Tier     Tier
	Door     *Door
	// Actions are the door's requests this path grants, in the door's order.
	Actions []Action
	// Path grants the requests, or, for an escalation, the escalation's first step.
	Path Path
	// Escalation, when set, names how the identity gets the requests without holding
	// them: "impersonate users", "create pods in namespace x as ServiceAccount x/y, which
	// holds them through <path>".
	Escalation string
}

// broadGroups are the groups that include every tenant (k8s.io/apiserver user
// AllAuthenticated, AllUnauthenticated; serviceaccount.AllServiceAccountsGroup).
var broadGroups = []string{user.AllAuthenticated, user.AllUnauthenticated, serviceaccount.AllServiceAccountsGroup}

// System reports whether an identity belongs to the control plane and is not judged:
// a user or group under Kubernetes' reserved "system:" prefix (system:masters,
// system:kube-controller-manager, system:nodes, system:node:<name>...) other than the
// groups every tenant is in (system:authenticated, system:unauthenticated,
// system:serviceaccounts and system:serviceaccounts:<ns>), and the ServiceAccounts of
// kube-system (the controller manager's controllers). Their grants still count as
// escalation targets: whoever may create pods in kube-system acts as its ServiceAccounts.
func System(id Identity) bool {
	switch id.Kind {
	case rbacv1.ServiceAccountKind:
		return id.Namespace == "kube-system"
	case rbacv1.GroupKind:
		if slices.Contains(broadGroups, id.Name) {
			return false
		}
		if ns, ok := strings.CutPrefix(id.Name, serviceaccount.ServiceAccountGroupPrefix); ok {
			return ns == "kube-system"
		}
	}
	return strings.HasPrefix(id.Name, "system:")
}

// tier judges an identity against the scope.
func (sc Scope) tier(id Identity) Tier {
	u := id.UserInfo()
	for _, a := range sc.Admins {
		if id.Kind == rbacv1.GroupKind && a.Kind == rbacv1.GroupKind && a.Name == id.Name || appliesTo(u, a, "") {
			return Admin
		}
	}
	if sc.Platform != nil {
		ns := id.Namespace
		if id.Kind == rbacv1.GroupKind {
			ns, _ = strings.CutPrefix(id.Name, serviceaccount.ServiceAccountGroupPrefix)
			if ns == id.Name {
				ns = ""
			}
		}
		if ns != "" && sc.Platform(ns) {
			return Platform
		}
	}
	return Tenant
}

// Identities are the identities judged: every identity a binding names but the system
// ones, then the broad groups and the groups of every namespace's ServiceAccounts.
func (a *Authorizer) Identities(sc Scope) []Identity {
	seen := map[Identity]bool{}
	var out []Identity
	add := func(id Identity) {
		if !seen[id] && !System(id) {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, b := range a.BoundIdentities() {
		add(b.Identity)
	}
	for _, g := range broadGroups {
		add(Identity{Kind: rbacv1.GroupKind, Name: g})
	}
	for _, ns := range sc.Namespaces {
		add(Identity{Kind: rbacv1.GroupKind, Name: serviceaccount.MakeNamespaceGroupName(ns)})
	}
	return out
}

// podMakers are the requests that start a pod in a namespace under a ServiceAccount the
// author chooses: pods and the built-in workloads whose controllers make pods.
var podMakers = []Action{
	{Verb: "create", Resource: "pods"},
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "create", Group: "apps", Resource: "replicasets"},
	{Verb: "create", Group: "apps", Resource: "statefulsets"},
	{Verb: "create", Group: "apps", Resource: "daemonsets"},
	{Verb: "create", Group: "batch", Resource: "jobs"},
	{Verb: "create", Group: "batch", Resource: "cronjobs"},
}

// PodMakers returns podMakers in namespace ns.
func PodMakers(ns string) []Action {
	out := slices.Clone(podMakers)
	for i := range out {
		out[i].Namespace = ns
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
