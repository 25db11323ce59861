package rbac

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/llm-platform/enforcement-auditor/rules/rbac/rbactest"
)

func generated(t testing.TB, n int) (*Authorizer, rbactest.Set, []Action) {
	t.Helper()
	set := rbactest.Generate(n)
	var acts []Action
	for _, r := range set.Requests() {
		acts = append(acts, Action(r))
	}
	return New(set.Roles, set.ClusterRoles, set.RoleBindings, set.ClusterRoleBindings), set, acts
}

// TestOpeningsAgreeWithGrants: the per binding -> role -> rule evaluation (indexed by
// verb, group and resource) finds, for every identity a binding names and every request,
// exactly the bindings naming it that Subject.Grants (the authorizer's walk, rule by
// rule) finds, through the same rule.
func TestOpeningsAgreeWithGrants(t *testing.T) {
	a, set, acts := generated(t, 300)
	var doors []Door
	for i, act := range acts {
		doors = append(doors, Door{ID: fmt.Sprint(i), Actions: []Action{act}})
	}
	got := map[string]Path{}
	for _, o := range a.Openings(Scope{Namespaces: set.Namespaces}, doors) {
		if o.Escalation == "" {
			require.Len(t, o.Actions, 1)
			got[o.Identity.String()+"|"+o.Door.ID+"|"+o.Path.Binding.String()] = o.Path
		}
	}
	want := map[string]Path{}
	for _, id := range a.Identities(Scope{Namespaces: set.Namespaces}) {
		sub := a.For(id)
		for i, act := range acts {
			for _, p := range sub.Grants(act) {
				if slices.ContainsFunc(a.named[id], func(h subjectHit) bool { return a.bindings[h.b].ref == p.Binding }) {
					want[id.String()+"|"+fmt.Sprint(i)+"|"+p.Binding.String()] = p
				}
			}
		}
	}
	assert.Greater(t, len(want), 200, "the generated set grants too little to compare")
	assert.Equal(t, want, got)
}

// TestGroupGrantOnTheGroup: a binding to a group is the group's opening; the identities
// in the group (here a ServiceAccount, in system:serviceaccounts) are not each reported.
func TestGroupGrantOnTheGroup(t *testing.T) {
	door := []Door{{ID: "exc", Actions: []Action{{Verb: "create", Group: "kyverno.io", Resource: "policyexceptions", Namespace: "kyverno"}}}}
	a := New(nil, []*rbacv1.ClusterRole{crole("exc", nil, nil, rule(l("create"), l("kyverno.io"), l("policyexceptions")))},
		[]*rbacv1.RoleBinding{
			rb("kyverno", "all-sas", clusterRoleRef("exc"), group("system:serviceaccounts")),
			rb("team-a", "other", clusterRoleRef("exc"), sa("team-a", "builder")),
		}, nil)
	var ids []string
	for _, o := range a.Openings(Scope{Namespaces: []string{"kyverno", "team-a"}}, door) {
		ids = append(ids, o.Identity.String())
	}
	assert.Equal(t, []string{"Group system:serviceaccounts"}, ids)
	assert.True(t, a.For(Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "builder"}).Allows(door[0].Actions[0]), "the member is allowed all the same")
}

// TestEscalationStepsThroughAGroup: escalate comes through a binding naming the
// identity, update through a group it is in: both steps held.
func TestEscalationStepsThroughAGroup(t *testing.T) {
	door := []Door{{ID: "cm", Actions: []Action{{Verb: "update", Resource: "configmaps", Namespace: "litellm", Name: "litellm-config"}}}}
	crs := []*rbacv1.ClusterRole{
		crole("escalate", nil, nil, rule(l("escalate"), l(rbacv1.GroupName), l("clusterroles"))),
		crole("update", nil, nil, rule(l("update"), l(rbacv1.GroupName), l("clusterroles"))),
	}
	a := New(nil, crs, nil, []*rbacv1.ClusterRoleBinding{
		crb("esc", "escalate", sa("team-a", "ci")),
		crb("upd", "update", group("system:serviceaccounts:team-a")),
	})
	var got []string
	for _, o := range a.Openings(Scope{Namespaces: []string{"team-a"}}, door) {
		got = append(got, o.Identity.String()+": "+o.Escalation)
	}
	assert.Equal(t, []string{"ServiceAccount team-a/ci: escalate and update ClusterRoles (grant its own roles anything)"}, got)
}
