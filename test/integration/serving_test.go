package integration

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestSecureServingByDefault: the daemon's default serving chain on the real API server,
// with the ClusterRoles deploy/base ships. Plain HTTP is refused; over TLS an
// unauthenticated scrape is refused, the scraper's token (metrics-reader) reads /metrics
// but not /evidence, and a token with evidence-reader reads /evidence. The kubelet's
// /healthz needs no token.
func TestSecureServingByDefault(t *testing.T) {
	bin := toolsBin(t)
	ctx := context.Background()
	ensureNamespace(t, "enforcement-auditor")
	ensureNamespace(t, "it-serving")
	var roles []*unstructured.Unstructured
	for _, o := range render(t, bin, "deploy/base") {
		if o.GetKind() == "ClusterRole" && (o.GetName() == "enforcement-auditor-metrics-reader" || o.GetName() == "enforcement-auditor-evidence-reader") {
			roles = append(roles, o)
		}
	}
	require.Len(t, roles, 2, "deploy/base ships the metrics-reader and evidence-reader roles")
	apply(t, roles, false)
	bind := func(sa, role string) string {
		_, err := client.CoreV1().ServiceAccounts("it-serving").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
		require.NoError(t, err)
		if role != "" {
			_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "it-serving-" + sa},
				RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
				Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "it-serving", Name: sa}},
			}, metav1.CreateOptions{})
			require.NoError(t, err)
		}
		tr, err := client.CoreV1().ServiceAccounts("it-serving").CreateToken(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
		require.NoError(t, err)
		return tr.Status.Token
	}
	scraper := bind("prometheus", "enforcement-auditor-metrics-reader")
	collector := bind("evidence-collector", "enforcement-auditor-evidence-reader")

	a := startAuditor(t, "--insecure-serving=false")
	tlsClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the self-signed certificate
	get := func(c *http.Client, url, token string) int {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.TLS == nil && c == tlsClient {
			t.Errorf("%s answered without TLS", url)
		}
		return resp.StatusCode
	}
	base := "https://" + a.addr
	// Plain HTTP gets no metrics: Go's TLS server answers 400 to an HTTP request.
	assert.NotEqual(t, http.StatusOK, get(&http.Client{Timeout: 5 * time.Second}, "http://"+a.addr+"/metrics", scraper))
	assert.Equal(t, http.StatusUnauthorized, get(tlsClient, base+"/metrics", ""), "no token")
	assert.Equal(t, http.StatusUnauthorized, get(tlsClient, base+"/metrics", "not-a-token"), "a token the API server does not know")
	assert.Equal(t, http.StatusOK, get(tlsClient, base+"/metrics", scraper), "the scraper's token over TLS")
	assert.Equal(t, http.StatusForbidden, get(tlsClient, base+"/evidence", scraper), "/evidence is not the scraper's")
	assert.Equal(t, http.StatusForbidden, get(tlsClient, base+"/metrics", collector), "/metrics is not the collector's")
	assert.Equal(t, http.StatusOK, get(tlsClient, base+"/evidence", collector), "the evidence permission")
	assert.Equal(t, http.StatusOK, get(tlsClient, base+"/healthz", ""), "the kubelet has no token")
	a.stop(t, 15*time.Second)
}
