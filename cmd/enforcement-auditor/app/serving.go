package app

import (
	"context"
	"crypto/tls"
	"net/http"

	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// secureFunc wraps the HTTP handler (authentication, authorization) and returns the TLS
// configuration to serve it with.
type secureFunc func(ctx context.Context, h http.Handler) (http.Handler, *tls.Config, error)

// secureServing is the daemon's default serving chain: HTTPS (--tls-cert-file, or a
// self-signed certificate) and delegated authentication and authorization of /metrics
// and /evidence, each its own non-resource URL permission.
func secureServing(o Options) secureFunc {
	return func(ctx context.Context, h http.Handler) (http.Handler, *tls.Config, error) {
		return serving.Secure(ctx, serving.Options{
			Config:    o.RESTConfig,
			CertFile:  o.TLSCertFile,
			KeyFile:   o.TLSKeyFile,
			Protected: []string{"/metrics", evidence.Path},
			Logger:    o.Logger.With("component", "serving"),
		}, h)
	}
}
