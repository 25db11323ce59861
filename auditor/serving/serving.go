// Package serving secures the daemon's HTTP endpoints the way Kubernetes components and
// controller-runtime's metrics server do: HTTPS, and delegated authentication and
// authorization. A bearer token is authenticated with a TokenReview and the request is
// authorized with a SubjectAccessReview for the verb on the non-resource URL (`get`
// `/metrics`, `get` `/evidence`), both through k8s.io/apiserver's delegating
// authenticator and authorizer and their caches (controller-runtime's
// metrics/filters.WithAuthenticationAndAuthorization): tokens are cached hashed, denials
// shorter than grants, and the API server is retried with backoff.
package serving

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
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
	filter, err := filters.WithAuthenticationAndAuthorization(o.Config, httpClient)
	if err != nil {
		return nil, nil, fmt.Errorf("serving: delegated authentication: %w", err)
	}
	protected, err := filter(logr.FromSlogHandler(log.Handler()), next)
	if err != nil {
		return nil, nil, fmt.Errorf("serving: delegated authentication: %w", err)
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
