// Package serving secures the daemon's HTTP endpoints the way Kubernetes components and
// controller-runtime's metrics server do: HTTPS, and delegated authentication and
// authorization. A bearer token is authenticated with a TokenReview and the request is
// authorized with a SubjectAccessReview for the verb on the non-resource URL (`get`
// `/metrics`, `get` `/evidence`), both through k8s.io/apiserver's delegating
// authenticator and authorizer and their caches, configured as controller-runtime's
// metrics/filters.WithAuthenticationAndAuthorization configures them: tokens are cached
// hashed for a minute, grants for five minutes and denials for thirty seconds, and the
// API server is retried with backoff. Unlike that filter, a token the API server does
// not accept is a 401, not a 500.
package serving

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// Options configure Secure.
type Options struct {
	// Config reaches the API server for TokenReviews and SubjectAccessReviews (the
	// auditor's ServiceAccount needs create on both: system:auth-delegator's rules).
	Config *rest.Config
	// CertFile and KeyFile are the serving certificate, reloaded when they change (a
	// cert-manager Certificate's Secret). Empty: a self-signed certificate generated in
	// memory at start; scrapers then skip verification or pin nothing, but the token
	// still never travels in clear.
	CertFile, KeyFile string
	// Protected are the paths that need an authorized token. Every other path (the
	// kubelet's /healthz and /readyz) stays open.
	Protected []string
	Logger    *slog.Logger
}

// Secure wraps next so the Protected paths answer only to a token allowed to use them,
// and returns the TLS configuration to serve it with (http.Server.TLSConfig, then
// ServeTLS(ln, "", "")). A certificate watcher runs until ctx ends.
func Secure(ctx context.Context, o Options, next http.Handler) (http.Handler, *tls.Config, error) {
	if o.Config == nil {
		return nil, nil, errors.New("serving: no API server configuration for delegated authentication")
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, nil, errors.New("serving: the certificate and its key go together")
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	httpClient, err := rest.HTTPClientFor(o.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("serving: API server client: %w", err)
	}
	protected, err := delegated(o.Config, httpClient, next, log)
	if err != nil {
		return nil, nil, err
	}
	paths := map[string]bool{}
	for _, p := range o.Protected {
		paths[p] = true
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if paths[r.URL.Path] {
			protected.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})

	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if o.CertFile != "" {
		w, err := certwatcher.New(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("serving: certificate: %w", err)
		}
		go func() {
			if err := w.Start(ctx); err != nil {
				log.Error("certificate watcher stopped", "error", err)
			}
		}()
		cfg.GetCertificate = w.GetCertificate
		return h, cfg, nil
	}
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("enforcement-auditor", nil, []string{"localhost"})
	if err != nil {
		return nil, nil, fmt.Errorf("serving: self-signed certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("serving: self-signed certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	log.Info("serving HTTPS with a self-signed certificate generated at start (set --tls-cert-file to use your own)")
	return h, cfg, nil
}

// delegated wraps next with the delegating authenticator and authorizer.
func delegated(cfg *rest.Config, httpClient *http.Client, next http.Handler, log *slog.Logger) (http.Handler, error) {
	authnClient, err := authenticationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("serving: TokenReview client: %w", err)
	}
	authzClient, err := authorizationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("serving: SubjectAccessReview client: %w", err)
	}
	// k8s.io/apiserver's DefaultAuthWebhookRetryBackoff, as controller-runtime copies it.
	backoff := &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                &apiserver.AnonymousAuthConfig{Enabled: false},
		CacheTTL:                 time.Minute,
		TokenAccessReviewClient:  authnClient,
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      backoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("serving: delegating authenticator: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: authzClient,
		AllowCacheTTL:             5 * time.Minute,
		DenyCacheTTL:              30 * time.Second,
		WebhookRetryBackoff:       backoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("serving: delegating authorizer: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok, err := authn.AuthenticateRequest(r)
		if err != nil || !ok {
			// Never log the token; the reason says whether it was refused or unverifiable.
			log.Debug("unauthenticated request", "path", r.URL.Path, "reason", fmt.Sprint(err))
			w.Header().Set("WWW-Authenticate", `Bearer realm="enforcement-auditor"`)
			http.Error(w, "Unauthorized: a bearer token the API server accepts is required", http.StatusUnauthorized)
			return
		}
		attrs := authorizer.AttributesRecord{User: res.User, Verb: strings.ToLower(r.Method), Path: r.URL.Path}
		decision, reason, err := authz.Authorize(r.Context(), attrs)
		if err != nil {
			log.Warn("authorization failed", "path", r.URL.Path, "user", res.User.GetName(), "error", err)
			http.Error(w, "authorization could not be checked", http.StatusServiceUnavailable)
			return
		}
		if decision != authorizer.DecisionAllow {
			log.Debug("forbidden", "path", r.URL.Path, "user", res.User.GetName(), "reason", reason)
			http.Error(w, fmt.Sprintf("Forbidden: %s may not %s %s", res.User.GetName(), attrs.Verb, r.URL.Path), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	}), nil
}
