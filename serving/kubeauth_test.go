package serving

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestKubeAuth: the token is reviewed, then get on the path; decisions are cached per
// token and path; an API server that does not answer is a 503, never a pass.
func TestKubeAuth(t *testing.T) {
	client := fake.NewClientset()
	var reviews atomic.Int32
	down := false
	client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		reviews.Add(1)
		if down {
			return true, nil, errors.New("connection refused")
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		tr.Status = authenticationv1.TokenReviewStatus{Authenticated: tr.Spec.Token == "good" || tr.Spec.Token == "reader",
			User: authenticationv1.UserInfo{Username: tr.Spec.Token}}
		return true, tr, nil
	})
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		attrs := sar.Spec.NonResourceAttributes
		sar.Status.Allowed = sar.Spec.User == "good" && attrs != nil && attrs.Path == "/metrics" && attrs.Verb == "get"
		return true, sar, nil
	})
	h := (&KubeAuth{Client: client}).Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	get := func(path, token string) int {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	assert.Equal(t, http.StatusUnauthorized, get("/metrics", ""), "no token")
	assert.Equal(t, http.StatusUnauthorized, get("/metrics", "forged"), "a token the API server does not accept")
	assert.Equal(t, http.StatusForbidden, get("/metrics", "reader"), "authenticated, not allowed to get the path")
	assert.Equal(t, http.StatusForbidden, get("/evidence", "good"), "allowed on /metrics only")
	assert.Equal(t, http.StatusOK, get("/metrics", "good"))
	before := reviews.Load()
	assert.Equal(t, http.StatusOK, get("/metrics", "good"))
	assert.Equal(t, before, reviews.Load(), "the decision is cached")

	down = true
	assert.Equal(t, http.StatusServiceUnavailable, get("/metrics", "other"), "the API server does not answer")
	assert.Equal(t, http.StatusServiceUnavailable, get("/metrics", "other"), "and that is not cached")
	assert.Equal(t, before+2, reviews.Load())
}
