package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/probe"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// Options configure the daemon: the settings of `enforcement-auditor run`, one field (or
// section) per flag. Zero values take the defaults (defaults.go); Validate names the flag
// of a setting it refuses.
type Options struct {
	Config     auditor.Config
	RESTConfig *rest.Config
	// Client, when set, is the one typed clientset every part shares (informers,
	// probes, metrics auth, the leader's checkpoint); nil: built from RESTConfig.
	Client kubernetes.Interface
	Logger *slog.Logger

	// ListenAddress serves /metrics, /healthz, /readyz, /evidence.
	ListenAddress string
	// Listener, when set, is used instead of ListenAddress (tests).
	Listener net.Listener

	// Debounce and MaxDelay shape evaluation after informer events.
	Debounce time.Duration
	MaxDelay time.Duration
	// Resync forces a full evaluation this often even without events (time-based rules).
	Resync time.Duration
	// DiscoveryInterval polls discovery for CRDs and apiserver liveness.
	DiscoveryInterval time.Duration
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// GCPercentAfterSync, when positive, is the GOGC set once the caches synced: the
	// initial lists run at the runtime's setting, the steady state at this one.
	GCPercentAfterSync int

	// NetworkProbe tries TCP connections to every Service port in the protected
	// namespaces from PodNamespace, the auditor's own (untrusted) namespace; ProbeTimeout
	// bounds one connection.
	NetworkProbe bool
	PodNamespace string
	ProbeTimeout time.Duration
	// AdmissionProbe dry-runs a GPU pod without a queue name in every Kueue-managed
	// namespace.
	AdmissionProbe bool
	// ConfirmRBAC asks the API server a SubjectAccessReview for each identity and request
	// through which a tamper rule reports a door (at most ConfirmRBACPerMinute a minute,
	// answers reused for ConfirmRBACMaxAge); the rules prefer the answers to their own.
	ConfirmRBAC          bool
	ConfirmRBACPerMinute int
	ConfirmRBACMaxAge    time.Duration
	// Probes are further probes built by the caller (tests: a network prober dialing from
	// another network namespace).
	Probes []probe.Prober
	// ProbeInterval is how often the probes run.
	ProbeInterval time.Duration

	// ExtraHandlers are mounted on the HTTP server, protected as /metrics is.
	ExtraHandlers map[string]http.Handler

	// LeaderElection, when set, elects one replica to emit events, write evidence and
	// probe; the announced findings are checkpointed in a ConfigMap named after the lease.
	LeaderElection *LeaderElection
	// InsecureServing serves plain HTTP; MetricsAuth then says whether /metrics and
	// /evidence need a token (MetricsAuthKubernetes) or not (MetricsAuthNone). Without
	// it: HTTPS, with delegated authentication and authorization (serving.Secure).
	InsecureServing bool
	MetricsAuth     string
	// TLSCertFile and TLSKeyFile, both set, are the serving certificate (otherwise a
	// self-signed one).
	TLSCertFile, TLSKeyFile string
	// ServerLimits bound the HTTP server before authentication (--http-*).
	ServerLimits serving.Limits
	// Evidence configures /evidence and the periodic evidence writer.
	Evidence EvidenceOptions
	// Reports, when set, makes the leader keep policy reports in step with the findings;
	// nil when off.
	Reports *ReportsOptions
}

// Validate checks every setting before anything starts, naming the flag that sets it:
// a daemon that starts with a setting it cannot honour (a negative debounce, an evidence
// directory that is a file) only says so later, in its logs, once per cycle.
func (o *Options) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	positive := func(flag string, d time.Duration) {
		if d <= 0 {
			bad(flag, "%s is not a positive duration", d)
		}
	}
	positive("debounce", o.Debounce)
	positive("max-delay", o.MaxDelay)
	positive("resync", o.Resync)
	positive("discovery-interval", o.DiscoveryInterval)
	positive("shutdown-timeout", o.ShutdownTimeout)
	if o.Debounce > 0 && o.MaxDelay > 0 && o.MaxDelay < o.Debounce {
		bad("max-delay", "%s is shorter than --debounce %s", o.MaxDelay, o.Debounce)
	}
	if o.NetworkProbe || o.AdmissionProbe || o.ConfirmRBAC || len(o.Probes) > 0 {
		positive("probe-interval", o.ProbeInterval)
	}
	if o.ConfirmRBAC {
		if o.ConfirmRBACPerMinute <= 0 {
			bad("confirm-rbac-per-minute", "%d is not positive", o.ConfirmRBACPerMinute)
		}
		positive("confirm-rbac-max-age", o.ConfirmRBACMaxAge)
	}
	if o.NetworkProbe {
		if err := probe.ValidateProbeNamespace(o.PodNamespace, o.Config); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, o.validateServing()...)
	if le := o.LeaderElection; le != nil {
		if le.Namespace == "" {
			bad("leader-election-namespace", "leader election needs a namespace (or $POD_NAMESPACE)")
		}
		positive("leader-election-lease-duration", le.LeaseDuration)
		positive("leader-election-renew-deadline", le.RenewDeadline)
		positive("leader-election-retry-period", le.RetryPeriod)
		if le.RenewDeadline >= le.LeaseDuration && le.LeaseDuration > 0 {
			bad("leader-election-renew-deadline", "%s must be shorter than --leader-election-lease-duration %s", le.RenewDeadline, le.LeaseDuration)
		}
		if le.RetryPeriod >= le.RenewDeadline && le.RenewDeadline > 0 {
			bad("leader-election-retry-period", "%s must be shorter than --leader-election-renew-deadline %s", le.RetryPeriod, le.RenewDeadline)
		}
	}
	if r := o.Reports; r != nil {
		if r.QPS <= 0 {
			bad("reports-qps", "%v: must be positive", r.QPS)
		}
		if r.Burst < 1 {
			bad("reports-burst", "%d: must be at least 1", r.Burst)
		}
		if r.Resync < 0 {
			bad("reports-resync", "%s is not a positive duration", r.Resync)
		}
	}
	if ev := o.Evidence; ev.Dir != "" {
		positive("evidence-interval", ev.Interval)
		if ev.Keep < 1 {
			bad("evidence-keep", "%d: keep at least one document", ev.Keep)
		}
		if err := checkWritableDir(ev.Dir); err != nil {
			bad("evidence-dir", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// validateServing refuses the serving settings that do not mean one thing: serving.Mode
// holds the rules (--insecure-serving with a TLS flag would serve HTTPS with no token
// check).
func (o *Options) validateServing() []error {
	err := serving.Mode{Insecure: o.InsecureServing, MetricsAuth: o.MetricsAuth,
		CertFile: o.TLSCertFile, KeyFile: o.TLSKeyFile, Limits: o.ServerLimits}.Validate()
	if err == nil {
		return nil
	}
	return []error{err}
}

// checkWritableDir accepts an existing directory, or a path whose parent is one (the
// writer creates it).
func checkWritableDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if pst, perr := os.Stat(parent); perr != nil || !pst.IsDir() {
		return fmt.Errorf("%s does not exist and %s is not a directory to create it in", dir, parent)
	}
	return nil
}
