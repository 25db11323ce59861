package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// table answers, for one set of requests (a family's doors, or the requests escalations
// start with), which of them each binding grants and through which rule of its role. It
// works per binding -> role -> rule: a rule's verbs, groups and resources are looked up
// in an index of the requests by (namespace, verb, group, resource), and only the
// requests found there are compared with the rule (Matches, Kubernetes' own matching).
// The cost is the bindings' rules times what they grant, not identities times requests.
// A table is not safe for concurrent use while it fills its memo.
type table struct {
	a    *Authorizer
	acts []Action
	pos  map[Action]int
	// cluster indexes every request (what a ClusterRoleBinding may grant); local the
	// namespaced ones by their namespace (what a RoleBinding there may grant).
	cluster, local map[indexKey][]int
	verbs          []string
	// memo: the grants of a role bound cluster-wide (ns "") or in a namespace.
	memo map[roleScope][]grant
	// byBinding: the grants of each binding, filled on first use.
	byBinding [][]grant
	done      []bool
}

// indexKey: group and resource "*" index every request of the verb (a rule with a
// wildcard group or resource looks there).
type indexKey struct {
	ns, verb, group, resource string
}

type roleScope struct {
	role RoleRef
	ns   string
}

// grant is a request of the table (index into acts) and the first rule of the binding's
// role that allows it.
type grant struct {
	act, rule int
}

func newTable(a *Authorizer, acts []Action) *table {
	t := &table{a: a, acts: acts, pos: make(map[Action]int, len(acts)), cluster: map[indexKey][]int{}, local: map[indexKey][]int{},
		memo: map[roleScope][]grant{}, byBinding: make([][]grant, len(a.bindings)), done: make([]bool, len(a.bindings))}
	for i, act := range acts {
		if _, dup := t.pos[act]; !dup {
			t.pos[act] = i
		}
		res := act.resource()
		t.cluster[indexKey{verb: act.Verb, group: act.Group, resource: res}] = append(t.cluster[indexKey{verb: act.Verb, group: act.Group, resource: res}], i)
		t.cluster[indexKey{verb: act.Verb, group: "*", resource: "*"}] = append(t.cluster[indexKey{verb: act.Verb, group: "*", resource: "*"}], i)
		if act.Namespace != "" {
			k := indexKey{ns: act.Namespace, verb: act.Verb, group: act.Group, resource: res}
			t.local[k] = append(t.local[k], i)
			k = indexKey{ns: act.Namespace, verb: act.Verb, group: "*", resource: "*"}
			t.local[k] = append(t.local[k], i)
		}
		if !slices.Contains(t.verbs, act.Verb) {
			t.verbs = append(t.verbs, act.Verb)
		}
	}
	return t
}

// wild reports whether a rule's groups or resources need the per-verb list: "*", or a
// "*/subresource" resource.
func wild(r rbacv1.PolicyRule) bool {
	if slices.Contains(r.APIGroups, rbacv1.APIGroupAll) {
		return true
	}
	for _, res := range r.Resources {
		if res == rbacv1.ResourceAll || strings.HasPrefix(res, "*/") {
			return true
		}
	}
	return false
}

// candidates are the table's requests a rule may allow, in the scope ns ("" for a
// ClusterRoleBinding), each at most once per verb.
func (t *table) candidates(r rbacv1.PolicyRule, ns string, visit func(int)) {
	if len(r.Resources) == 0 {
		return
	}
	idx := t.cluster
	if ns != "" {
		idx = t.local
	}
	verbs := r.Verbs
	if slices.Contains(verbs, rbacv1.VerbAll) {
		verbs = t.verbs
	}
	for _, v := range slices.Compact(slices.Sorted(slices.Values(verbs))) {
		if wild(r) {
			for _, i := range idx[indexKey{ns: ns, verb: v, group: "*", resource: "*"}] {
				visit(i)
			}
			continue
		}
		for _, g := range slices.Compact(slices.Sorted(slices.Values(r.APIGroups))) {
			for _, res := range slices.Compact(slices.Sorted(slices.Values(r.Resources))) {
				for _, i := range idx[indexKey{ns: ns, verb: v, group: g, resource: res}] {
					visit(i)
				}
			}
		}
	}
}

// roleGrants are the requests the role grants when bound in ns ("" cluster-wide), each
// with the first rule that allows it, in request order.
func (t *table) roleGrants(role RoleRef, ns string) []grant {
	k := roleScope{role: role, ns: ns}
	if g, ok := t.memo[k]; ok {
		return g
	}
	var out []grant
	var seen map[int]bool
	for ri, r := range t.a.roles[role] {
		t.candidates(r.rule, ns, func(i int) {
			if seen[i] || !Matches(r.rule, t.acts[i]) {
				return
			}
			if seen == nil {
				seen = map[int]bool{}
			}
			seen[i] = true
			out = append(out, grant{act: i, rule: ri})
		})
	}
	slices.SortFunc(out, func(x, y grant) int { return x.act - y.act })
	t.memo[k] = out
	return out
}

// grants are what binding b grants of the table's requests, as Subject.Grants decides
// (a RoleBinding only in its namespace; a ClusterRoleBinding only through a ClusterRole).
func (t *table) grants(b int) []grant {
	if t.done[b] {
		return t.byBinding[b]
	}
	t.done[b] = true
	bd := t.a.bindings[b]
	switch {
	case bd.ref.Kind == "ClusterRoleBinding" && bd.role.Kind == "ClusterRole":
		t.byBinding[b] = t.roleGrants(bd.role, "")
	case bd.ref.Kind == "RoleBinding" && (bd.role.Kind == "Role" || bd.role.Kind == "ClusterRole") && bd.ref.Namespace != "":
		t.byBinding[b] = t.roleGrants(bd.role, bd.ref.Namespace)
	}
	return t.byBinding[b]
}

// path is the Path of a grant of binding b to its subject.
func (t *table) path(h subjectHit, g grant) Path {
	bd := t.a.bindings[h.b]
	p := Path{Binding: bd.ref, Subject: h.subject, Role: bd.role, Rule: g.rule}
	if r := t.a.roles[bd.role][g.rule]; r.from != nil {
		p.From, p.FromRule = r.from, r.fromRule
	}
	return p
}
