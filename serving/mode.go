package serving

import (
	"errors"
	"fmt"
)

// Metrics authentication with --insecure-serving.
const (
	MetricsAuthNone       = "none"
	MetricsAuthKubernetes = "kubernetes"
)

// Mode is how the daemon serves, as its flags choose it: HTTPS with delegated
// authentication (the default), or plain HTTP (--insecure-serving) with no token check or
// with --metrics-auth kubernetes.
type Mode struct {
	// Insecure is --insecure-serving.
	Insecure bool
	// MetricsAuth is --metrics-auth: MetricsAuthNone (or "") or MetricsAuthKubernetes.
	MetricsAuth string
	// CertFile and KeyFile are --tls-cert-file and --tls-private-key-file.
	CertFile, KeyFile string
	// Limits are the --http-* flags.
	Limits Limits
}

// Validate refuses the combinations that do not mean one thing. The TLS flags with
// --insecure-serving used to serve HTTPS without any token check (and log https: true):
// whoever reached the port read /metrics and /evidence behind a padlock. Each error
// names its flags.
func (m Mode) Validate() error {
	var errs []error
	switch m.MetricsAuth {
	case "", MetricsAuthNone, MetricsAuthKubernetes:
	default:
		errs = append(errs, fmt.Errorf("--metrics-auth: %q, want %s or %s", m.MetricsAuth, MetricsAuthNone, MetricsAuthKubernetes))
	}
	if m.MetricsAuth == MetricsAuthKubernetes && !m.Insecure {
		errs = append(errs, errors.New("--metrics-auth goes with --insecure-serving: HTTPS serving (the default) always authenticates and authorizes"))
	}
	if m.Insecure && (m.CertFile != "" || m.KeyFile != "") {
		errs = append(errs, errors.New("--insecure-serving serves plain HTTP with no authentication and cannot take --tls-cert-file or --tls-private-key-file: drop --insecure-serving to serve HTTPS with authentication"))
	}
	if !m.Insecure && (m.CertFile == "") != (m.KeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	l := m.Limits
	for _, v := range []struct {
		flag  string
		value int64
	}{
		{"--http-read-header-timeout", int64(l.ReadHeaderTimeout)}, {"--http-idle-timeout", int64(l.IdleTimeout)},
		{"--http-max-header-bytes", int64(l.MaxHeaderBytes)}, {"--http-max-connections", int64(l.MaxConnections)},
	} {
		if v.value < 0 {
			errs = append(errs, fmt.Errorf("%s: negative (0 takes the default)", v.flag))
		}
	}
	return errors.Join(errs...)
}
