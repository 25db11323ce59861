package main

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// secureServing is the daemon's default serving chain: HTTPS (--tls-cert-file, or a
// self-signed certificate) and delegated authentication and authorization of /metrics
// and /evidence, each its own non-resource URL permission.
func secureServing(rc *rest.Config, f *runFlags, log *slog.Logger) func(context.Context, http.Handler) (http.Handler, *tls.Config, error) {
	return func(ctx context.Context, h http.Handler) (http.Handler, *tls.Config, error) {
		return serving.Secure(ctx, serving.Options{
			Config:    rc,
			CertFile:  f.tlsCertFile,
			KeyFile:   f.tlsKeyFile,
			Protected: []string{"/metrics", evidence.Path},
			Logger:    log.With("component", "serving"),
		}, h)
	}
}

// servingMode is the serving flags, for serving.Mode.Validate.
func (f *runFlags) servingMode() serving.Mode {
	return serving.Mode{Insecure: f.insecure, MetricsAuth: f.metricsAuth, CertFile: f.tlsCertFile, KeyFile: f.tlsKeyFile, Limits: f.limits}
}

// registerServingLimits adds the flags of the HTTP server's limits, which hold before
// authentication.
func registerServingLimits(cmd *cobra.Command, l *serving.Limits) {
	fl := cmd.Flags()
	fl.DurationVar(&l.ReadHeaderTimeout, "http-read-header-timeout", serving.DefaultReadHeaderTimeout, "longest a client may take to send a request's headers")
	fl.DurationVar(&l.IdleTimeout, "http-idle-timeout", serving.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	fl.IntVar(&l.MaxHeaderBytes, "http-max-header-bytes", serving.DefaultMaxHeaderBytes, "largest request headers accepted (larger: 431)")
	fl.IntVar(&l.MaxConnections, "http-max-connections", serving.DefaultMaxConnections, "most connections open at once (at the cap, the one idle longest is closed for a new one)")
}
