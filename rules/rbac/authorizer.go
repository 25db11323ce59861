// Package rbac decides who may switch a control off under Kubernetes RBAC: it resolves
// ClusterRole aggregation as the clusterrole-aggregation controller does, indexes the
// bindings by subject and the roles by name, and answers whether an identity may send
// one request (verb, group, resource, subresource, namespace, name), naming every
// binding -> role -> rule path that grants it. Rule matching is Kubernetes' own
// (k8s.io/component-helpers/auth/rbac/validation); which subjects a binding applies to
// follows the API server's RBAC authorizer (pkg/registry/rbac/validation, appliesTo).
// The families declare their doors (tamper.go of rules/sr1, sr2, sr3) and Tamper turns
// them into findings. Openings works per binding -> role -> rule against the doors indexed
// by (namespace, verb, group, resource) (table.go), and finds the escalations once per
// evaluation (openings.go); Subject.Grants, the authorizer's own walk for one identity,
// is what the differential tests and the SubjectAccessReview confirmation compare with.
package rbac

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// Identity is who may send a request: a user, any member of a group, or a
// ServiceAccount, as a binding's subject names them.
type Identity struct {
	Kind      string // rbacv1.UserKind, rbacv1.GroupKind or rbacv1.ServiceAccountKind
	Name      string
	Namespace string // ServiceAccounts only
}

func (i Identity) String() string {
	if i.Kind == rbacv1.ServiceAccountKind {
		return "ServiceAccount " + i.Namespace + "/" + i.Name
	}
	return i.Kind + " " + i.Name
}

// IdentityOf is the identity a binding's subject names; a ServiceAccount subject without
// a namespace is defaulted to the RoleBinding's (ns; "" for a ClusterRoleBinding, where it
// names nobody: ok false). A User subject spelling a ServiceAccount's user name is that
// ServiceAccount.
func IdentityOf(sub rbacv1.Subject, ns string) (Identity, bool) {
	switch sub.Kind {
	case rbacv1.UserKind:
		if sns, name, err := serviceaccount.SplitUsername(sub.Name); err == nil {
			return Identity{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: sns}, true
		}
		return Identity{Kind: rbacv1.UserKind, Name: sub.Name}, sub.Name != ""
	case rbacv1.GroupKind:
		return Identity{Kind: rbacv1.GroupKind, Name: sub.Name}, sub.Name != ""
	case rbacv1.ServiceAccountKind:
		if sub.Namespace != "" {
			ns = sub.Namespace
		}
		return Identity{Kind: rbacv1.ServiceAccountKind, Name: sub.Name, Namespace: ns}, ns != "" && sub.Name != ""
	}
	return Identity{}, false
}

// UserInfo is what the authenticator hands the authorizer for the identity: a
// ServiceAccount's user name and groups (k8s.io/apiserver serviceaccount.UserInfo) plus
// system:authenticated; a user with system:authenticated and no other group; a member of
// a group with no user name the bindings could name. Unauthenticated requests carry
// system:unauthenticated alone.
func (i Identity) UserInfo() user.Info {
	switch i.Kind {
	case rbacv1.ServiceAccountKind:
		u := serviceaccount.UserInfo(i.Namespace, i.Name, "")
		return &user.DefaultInfo{Name: u.GetName(), Groups: append(u.GetGroups(), user.AllAuthenticated)}
	case rbacv1.UserKind:
		return &user.DefaultInfo{Name: i.Name, Groups: []string{user.AllAuthenticated}}
	}
	if i.Name == user.AllUnauthenticated {
		return &user.DefaultInfo{Groups: []string{user.AllUnauthenticated}}
	}
	if i.Name == user.AllAuthenticated {
		return &user.DefaultInfo{Groups: []string{user.AllAuthenticated}}
	}
	return &user.DefaultInfo{Groups: []string{i.Name, user.AllAuthenticated}}
}

// Action is one API request as the authorizer sees it (authorizer.Attributes of a
// resource request). A request on a Namespace object carries the namespace's name as
// both Namespace and Name (k8s.io/apiserver endpoints/request RequestInfo), so a
// RoleBinding in that namespace applies to it.
type Action struct {
	Verb, Group, Resource, Subresource, Namespace, Name string
}

// NamespaceAction is verb on the Namespace object ns.
func NamespaceAction(verb, ns string) Action {
	return Action{Verb: verb, Resource: "namespaces", Namespace: ns, Name: ns}
}

// resource is the combined resource/subresource the rules name.
func (a Action) resource() string {
	if a.Subresource != "" {
		return a.Resource + "/" + a.Subresource
	}
	return a.Resource
}

func (a Action) String() string {
	r := a.resource()
	if a.Group != "" {
		if a.Subresource != "" {
			r = a.Resource + "." + a.Group + "/" + a.Subresource
		} else {
			r = a.Resource + "." + a.Group
		}
	}
	s := a.Verb + " " + r
	if a.Name != "" {
		s += " " + a.Name
	}
	if a.Namespace != "" && !(a.Resource == "namespaces" && a.Group == "") {
		s += " in namespace " + a.Namespace
	}
	return s
}

// Matches reports whether an RBAC rule allows the request: Kubernetes' own comparison
// (validation.Covers, which the API server's escalation check uses) of the rule against
// the request as a one-verb, one-resource rule. A rule listing resourceNames allows only
// requests naming one of them (never a create, which names nothing); "*/sub" matches the
// subresource of every resource, "*" every verb, group and resource.
func Matches(rule rbacv1.PolicyRule, a Action) bool {
	// A necessary condition of Covers, checked first: Covers allocates, and most rules
	// name other verbs.
	if !slices.Contains(rule.Verbs, a.Verb) && !slices.Contains(rule.Verbs, rbacv1.VerbAll) {
		return false
	}
	req := rbacv1.PolicyRule{Verbs: []string{a.Verb}, APIGroups: []string{a.Group}, Resources: []string{a.resource()}}
	if a.Name != "" {
		req.ResourceNames = []string{a.Name}
	}
	ok, _ := validation.Covers([]rbacv1.PolicyRule{rule}, []rbacv1.PolicyRule{req})
	return ok
}

// RoleRef names a Role (Namespace set) or a ClusterRole.
type RoleRef struct {
	Kind, Namespace, Name string
}

func (r RoleRef) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Path is one way a request is granted: a binding (its subject at Subject), the role it
// references and the rule of that role (index into the role's rules; for an aggregated
// ClusterRole, the rule comes from the ClusterRole From at index FromRule).
type Path struct {
	Binding  RoleRef // Kind RoleBinding or ClusterRoleBinding
	Subject  int
	Role     RoleRef
	Rule     int
	From     *RoleRef
	FromRule int
}

func (p Path) String() string {
	s := fmt.Sprintf("%s (subject %d) -> %s rule %d", p.Binding, p.Subject, p.Role, p.Rule)
	if p.From != nil {
		s += fmt.Sprintf(" (aggregated from %s rule %d)", *p.From, p.FromRule)
	}
	return s
}

// binding is one RoleBinding or ClusterRoleBinding, indexed.
type binding struct {
	ref      RoleRef
	subjects []rbacv1.Subject
	role     RoleRef
}

// subjectHit is a binding and the index of the subject that names an identity.
type subjectHit struct {
	b       int // index into Authorizer.bindings
	subject int
}

// Authorizer answers RBAC requests over one set of roles and bindings. Build it once per
// evaluation (New); it is read-only afterwards and safe for concurrent use.
type Authorizer struct {
	bindings []binding // ClusterRoleBindings by name, then RoleBindings by namespace and name
	roles    map[RoleRef][]sourcedRule
	byUser   map[string][]subjectHit
	byGroup  map[string][]subjectHit
	bySA     map[string][]subjectHit   // namespace/name
	saByNS   map[string][]string       // the ServiceAccounts bindings name, by namespace
	named    map[Identity][]subjectHit // the bindings that name an identity, in binding order

	mu  sync.Mutex
	esc map[string]map[Identity][]escalation // by the scope's namespaces

	boundOnce sync.Once
	bound     []BoundIdentity
}

// New indexes roles and bindings; aggregated ClusterRoles get the rules the controller
// gives them (aggregate).
func New(roles []*rbacv1.Role, clusterRoles []*rbacv1.ClusterRole, rbs []*rbacv1.RoleBinding, crbs []*rbacv1.ClusterRoleBinding) *Authorizer {
	a := &Authorizer{roles: map[RoleRef][]sourcedRule{}, byUser: map[string][]subjectHit{}, byGroup: map[string][]subjectHit{},
		bySA: map[string][]subjectHit{}, saByNS: map[string][]string{}, named: map[Identity][]subjectHit{}}
	for _, r := range roles {
		ref := RoleRef{Kind: "Role", Namespace: r.Namespace, Name: r.Name}
		a.roles[ref] = own(r.Rules)
	}
	for name, rules := range aggregate(clusterRoles) {
		a.roles[RoleRef{Kind: "ClusterRole", Name: name}] = rules
	}
	crbs = sortedBy(crbs, func(b *rbacv1.ClusterRoleBinding) string { return b.Name })
	rbs = sortedBy(rbs, func(b *rbacv1.RoleBinding) string { return b.Namespace + "/" + b.Name })
	for _, b := range crbs {
		a.bindings = append(a.bindings, binding{ref: RoleRef{Kind: "ClusterRoleBinding", Name: b.Name}, subjects: b.Subjects,
			role: RoleRef{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}})
	}
	for _, b := range rbs {
		role := RoleRef{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
		if role.Kind == "Role" {
			role.Namespace = b.Namespace
		}
		a.bindings = append(a.bindings, binding{ref: RoleRef{Kind: "RoleBinding", Namespace: b.Namespace, Name: b.Name}, subjects: b.Subjects, role: role})
	}
	seenSA := map[string]bool{}
	for i, b := range a.bindings {
		for j, sub := range b.subjects {
			hit := subjectHit{b: i, subject: j}
			if id, ok := IdentityOf(sub, b.ref.Namespace); ok && !slices.ContainsFunc(a.named[id], func(h subjectHit) bool { return h.b == i }) {
				a.named[id] = append(a.named[id], hit)
			}
			switch sub.Kind {
			case rbacv1.UserKind:
				a.byUser[sub.Name] = append(a.byUser[sub.Name], hit)
			case rbacv1.GroupKind:
				a.byGroup[sub.Name] = append(a.byGroup[sub.Name], hit)
			case rbacv1.ServiceAccountKind:
				id, ok := IdentityOf(sub, b.ref.Namespace)
				if !ok {
					continue
				}
				k := id.Namespace + "/" + id.Name
				a.bySA[k] = append(a.bySA[k], hit)
				if !seenSA[k] {
					seenSA[k] = true
					a.saByNS[id.Namespace] = append(a.saByNS[id.Namespace], id.Name)
				}
			}
		}
	}
	for _, names := range a.saByNS {
		sort.Strings(names)
	}
	return a
}

func sortedBy[T any](in []T, key func(T) string) []T {
	out := append([]T(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// appliesTo is the API server's appliesToUser (pkg/registry/rbac/validation/rule.go):
// a User subject by name, a Group subject by membership, a ServiceAccount subject by the
// ServiceAccount's user name, its namespace defaulted to the binding's.
func appliesTo(u user.Info, sub rbacv1.Subject, namespace string) bool {
	switch sub.Kind {
	case rbacv1.UserKind:
		return u.GetName() == sub.Name
	case rbacv1.GroupKind:
		for _, g := range u.GetGroups() {
			if g == sub.Name {
				return true
			}
		}
		return false
	case rbacv1.ServiceAccountKind:
		ns := namespace
		if sub.Namespace != "" {
			ns = sub.Namespace
		}
		return ns != "" && serviceaccount.MatchesUsername(ns, sub.Name, u.GetName())
	}
	return false
}

// candidates are the bindings whose subjects may name u, from the indexes, in binding
// order, each once with its first matching subject.
func (a *Authorizer) candidates(u user.Info) []subjectHit {
	var hits []subjectHit
	hits = append(hits, a.byUser[u.GetName()]...)
	for _, g := range u.GetGroups() {
		hits = append(hits, a.byGroup[g]...)
	}
	if ns, name, err := serviceaccount.SplitUsername(u.GetName()); err == nil {
		hits = append(hits, a.bySA[ns+"/"+name]...)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].b != hits[j].b {
			return hits[i].b < hits[j].b
		}
		return hits[i].subject < hits[j].subject
	})
	out := hits[:0]
	for i, h := range hits {
		if i > 0 && hits[i-1].b == h.b {
			continue
		}
		b := a.bindings[h.b]
		if appliesTo(u, b.subjects[h.subject], b.ref.Namespace) {
			out = append(out, h)
		}
	}
	return out
}

// Subject is an identity's bindings, found once, to ask many requests of.
type Subject struct {
	a        *Authorizer
	Identity Identity
	hits     []subjectHit
}

// For returns the identity's bindings.
func (a *Authorizer) For(id Identity) *Subject {
	return &Subject{a: a, Identity: id, hits: a.candidates(id.UserInfo())}
}

// Grants lists every binding that grants the request, each with the first rule of its
// role that allows it (ClusterRoleBindings first, then the RoleBindings of the
// request's namespace), as the RBAC authorizer visits them; none: denied.
func (s *Subject) Grants(act Action) []Path {
	var out []Path
	for _, h := range s.hits {
		b := s.a.bindings[h.b]
		if b.ref.Kind == "RoleBinding" && (act.Namespace == "" || b.ref.Namespace != act.Namespace) {
			continue
		}
		if b.ref.Kind == "RoleBinding" && b.role.Kind != "Role" && b.role.Kind != "ClusterRole" {
			continue
		}
		if b.ref.Kind == "ClusterRoleBinding" && b.role.Kind != "ClusterRole" {
			continue
		}
		for i, r := range s.a.roles[b.role] {
			if Matches(r.rule, act) {
				p := Path{Binding: b.ref, Subject: h.subject, Role: b.role, Rule: i}
				if r.from != nil {
					p.From, p.FromRule = r.from, r.fromRule
				}
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Allows reports whether the identity may send the request.
func (s *Subject) Allows(act Action) bool { return len(s.Grants(act)) > 0 }

// ServiceAccountsIn lists the ServiceAccounts of namespace ns that some binding names.
func (a *Authorizer) ServiceAccountsIn(ns string) []string { return a.saByNS[ns] }

// BoundIdentities lists every identity some binding names, each once, with the first
// binding naming it, in binding order.
func (a *Authorizer) BoundIdentities() []BoundIdentity {
	a.boundOnce.Do(func() { a.bound = a.boundIdentities() })
	return a.bound
}

func (a *Authorizer) boundIdentities() []BoundIdentity {
	seen := map[Identity]bool{}
	var out []BoundIdentity
	for _, b := range a.bindings {
		for _, sub := range b.subjects {
			id, ok := IdentityOf(sub, b.ref.Namespace)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, BoundIdentity{Identity: id, Binding: b.ref})
		}
	}
	return out
}

// BoundIdentity is an identity and the first binding that names it.
type BoundIdentity struct {
	Identity Identity
	Binding  RoleRef
}

// ruleText is a rule for messages: verbs, resources (with their groups), names.
func ruleText(r rbacv1.PolicyRule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "verbs %v on", r.Verbs)
	if len(r.NonResourceURLs) > 0 {
		fmt.Fprintf(&b, " %v", r.NonResourceURLs)
		return b.String()
	}
	fmt.Fprintf(&b, " %v of groups %q", r.Resources, r.APIGroups)
	if len(r.ResourceNames) > 0 {
		fmt.Fprintf(&b, " named %v", r.ResourceNames)
	}
	return b.String()
}
