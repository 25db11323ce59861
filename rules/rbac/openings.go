package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// escalation is one way to gain requests one does not hold.
type escalation struct {
	path Path
	how  string
	// all: every request; else ns: the requests of namespace ns; else (podsIn) the
	// requests each named ServiceAccount of namespace podsIn holds, how then followed by
	// " as <ServiceAccount>".
	all    bool
	ns     string
	podsIn string
}

// Openings lists, for every identity in scope and every door, each binding naming the
// identity that grants a request of the door, and each escalation that leads to one:
// impersonating users or groups, updating ClusterRoles (Roles) with escalate, binding
// ClusterRoles with bind where bindings can be created, and starting pods (or
// impersonating ServiceAccounts) in a namespace whose ServiceAccounts hold the request.
//
// A grant is reported on the subject the binding names: a binding to a group is the
// group's opening, not repeated for every identity in the group. The escalations are
// found once per Authorizer (so once per evaluation, shared by the three families).
func (a *Authorizer) Openings(sc Scope, doors []Door) []Opening {
	var acts []Action
	var doorOf []int
	start := make([]int, len(doors)+1) // door d's requests are acts[start[d]:start[d+1]]
	for d := range doors {
		start[d] = len(acts)
		for _, act := range doors[d].Actions {
			acts = append(acts, act)
			doorOf = append(doorOf, d)
		}
	}
	start[len(doors)] = len(acts)
	t := newTable(a, acts)
	esc := a.escalations(sc.Namespaces)
	saHolds := map[Identity][]held{}
	byDoor := make([][]Opening, len(doors))
	holdsDirectly := map[int]bool{}
	var out []Opening
	for _, id := range a.Identities(sc) {
		hits := a.named[id]
		escs := esc[id]
		if len(hits) == 0 && len(escs) == 0 {
			continue
		}
		tier := sc.tier(id)
		// Direct: a binding's grants are in request order, so door by door. An escalation
		// to a request the identity holds already is not another opening.
		clear(holdsDirectly)
		for _, h := range hits {
			gs := t.grants(h.b)
			for _, g := range gs {
				holdsDirectly[g.act] = true
			}
			for k := 0; k < len(gs); {
				d := doorOf[gs[k].act]
				o := Opening{Identity: id, Tier: tier, Door: &doors[d]}
				for ; k < len(gs) && doorOf[gs[k].act] == d; k++ {
					if tenantOwn(sc, &doors[d], a.bindings[h.b].ref, acts[gs[k].act]) {
						continue
					}
					if o.Actions == nil {
						o.Path = t.path(h, gs[k])
					}
					o.Actions = append(o.Actions, acts[gs[k].act])
				}
				if o.Actions != nil {
					byDoor[d] = append(byDoor[d], o)
				}
			}
		}
		for _, e := range escs {
			switch {
			case e.all, e.ns != "":
				for d := range doors {
					var got []Action
					for i, act := range acts[start[d]:start[d+1]] {
						if (e.all || act.Namespace == e.ns) && !holdsDirectly[start[d]+i] && !tenantOwn(sc, &doors[d], e.path.Binding, act) {
							got = append(got, act)
						}
					}
					if got != nil {
						byDoor[d] = append(byDoor[d], Opening{Identity: id, Tier: tier, Door: &doors[d], Actions: got, Path: e.path, Escalation: e.how})
					}
				}
			case e.podsIn != "":
				for _, name := range a.saByNS[e.podsIn] {
					sa := Identity{Kind: rbacv1.ServiceAccountKind, Namespace: e.podsIn, Name: name}
					if sa == id {
						continue
					}
					hs, ok := saHolds[sa]
					if !ok {
						hs = t.holds(sa)
						saHolds[sa] = hs
					}
					throughServiceAccount(byDoor, sc, t, doors, doorOf, id, tier, e, sa, hs, holdsDirectly)
				}
			}
		}
		for d := range byDoor {
			out = append(out, byDoor[d]...)
			byDoor[d] = byDoor[d][:0]
		}
	}
	return out
}

// throughServiceAccount adds to byDoor the openings of an escalation through pods run
// as sa, which holds hs: the requests the identity does not hold itself.
func throughServiceAccount(byDoor [][]Opening, sc Scope, t *table, doors []Door, doorOf []int, id Identity, tier Tier,
	e escalation, sa Identity, hs []held, holdsDirectly map[int]bool) {
	for k := 0; k < len(hs); {
		d := doorOf[hs[k].act]
		o := Opening{Identity: id, Tier: tier, Door: &doors[d], Path: e.path}
		for ; k < len(hs) && doorOf[hs[k].act] == d; k++ {
			if holdsDirectly[hs[k].act] || tenantOwn(sc, &doors[d], e.path.Binding, t.acts[hs[k].act]) {
				continue
			}
			if o.Actions == nil {
				o.Escalation = e.how + " as " + sa.String() + ", which holds it through " + hs[k].path.String()
			}
			o.Actions = append(o.Actions, t.acts[hs[k].act])
		}
		if o.Actions != nil {
			byDoor[d] = append(byDoor[d], o)
		}
	}
}

// tenantOwn reports whether a TenantOwn door's request is in the tenant namespace whose
// RoleBinding grants it (or starts the escalation to it).
func tenantOwn(sc Scope, d *Door, b RoleRef, act Action) bool {
	return d.TenantOwn && b.Kind == "RoleBinding" && b.Namespace == act.Namespace && (sc.Platform == nil || !sc.Platform(act.Namespace))
}

// held is a request an identity holds and the first path that grants it.
type held struct {
	act  int
	path Path
}

// holds is every request of the table the identity holds through any binding that
// applies to it (its groups' included), with the first path in binding order.
func (t *table) holds(id Identity) []held {
	first := map[int]Path{}
	for _, h := range t.a.candidates(id.UserInfo()) {
		for _, g := range t.grants(h.b) {
			if _, ok := first[g.act]; !ok {
				first[g.act] = t.path(h, g)
			}
		}
	}
	out := make([]held, 0, len(first))
	for act, p := range first {
		out = append(out, held{act: act, path: p})
	}
	slices.SortFunc(out, func(x, y held) int { return x.act - y.act })
	return out
}

// escalations are the escalations of every identity a binding names, found once per
// namespace list (the scope's namespaces are the snapshot's, so once per evaluation).
func (a *Authorizer) escalations(namespaces []string) map[Identity][]escalation {
	key := strings.Join(namespaces, "\x00")
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.esc[key]; ok {
		return e
	}
	e := a.findEscalations(namespaces)
	if a.esc == nil {
		a.esc = map[string]map[Identity][]escalation{}
	}
	a.esc[key] = e
	return e
}

const rbacGroup = rbacv1.GroupName

// findEscalations: which of the requests an escalation starts with does each named
// identity hold through the bindings that name it; a second step (update after
// escalate, create a binding after bind) may come through any binding that applies to
// it, its groups' included. An identity that holds neither step through a binding naming
// it is judged through the group that holds them.
func (a *Authorizer) findEscalations(namespaces []string) map[Identity][]escalation {
	var acts []Action
	add := func(as ...Action) { acts = append(acts, as...) }
	add(Action{Verb: "impersonate", Resource: "users"}, Action{Verb: "impersonate", Resource: "groups"},
		Action{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "update", Group: rbacGroup, Resource: "clusterroles"},
		Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "create", Group: rbacGroup, Resource: "clusterrolebindings"})
	for _, ns := range namespaces {
		add(Action{Verb: "escalate", Group: rbacGroup, Resource: "roles", Namespace: ns}, Action{Verb: "update", Group: rbacGroup, Resource: "roles", Namespace: ns},
			Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Namespace: ns}, Action{Verb: "create", Group: rbacGroup, Resource: "rolebindings", Namespace: ns})
	}
	saNS := sortedKeys(a.saByNS)
	for _, ns := range saNS {
		add(PodMakers(ns)...)
		add(Action{Verb: "impersonate", Resource: "serviceaccounts", Namespace: ns})
	}
	t := newTable(a, acts)
	inScope := make(map[string]bool, len(namespaces))
	for _, ns := range namespaces {
		inScope[ns] = true
	}
	out := map[Identity][]escalation{}
	for _, bi := range a.BoundIdentities() {
		id := bi.Identity
		if System(id) {
			continue
		}
		var direct map[int]Path
		var nsHeld map[string]bool
		for _, h := range a.named[id] {
			for _, g := range t.grants(h.b) {
				if direct == nil {
					direct, nsHeld = map[int]Path{}, map[string]bool{}
				}
				if _, ok := direct[g.act]; !ok {
					direct[g.act] = t.path(h, g)
					nsHeld[acts[g.act].Namespace] = true
				}
			}
		}
		if len(direct) == 0 {
			continue
		}
		var all map[int]Path // every request it holds, its groups' included, on demand
		holds := func(act Action) (Path, bool) {
			i := t.pos[act]
			if p, ok := direct[i]; ok {
				return p, true
			}
			if all == nil {
				all = map[int]Path{}
				for _, h := range t.holds(id) {
					all[h.act] = h.path
				}
			}
			p, ok := all[i]
			return p, ok
		}
		// first: the path of the first step when the identity holds every step and a
		// binding naming it grants one of them.
		first := func(steps ...Action) (Path, bool) {
			named := false
			for _, s := range steps {
				_, ok := direct[t.pos[s]]
				named = named || ok
			}
			if !named {
				return Path{}, false
			}
			var p Path
			for i, s := range steps {
				q, ok := holds(s)
				if !ok {
					return Path{}, false
				}
				if i == 0 {
					p = q
				}
			}
			return p, true
		}
		var escs []escalation
		for _, what := range []string{"users", "groups"} {
			if p, ok := first(Action{Verb: "impersonate", Resource: what}); ok {
				escs = append(escs, escalation{path: p, all: true, how: "impersonate any of " + what})
			}
		}
		if p, ok := first(Action{Verb: "escalate", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "update", Group: rbacGroup, Resource: "clusterroles"}); ok {
			escs = append(escs, escalation{path: p, all: true, how: "escalate and update ClusterRoles (grant its own roles anything)"})
		}
		if p, ok := first(Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles"}, Action{Verb: "create", Group: rbacGroup, Resource: "clusterrolebindings"}); ok {
			escs = append(escs, escalation{path: p, all: true, how: "bind any ClusterRole in a new ClusterRoleBinding"})
		}
		held := sortedKeys(nsHeld) // the namespaces it holds some first step in
		for _, ns := range held {
			if !inScope[ns] {
				continue
			}
			if p, ok := first(Action{Verb: "escalate", Group: rbacGroup, Resource: "roles", Namespace: ns}, Action{Verb: "update", Group: rbacGroup, Resource: "roles", Namespace: ns}); ok {
				escs = append(escs, escalation{path: p, ns: ns, how: "escalate and update Roles in namespace " + ns})
			}
			if p, ok := first(Action{Verb: "bind", Group: rbacGroup, Resource: "clusterroles", Namespace: ns}, Action{Verb: "create", Group: rbacGroup, Resource: "rolebindings", Namespace: ns}); ok {
				escs = append(escs, escalation{path: p, ns: ns, how: "bind any ClusterRole in a new RoleBinding in namespace " + ns})
			}
		}
		for _, ns := range held {
			if len(a.saByNS[ns]) == 0 {
				continue
			}
			var p Path
			how := ""
			for _, act := range podMakers {
				act.Namespace = ns
				if q, ok := direct[t.pos[act]]; ok {
					p, how = q, act.Verb+" "+act.String()[len(act.Verb)+1:]
					break
				}
			}
			if how == "" {
				if q, ok := direct[t.pos[Action{Verb: "impersonate", Resource: "serviceaccounts", Namespace: ns}]]; ok {
					p, how = q, "impersonate serviceaccounts in namespace "+ns
				}
			}
			if how == "" {
				continue
			}
			escs = append(escs, escalation{path: p, podsIn: ns, how: how})
		}
		if escs != nil {
			out[id] = escs
		}
	}
	return out
}
