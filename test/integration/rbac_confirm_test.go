package integration

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestConfirmRBAC: the daemon with --confirm-rbac reads a RoleBinding that lets a tenant
// group create PolicyExceptions in the Kyverno namespace, reports gpu-gate-tamper on it,
// and confirms the request with SubjectAccessReviews to the API server (which allows it:
// the log counts answers asked and none not allowed).
func TestConfirmRBAC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "kyverno"
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "confirm-exc"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{"kyverno.io"}, Resources: []string{"policyexceptions"}}}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "confirm-exc"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "confirm-tenants"}}}
	_, err = client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().RoleBindings(ns).Delete(context.Background(), rb.Name, metav1.DeleteOptions{})
		_ = client.RbacV1().Roles(ns).Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})

	p := startAuditor(t, "--confirm-rbac", "--probe-interval", "1s")
	defer p.stop(t, 15*time.Second)
	p.waitMetric(t, time.Minute, `enforcement_auditor_finding\{[^}]*name="confirm-exc"[^}]*rule="gpu-gate-tamper"[^}]*\} 1`)
	done := regexp.MustCompile(`"msg":"access reviews done"[^\n]*"asked":[1-9][0-9]*[^\n]*"not allowed":0`)
	require.True(t, assertEventually(time.Minute, func() bool { return done.MatchString(p.Logs()) }),
		"no access review run that asked and was allowed:\n%s", grepLines(p.Logs(), "access"))
}
