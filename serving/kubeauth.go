package serving

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubeAuth protects HTTP paths the way kube-rbac-proxy does: the bearer token is
// authenticated with a TokenReview, then a SubjectAccessReview asks whether that user may
// `get` the non-resource URL (e.g. /metrics). Decisions are cached briefly so a scrape
// every 15s costs the apiserver little.
type KubeAuth struct {
	Client kubernetes.Interface
	// TTL of cached decisions (default 1m).
	TTL time.Duration
	// Audiences for the TokenReview (optional).
	Audiences []string

	mu    sync.Mutex
	cache map[string]authDecision
}

type authDecision struct {
	status  int
	expires time.Time
}

const maxAuthCache = 1024

// Wrap protects next.
func (a *KubeAuth) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="enforcement-auditor"`)
			http.Error(w, "Unauthorized: a bearer token is required", http.StatusUnauthorized)
			return
		}
		status := a.decide(r.Context(), strings.TrimSpace(token), r.URL.Path)
		if status != http.StatusOK {
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *KubeAuth) decide(ctx context.Context, token, path string) int {
	key := path + "\x00" + token
	now := time.Now()
	a.mu.Lock()
	if d, ok := a.cache[key]; ok && now.Before(d.expires) {
		a.mu.Unlock()
		return d.status
	}
	a.mu.Unlock()

	status := a.review(ctx, token, path)
	if status == http.StatusOK || status == http.StatusUnauthorized || status == http.StatusForbidden {
		ttl := a.TTL
		if ttl <= 0 {
			ttl = time.Minute
		}
		a.mu.Lock()
		if a.cache == nil || len(a.cache) >= maxAuthCache {
			a.cache = map[string]authDecision{}
		}
		a.cache[key] = authDecision{status: status, expires: now.Add(ttl)}
		a.mu.Unlock()
	}
	return status
}

func (a *KubeAuth) review(ctx context.Context, token, path string) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tr, err := a.Client.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: a.Audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusServiceUnavailable
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized
	}
	u := tr.Status.User
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar, err := a.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: "get"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return http.StatusServiceUnavailable
	}
	if !sar.Status.Allowed {
		return http.StatusForbidden
	}
	return http.StatusOK
}
