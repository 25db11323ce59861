package integration

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func serviceAccountToken(t *testing.T, ns, name string) string {
	t.Helper()
	ctx := context.Background()
	_, err := client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	tr, err := client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	return tr.Status.Token
}

func ptr[T any](v T) *T { return &v }

func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAuthentication: with --metrics-auth kubernetes, /metrics needs a token whose
// user may `get` the /metrics non-resource URL (TokenReview + SubjectAccessReview).
func TestMetricsAuthentication(t *testing.T) {
	ctx := context.Background()
	createNamespace(t, "it-auth", nil)
	allowed := serviceAccountToken(t, "it-auth", "prometheus")
	denied := serviceAccountToken(t, "it-auth", "nosy")
	_, err := client.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "it-metrics-reader"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "it-metrics-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "it-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "it-auth", Name: "prometheus"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	a := startAuditor(t, "--metrics-auth", "kubernetes")
	url := "http://" + a.addr + "/metrics"

	code, _ := getWithToken(t, url, "")
	require.Equal(t, http.StatusUnauthorized, code, "no token")
	code, _ = getWithToken(t, url, "not-a-token")
	require.Equal(t, http.StatusUnauthorized, code, "a token the apiserver does not know")
	code, _ = getWithToken(t, url, denied)
	require.Equal(t, http.StatusForbidden, code, "an authenticated user without get on /metrics")
	code, body := getWithToken(t, url, allowed)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "enforcement_auditor_build_info")

	// Probes stay open: the kubelet has no token.
	code, _ = getWithToken(t, "http://"+a.addr+"/healthz", "")
	require.Equal(t, http.StatusOK, code)
	a.stop(t, 15*time.Second)
}
