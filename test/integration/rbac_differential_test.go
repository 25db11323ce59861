package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/rules/rbac"
	"github.com/llm-platform/enforcement-auditor/rules/rbac/rbactest"
)

// TestRBACDifferential applies a generated RBAC set of more than 200 bindings (wildcard
// verbs, groups and resources, resourceNames, subresources and "*/subresource",
// non-resource URLs, RoleBindings to Roles and ClusterRoles, ServiceAccount subjects with
// and without a namespace, users spelling a ServiceAccount, broad groups, aggregated
// ClusterRoles) to the API server, reads every Role, ClusterRole and binding back (the
// server's bootstrap policy included), and asks, for every identity the offline authorizer
// judges and every request of the set, both the offline authorizer and a
// SubjectAccessReview: the answers must be identical.
//
// No controller manager runs, so the aggregated ClusterRoles are created with the rules
// the clusterrole-aggregation controller would give them (rbac.AggregatedRules); the
// offline side resolves aggregation itself from what it reads back.
func TestRBACDifferential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	set := rbactest.Generate(210)
	require.GreaterOrEqual(t, set.Bindings(), 200)

	for _, ns := range set.Namespaces {
		_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			require.NoError(t, err)
		}
	}
	t.Cleanup(func() {
		bg := context.Background()
		for _, cr := range set.ClusterRoles {
			_ = client.RbacV1().ClusterRoles().Delete(bg, cr.Name, metav1.DeleteOptions{})
		}
		for _, b := range set.ClusterRoleBindings {
			_ = client.RbacV1().ClusterRoleBindings().Delete(bg, b.Name, metav1.DeleteOptions{})
		}
		for _, r := range set.Roles {
			_ = client.RbacV1().Roles(r.Namespace).Delete(bg, r.Name, metav1.DeleteOptions{})
		}
		for _, b := range set.RoleBindings {
			_ = client.RbacV1().RoleBindings(b.Namespace).Delete(bg, b.Name, metav1.DeleteOptions{})
		}
	})
	for _, cr := range set.ClusterRoles {
		cr = cr.DeepCopy()
		if cr.AggregationRule != nil {
			cr.Rules = rbac.AggregatedRules(set.ClusterRoles, cr.Name)
			require.NotEmpty(t, cr.Rules, "aggregated ClusterRole %s selects nothing", cr.Name)
		}
		_, err := client.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{})
		require.NoError(t, err, cr.Name)
	}
	for _, r := range set.Roles {
		_, err := client.RbacV1().Roles(r.Namespace).Create(ctx, r, metav1.CreateOptions{})
		require.NoError(t, err, r.Name)
	}
	for _, b := range set.ClusterRoleBindings {
		_, err := client.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{})
		require.NoError(t, err, b.Name)
	}
	for _, b := range set.RoleBindings {
		_, err := client.RbacV1().RoleBindings(b.Namespace).Create(ctx, b, metav1.CreateOptions{})
		require.NoError(t, err, b.Namespace+"/"+b.Name)
	}

	// What the server holds, bootstrap policy included.
	roles, err := client.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	crs, err := client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	rbs, err := client.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	crbs, err := client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rbs.Items)+len(crbs.Items), 200)
	a := rbac.New(ptrs(roles.Items), ptrs(crs.Items), ptrs(rbs.Items), ptrs(crbs.Items))
	identities := a.Identities(rbac.Scope{Namespaces: set.Namespaces})
	var requests []rbac.Action
	for _, r := range set.Requests() {
		requests = append(requests, rbac.Action(r))
	}
	t.Logf("%d bindings read back, %d identities x %d requests", len(rbs.Items)+len(crbs.Items), len(identities), len(requests))

	// The admin client (system:masters) may create SubjectAccessReviews; lift the client
	// rate limit for the many reviews.
	cfg := rest.CopyConfig(restConfig)
	cfg.QPS, cfg.Burst = 2000, 2000
	sarClient := kubernetes.NewForConfigOrDie(cfg)

	type pair struct {
		id  rbac.Identity
		act rbac.Action
	}
	work := make(chan pair)
	var mu sync.Mutex
	var mismatches []string
	allowed, asked := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				offline := a.For(p.id).Allows(p.act)
				u := p.id.UserInfo()
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User: u.GetName(), Groups: u.GetGroups(),
					ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: p.act.Verb, Group: p.act.Group, Resource: p.act.Resource,
						Subresource: p.act.Subresource, Namespace: p.act.Namespace, Name: p.act.Name},
				}}
				got, err := sarClient.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
				mu.Lock()
				asked++
				switch {
				case err != nil:
					mismatches = append(mismatches, fmt.Sprintf("%s %s: review failed: %v", p.id, p.act, err))
				case got.Status.Allowed != offline:
					mismatches = append(mismatches, fmt.Sprintf("%s %s: offline %v, SubjectAccessReview %v (%s)", p.id, p.act, offline, got.Status.Allowed, got.Status.Reason))
				case offline:
					allowed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range identities {
		for _, act := range requests {
			work <- pair{id, act}
		}
	}
	close(work)
	wg.Wait()
	t.Logf("%d reviews, %d allowed", asked, allowed)
	assert.Greater(t, allowed, 200, "too few allowed pairs for the comparison to mean much")
	assert.Greater(t, asked-allowed, 200, "too few denied pairs for the comparison to mean much")
	if len(mismatches) > 20 {
		mismatches = append(mismatches[:20], fmt.Sprintf("... and %d more", len(mismatches)-20))
	}
	assert.Empty(t, mismatches)
}

func ptrs[T any](in []T) []*T {
	out := make([]*T, len(in))
	for i := range in {
		out[i] = &in[i]
	}
	return out
}
