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

// escalation is one way to gain requests one does not hold.
type escalation struct {
	path Path
	how  string
	// all: every request; else ns: the requests of namespace ns; else the requests sa holds.
	all bool
	ns  string
	sa  *Identity
}

// judge finds one identity's openings of the doors.
type judge struct {
	a     *Authorizer
	sc    Scope
	saSub map[Identity]*Subject // the ServiceAccounts escalations lead to, shared
}

// Openings lists, for every identity in scope and every door, each binding that grants a
// request of the door, and each escalation that leads to one: impersonating users or
// groups, updating ClusterRoles (Roles) with escalate, binding ClusterRoles with bind
// where bindings can be created, and starting pods (or impersonating ServiceAccounts)
// in a namespace whose ServiceAccounts hold the request.
func (a *Authorizer) Openings(sc Scope, doors []Door) []Opening {
	j := &judge{a: a, sc: sc, saSub: map[Identity]*Subject{}}
	var out []Opening
	for _, id := range a.Identities(sc) {
		out = append(out, j.openings(a.For(id), doors)...)
	}
	return out
}

func (j *judge) openings(sub *Subject, doors []Door) []Opening {
	tier := j.sc.tier(sub.Identity)
	esc := j.escalations(sub)
	var out []Opening
	for d := range doors {
		door := &doors[d]
		type found struct {
			path    Path
			actions []Action
		}
		var direct []found
		idx := map[RoleRef]int{}
		for _, act := range door.Actions {
			for _, p := range sub.Grants(act) {
				i, ok := idx[p.Binding]
				if !ok {
					i = len(direct)
					idx[p.Binding] = i
					direct = append(direct, found{path: p})
				}
				direct[i].actions = append(direct[i].actions, act)
			}
		}
		for _, f := range direct {
			out = append(out, Opening{Identity: sub.Identity, Tier: tier, Door: door, Actions: f.actions, Path: f.path})
		}
		for _, e := range esc {
			var acts []Action
			how := e.how
			for _, act := range door.Actions {
				switch {
				case e.all:
				case e.ns != "":
					if act.Namespace != e.ns {
						continue
					}
				case e.sa != nil:
					g := j.serviceAccount(*e.sa).Grants(act)
					if len(g) == 0 {
						continue
					}
					if len(acts) == 0 {
						how += ", which holds it through " + g[0].String()
					}
				}
				acts = append(acts, act)
			}
			if len(acts) > 0 {
				out = append(out, Opening{Identity: sub.Identity, Tier: tier, Door: door, Actions: acts, Path: e.path, Escalation: how})
			}
		}
	}
	return out
}

func (j *judge) serviceAccount(id Identity) *Subject {
	s, ok := j.saSub[id]
	if !ok {
		s = j.a.For(id)
		j.saSub[id] = s
	}
	return s
}

// escalations are the identity's ways to gain requests it does not hold.
func (j *judge) escalations(sub *Subject) []escalation {
	if len(sub.hits) == 0 {
		return nil
	}
	var out []escalation
	first := func(acts ...Action) (Path, bool) {
		var p Path
		for i, act := range acts {
			g := sub.Grants(act)
			if len(g) == 0 {
				return Path{}, false
			}
			if i == 0 {
				p = g[0]
			}
		}
		return p, true
	}
	const rbacGroup = rbacv1.GroupName
	for _, what := range []string{"users", "groups"} {
		if p, ok := first(Action{Verb: "impersonate", Resource: what}); ok {
			out = append(out, escalation{path: p, all: true, how: "impersonate any of " + what})
		}
	}
	if p, ok := first(Action{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "update", Group: rbacGroup, Resource: "clusterroles"}); ok {
		out = append(out, escalation{path: p, all: true, how: "escalate and update ClusterRoles (grant its own roles anything)"})
	}
	if p, ok := first(Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "create", Group: rbacGroup, Resource: "clusterrolebindings"}); ok {
		out = append(out, escalation{path: p, all: true, how: "bind any ClusterRole in a new ClusterRoleBinding"})
	}
	namespaces := j.sc.Namespaces
	for _, ns := range namespaces {
		if p, ok := first(Action{Verb: "escalate", Group: rbacGroup, Resource: "roles", Namespace: ns}, Action{Verb: "update", Group: rbacGroup, Resource: "roles", Namespace: ns}); ok {
			out = append(out, escalation{path: p, ns: ns, how: "escalate and update Roles in namespace " + ns})
		}
		if p, ok := first(Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Namespace: ns}, Action{Verb: "create", Group: rbacGroup, Resource: "rolebindings", Namespace: ns}); ok {
			out = append(out, escalation{path: p, ns: ns, how: "bind any ClusterRole in a new RoleBinding in namespace " + ns})
		}
	}
	for _, ns := range sortedKeys(j.a.saByNS) {
		var p Path
		how := ""
		for _, act := range PodMakers(ns) {
			if g := sub.Grants(act); len(g) > 0 {
				p, how = g[0], act.Verb+" "+act.String()[len(act.Verb)+1:]
				break
			}
		}
		if how == "" {
			if g := sub.Grants(Action{Verb: "impersonate", Resource: "serviceaccounts", Namespace: ns}); len(g) > 0 {
				p, how = g[0], "impersonate serviceaccounts in namespace "+ns
			}
		}
		if how == "" {
			continue
		}
		for _, name := range j.a.saByNS[ns] {
			sa := Identity{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
			if sa == sub.Identity {
				continue
			}
			out = append(out, escalation{path: p, sa: &sa, how: how + " as " + sa.String()})
		}
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
