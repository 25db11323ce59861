package serving

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/client-go/rest"
)

// fakeAPIServer answers TokenReviews (token "scraper" and "collector" are users, any
// other is unknown) and SubjectAccessReviews (scraper may get /metrics, collector
// /evidence), counting the reviews so the caches can be seen.
func fakeAPIServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var reviews atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/authentication.k8s.io/v1/tokenreviews":
			reviews.Add(1)
			var tr authenticationv1.TokenReview
			require.NoError(t, json.NewDecoder(r.Body).Decode(&tr))
			if tr.Spec.Token == "scraper" || tr.Spec.Token == "collector" {
				tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: tr.Spec.Token}}
			}
			_ = json.NewEncoder(w).Encode(tr)
		case "/apis/authorization.k8s.io/v1/subjectaccessreviews":
			var sar authorizationv1.SubjectAccessReview
			require.NoError(t, json.NewDecoder(r.Body).Decode(&sar))
			a := sar.Spec.NonResourceAttributes
			sar.Status.Allowed = a != nil && a.Verb == "get" &&
				(sar.Spec.User == "scraper" && a.Path == "/metrics" || sar.Spec.User == "collector" && a.Path == "/evidence")
			_ = json.NewEncoder(w).Encode(sar)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &reviews
}

func TestSecure(t *testing.T) {
	api, reviews := fakeAPIServer(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, cfg, err := Secure(ctx, Options{Config: &rest.Config{Host: api.URL}, Protected: []string{"/metrics", "/evidence"},
		Logger: slog.New(slog.DiscardHandler)}, ok)
	require.NoError(t, err)
	require.NotNil(t, cfg)
	require.Len(t, cfg.Certificates, 1, "a self-signed certificate without --tls-cert-file")

	srv := httptest.NewUnstartedServer(h)
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path, token string) int {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NotNil(t, resp.TLS, "served over TLS")
		return resp.StatusCode
	}
	for name, tc := range map[string]struct {
		path, token string
		want        int
	}{
		"healthz needs no token":         {"/healthz", "", http.StatusOK},
		"metrics without a token":        {"/metrics", "", http.StatusUnauthorized},
		"metrics with an unknown token":  {"/metrics", "stolen", http.StatusUnauthorized},
		"metrics with the scraper":       {"/metrics", "scraper", http.StatusOK},
		"evidence is not the scraper's":  {"/evidence", "scraper", http.StatusForbidden},
		"evidence with the collector":    {"/evidence", "collector", http.StatusOK},
		"metrics is not the collector's": {"/metrics", "collector", http.StatusForbidden},
	} {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, get(tc.path, tc.token)) })
	}
	before := reviews.Load()
	for range 5 {
		assert.Equal(t, http.StatusOK, get("/metrics", "scraper"))
	}
	assert.Equal(t, before, reviews.Load(), "a known token is reviewed once, then cached")
}

func TestSecureRejectsHalfACertificate(t *testing.T) {
	_, _, err := Secure(context.Background(), Options{Config: &rest.Config{Host: "https://127.0.0.1:1"}, CertFile: "tls.crt"}, http.NotFoundHandler())
	assert.Error(t, err)
	_, _, err = Secure(context.Background(), Options{}, http.NotFoundHandler())
	assert.Error(t, err)
}
