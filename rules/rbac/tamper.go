package rbac

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Inputs are what every tamper rule reads.
var Inputs = []string{auditor.ResourceNamespaces, auditor.ResourceRoles, auditor.ResourceClusterRoles,
	auditor.ResourceRoleBindings, auditor.ResourceClusterRoleBindings}

// Needs are the inputs a tamper rule's silence rests on: with no binding of either kind
// among a scan's inputs, nobody is known to hold a grant, not known to hold none, so the
// rule has not judged (its control reads unknown, naming them) instead of passing.
var Needs = []string{auditor.ResourceRoleBindings, auditor.ResourceClusterRoleBindings}

// authorizers is the Authorizer of an evaluation, built once for the three families.
var authorizers = auditor.NewView(func(s *auditor.Snapshot) *Authorizer {
	return New(s.Roles, s.ClusterRoles, s.RoleBindings, s.ClusterRoleBindings)
})

// Of returns the snapshot's Authorizer (built once per evaluation).
func Of(s *auditor.Snapshot) *Authorizer { return authorizers.Of(s) }

// ScopeOf is the scope the configuration gives: its declared admins, the platform's
// namespaces (protected, trusted, host-network, Kyverno's) and the snapshot's namespaces.
func ScopeOf(cfg auditor.Config, s *auditor.Snapshot) Scope {
	return Scope{
		Admins:     cfg.RBAC.Admins,
		Platform:   func(ns string) bool { return !cfg.Untrusted(ns) || ns == cfg.SR2.KyvernoNamespace },
		Namespaces: s.SortedNamespaceNames(),
	}
}

// maxActions bounds the requests one finding lists.
const maxActions = 4

// Tamper judges a family's doors: one finding per identity, door, binding and
// escalation, on the binding (waive it there), critical (meta's severity) for a tenant
// identity, info for a declared admin or a platform ServiceAccount.
//
// Where the daemon confirmed a request with a SubjectAccessReview (Snapshot.AccessReviews)
// the API server's answer wins: a request it does not allow is dropped, and a finding whose
// request it allowed says "confirmed by SubjectAccessReview". Escalations are not reviewed
// (the identity does not hold the request itself).
func Tamper(meta auditor.RuleMeta, cfg auditor.Config, s *auditor.Snapshot, doors []Door) auditor.Result {
	var res auditor.Result
	a := Of(s)
	if s.Offline() {
		res.Inconclusive = append(res.Inconclusive, a.MissingRoles()...)
	}
	rv := reviews.Of(s)
	for _, o := range a.Openings(ScopeOf(cfg, s), doors) {
		o, ok, confirmed := confirm(rv, o)
		if !ok {
			continue
		}
		msg := message(s, o)
		if confirmed {
			msg += " (confirmed by SubjectAccessReview)"
		}
		f := meta.NewFinding(bindingRef(o.Path.Binding), msg)
		if o.Tier != Tenant {
			f.Severity = auditor.SeverityInfo
		}
		f.Discriminator = o.Identity.String() + "|" + o.Door.ID + "|" + o.Escalation
		res.Findings = append(res.Findings, f)
	}
	return res
}

func bindingRef(b RoleRef) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: b.Kind, Namespace: b.Namespace, Name: b.Name}
}

// message names the identity, what it may do, what that does to the control and the
// path: binding -> role -> rule, with the role's file and line offline.
func message(s *auditor.Snapshot, o Opening) string {
	var acts []string
	for i, a := range o.Actions {
		if i == maxActions {
			acts = append(acts, fmt.Sprintf("%d more", len(o.Actions)-maxActions))
			break
		}
		acts = append(acts, a.String())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) may %s: %s", o.Identity, o.Tier, strings.Join(acts, ", "), o.Door.What)
	if o.Escalation != "" {
		fmt.Fprintf(&b, "; it does not hold this itself but may %s", o.Escalation)
		b.WriteString("; first step through ")
	} else {
		b.WriteString("; through ")
	}
	b.WriteString(pathText(s, o.Path))
	return b.String()
}

// pathText is a path with the granting rule and, offline, where the role was read.
func pathText(s *auditor.Snapshot, p Path) string {
	out := p.String()
	role, idx := p.Role, p.Rule
	if p.From != nil {
		role, idx = *p.From, p.FromRule
	}
	if r := Of(s).rule(p); r != nil {
		out += " (" + ruleText(*r) + ")"
	}
	if l := s.LocationOf(&auditor.ObjectRef{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: role.Kind, Namespace: role.Namespace, Name: role.Name}); l != nil {
		out += fmt.Sprintf(" [%s:%d, rule %d]", l.File, l.Line, idx)
	}
	return out
}

// rule returns the rule a path names.
func (a *Authorizer) rule(p Path) *rbacv1.PolicyRule {
	rules := a.roles[p.Role]
	if p.Rule < 0 || p.Rule >= len(rules) {
		return nil
	}
	return &rules[p.Rule].rule
}

// MissingRoles describes the bindings whose role is not there: the API server grants
// nothing through them; a scan cannot tell whether the cluster has the role (the
// built-in admin, edit and view ClusterRoles are rarely among the manifests).
func (a *Authorizer) MissingRoles() []string {
	var out []string
	for _, b := range a.bindings {
		if _, ok := a.roles[b.role]; !ok {
			out = append(out, fmt.Sprintf("%s references %s, which is not among the inputs: what it grants is not judged", b.ref, b.role))
		}
	}
	return out
}
