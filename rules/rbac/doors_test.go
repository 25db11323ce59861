package rbac

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	rbacv1 "k8s.io/api/rbac/v1"
)

// TestEscalations: identities that do not hold a door's request but may gain it, each
// with the step named; and identities that only seem to.
func TestEscalations(t *testing.T) {
	door := []Door{{ID: "litellm-config", What: "change the LiteLLM config", Actions: []Action{
		{Verb: "update", Resource: "configmaps", Namespace: "litellm", Name: "litellm-config"}}}}
	editCM := rule(l("update"), l(""), l("configmaps"))
	crs := []*rbacv1.ClusterRole{
		crole("impersonator", nil, nil, rule(l("impersonate"), l(""), l("users"))),
		crole("escalator", nil, nil, rule(l("escalate", "update"), l(rbacv1.GroupName), l("clusterroles"))),
		crole("escalate-only", nil, nil, rule(l("escalate"), l(rbacv1.GroupName), l("clusterroles"))),
		crole("binder", nil, nil, rule(l("bind"), l(rbacv1.GroupName), l("clusterroles")), rule(l("create"), l(rbacv1.GroupName), l("rolebindings"))),
		crole("bind-only", nil, nil, rule(l("bind"), l(rbacv1.GroupName), l("clusterroles"))),
		crole("pod-maker", nil, nil, rule(l("create"), l("apps"), l("deployments"))),
		crole("edit-cm", nil, nil, editCM),
	}
	rbs := []*rbacv1.RoleBinding{
		rb("litellm", "bind-in-litellm", clusterRoleRef("binder"), group("binders")),
		rb("litellm", "bind-only", clusterRoleRef("bind-only"), group("bind-only")),
		rb("litellm", "deployers", clusterRoleRef("pod-maker"), group("deployers")),
		rb("team-a", "deployers-elsewhere", clusterRoleRef("pod-maker"), group("deployers-elsewhere")),
		rb("litellm", "config-writer", clusterRoleRef("edit-cm"), sa("litellm", "config-sync")),
	}
	crbs := []*rbacv1.ClusterRoleBinding{
		crb("impersonators", "impersonator", group("impersonators")),
		crb("escalators", "escalator", group("escalators")),
		crb("escalate-only", "escalate-only", group("escalate-only")),
	}
	a := New(nil, crs, rbs, crbs)
	sc := Scope{Namespaces: []string{"litellm", "team-a"}}
	got := map[string]string{}
	for _, o := range a.Openings(sc, door) {
		got[o.Identity.String()] = o.Escalation
	}
	cases := map[string]string{
		"Group impersonators":                "impersonate any of users",
		"Group escalators":                   "escalate and update ClusterRoles",
		"Group binders":                      "bind any ClusterRole in a new RoleBinding in namespace litellm",
		"Group deployers":                    "create deployments.apps in namespace litellm as ServiceAccount litellm/config-sync, which holds it through RoleBinding litellm/config-writer",
		"ServiceAccount litellm/config-sync": "", // holds it directly
	}
	for id, want := range cases {
		how, ok := got[id]
		if assert.True(t, ok, "%s has no opening", id) {
			assert.True(t, strings.HasPrefix(how, want), "%s: %q does not start with %q", id, how, want)
		}
	}
	for _, id := range []string{"Group escalate-only", "Group bind-only", "Group deployers-elsewhere"} {
		_, ok := got[id]
		assert.False(t, ok, "%s cannot reach the door", id)
	}
}

// TestTiers: declared admins and platform ServiceAccounts are judged apart from tenants;
// system identities are not judged (but the broad groups are).
func TestTiers(t *testing.T) {
	sc := Scope{Admins: []rbacv1.Subject{group("platform-team"), group("system:serviceaccounts:flux-system")},
		Platform: func(ns string) bool { return ns == "litellm" }}
	cases := map[Identity]Tier{
		{Kind: "Group", Name: "platform-team"}:                                Admin,
		{Kind: "ServiceAccount", Namespace: "flux-system", Name: "kustomize"}: Admin,
		{Kind: "ServiceAccount", Namespace: "litellm", Name: "proxy"}:         Platform,
		{Kind: "Group", Name: "system:serviceaccounts:litellm"}:               Platform,
		{Kind: "Group", Name: "tenants"}:                                      Tenant,
		{Kind: "ServiceAccount", Namespace: "team-a", Name: "default"}:        Tenant,
	}
	for id, want := range cases {
		assert.Equal(t, want, sc.tier(id), id.String())
	}
	assert.True(t, System(Identity{Kind: "Group", Name: "system:masters"}))
	assert.True(t, System(Identity{Kind: "User", Name: "system:kube-controller-manager"}))
	assert.True(t, System(Identity{Kind: "ServiceAccount", Namespace: "kube-system", Name: "replicaset-controller"}))
	assert.False(t, System(Identity{Kind: "Group", Name: "system:authenticated"}))
	assert.False(t, System(Identity{Kind: "Group", Name: "system:serviceaccounts:team-a"}))
	assert.False(t, System(Identity{Kind: "ServiceAccount", Namespace: "team-a", Name: "default"}))
}

// TestTenantOwn: a TenantOwn door's request in a tenant namespace granted by that
// namespace's RoleBinding is not an opening; in a platform namespace, or granted
// cluster-wide, it is. An escalation to a request the identity holds is not another.
func TestTenantOwn(t *testing.T) {
	door := []Door{{ID: "ungated", TenantOwn: true, Actions: []Action{
		{Verb: "create", Resource: "pods", Namespace: "team-a"}, {Verb: "create", Resource: "pods", Namespace: "monitoring"}}}}
	crs := []*rbacv1.ClusterRole{crole("pods", nil, nil, rule(l("create"), l(""), l("pods")))}
	a := New(nil, crs, []*rbacv1.RoleBinding{
		rb("team-a", "own", clusterRoleRef("pods"), group("team-a-devs"), sa("team-a", "ci")),
		rb("monitoring", "foreign", clusterRoleRef("pods"), group("team-a-devs")),
	}, []*rbacv1.ClusterRoleBinding{crb("everywhere", "pods", usr("alice"))})
	sc := Scope{Namespaces: []string{"monitoring", "team-a"}, Platform: func(ns string) bool { return ns == "monitoring" }}
	got := map[string][]string{}
	for _, o := range a.Openings(sc, door) {
		k := o.Identity.String() + " " + o.Path.Binding.String()
		if o.Escalation != "" {
			k += " by escalation"
		}
		for _, act := range o.Actions {
			got[k] = append(got[k], act.Namespace)
		}
	}
	assert.Equal(t, map[string][]string{
		"Group team-a-devs RoleBinding monitoring/foreign": {"monitoring"},
		"User alice ClusterRoleBinding everywhere":         {"team-a", "monitoring"},
	}, got)
}
