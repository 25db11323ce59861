package deploy

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// grant is one (namespace, group, resource) with read verbs; namespace "" is cluster-wide.
type grant struct{ namespace, group, resource string }

// readGrants collects, from a rendered variant, every resource the auditor's account may
// get, list and watch, and the resource names a grant is limited to.
func readGrants(t *testing.T, r *rendered) map[grant][]string {
	t.Helper()
	out := map[grant][]string{}
	add := func(ns string, prs []rbacv1.PolicyRule) {
		for _, rule := range prs {
			if !slices.Contains(rule.Verbs, "list") {
				continue
			}
			for _, v := range readVerbs {
				require.Contains(t, rule.Verbs, v, "a readable resource needs get, list and watch (informers)")
			}
			for _, g := range rule.APIGroups {
				for _, res := range rule.Resources {
					k := grant{ns, g, res}
					_, dup := out[k]
					require.False(t, dup, "%v granted twice", k)
					out[k] = rule.ResourceNames
				}
			}
		}
	}
	for _, o := range r.objects {
		switch x := o.(type) {
		case *rbacv1.ClusterRole:
			if x.Name == auditorName { // the base's read-only role; components add their own
				add("", x.Rules)
			}
		case *rbacv1.Role:
			if x.Name == "enforcement-auditor-kyverno-health" {
				add(x.Namespace, x.Rules)
			}
		}
	}
	return out
}

// TestRBACMatchesWatchedResources: the base with the kyverno-health component grants
// get/list/watch on exactly the resources the auditor watches (auditor.KnownResources
// and OwnerResources), cluster-wide, except Kyverno's health Lease, granted by name in
// Kyverno's namespace (RBAC authorizes
// list/watch by resourceNames when the request's field selector names the object, which
// is how auditor/live watches it). Adding a resource without its grant fails here, and so
// does a grant nothing reads.
func TestRBACMatchesWatchedResources(t *testing.T) {
	got := readGrants(t, decodeVariant(t, render(t, "deploy/examples/kyverno-health")))

	want := map[grant][]string{}
	for _, list := range [][]auditor.ResourceInfo{auditor.KnownResources, auditor.OwnerResources} {
		for _, ri := range list {
			if ri.ID == auditor.ResourceLeases {
				want[grant{auditor.DefaultConfig().SR2.KyvernoNamespace, ri.Group, ri.Resource}] = []string{"kyverno-health"}
				continue
			}
			want[grant{"", ri.Group, ri.Resource}] = nil
		}
	}
	assert.Equal(t, describe(want), describe(got))

	// Every input a rule declares is readable.
	readable := map[string]bool{}
	for g := range got {
		id := g.resource
		if g.group != "" {
			id += "." + g.group
		}
		readable[id] = true
	}
	for _, m := range rules.Catalogue() {
		for _, in := range m.Inputs {
			assert.True(t, readable[in], "rule %s reads %s, which the ClusterRole does not grant", m.ID, in)
		}
	}
}

func describe(m map[grant][]string) []string {
	var out []string
	for g, names := range m {
		where := "cluster"
		if g.namespace != "" {
			where = "namespace " + g.namespace
		}
		out = append(out, fmt.Sprintf("%s/%s in %s names=%v", g.group, g.resource, where, names))
	}
	sort.Strings(out)
	return out
}
