package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
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

// Handler returns the HTTP handler: /metrics, /healthz, /readyz and extras.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	protect := func(h http.Handler) http.Handler {
		if d.auth != nil {
			return d.auth.Wrap(h)
		}
		return h
	}
	mux.Handle("/metrics", protect(promexp.Handler(promexp.NewRegistry(d.Collector))))
	// /healthz depends on the process alone: an apiserver outage must not restart auditors.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !d.ready.Load():
			http.Error(w, "not ready: caches not synced or no evaluation completed yet", http.StatusServiceUnavailable)
		case d.Source.Stale():
			http.Error(w, "stale: the API server is unreachable; serving the last known findings", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ok\n"))
		}
	})
	mux.Handle(evidence.Path, protect(evidence.Handler(d.Evidence)))
	for p, h := range d.opts.ExtraHandlers {
		mux.Handle(p, protect(h))
	}
	return mux
}

// serve serves the handler on ln (HTTPS when secured or given a certificate) in g until
// ctx ends, then shuts the server down within ShutdownTimeout.
func (d *Daemon) serve(ctx context.Context, g *errgroup.Group, ln net.Listener) error {
	o := d.opts
	log := o.Logger
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second}
	if d.secure != nil {
		var err error
		if srv.Handler, srv.TLSConfig, err = d.secure(ctx, srv.Handler); err != nil {
			return err
		}
	}
	g.Go(func() error {
		log.Info("serving", "address", ln.Addr().String(), "paths", "/metrics /healthz /readyz /evidence", "https", srv.TLSConfig != nil || o.TLSCertFile != "")
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else if o.TLSCertFile != "" && o.TLSKeyFile != "" {
			err = srv.ServeTLS(ln, o.TLSCertFile, o.TLSKeyFile)
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return nil
}
