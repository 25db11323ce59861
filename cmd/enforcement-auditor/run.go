package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/cmd/enforcement-auditor/app"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/serving"
)

type runFlags struct {
	listen            string
	debounce          time.Duration
	maxDelay          time.Duration
	resync            time.Duration
	discoveryInterval time.Duration
	shutdownTimeout   time.Duration

	leaderElect bool
	leNamespace string
	leID        string
	leLease     time.Duration
	leRenew     time.Duration
	leRetry     time.Duration
	metricsAuth string
	insecure    bool
	tlsCertFile string
	tlsKeyFile  string
	limits      serving.Limits

	probeNetwork   bool
	probeAdmission bool
	probeInterval  time.Duration
	probeTimeout   time.Duration
	podNamespace   string

	evidenceDir      string
	evidenceInterval time.Duration
	evidenceKeep     int
	evidenceOSCAL    bool
	signingKey       string

	reports      string
	reportsQPS   float64
	reportsBurst int
	reportsSync  time.Duration
}

func newRunCommand(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the auditor daemon against the cluster",
		Long: `run watches the cluster with informers and re-evaluates every rule shortly after any
change. It serves Prometheus metrics on /metrics, liveness on /healthz (the process only)
and readiness on /readyz (caches synced and one evaluation done). SIGINT or SIGTERM stop it
gracefully.`,
		Example: `  enforcement-auditor run                          # the kubeconfig's cluster, or in-cluster
  enforcement-auditor run --config auditor.yaml --evidence-dir /var/lib/evidence \
    --signing-key /etc/evidence/key.pem --reports openreports --leader-elect`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), g, f)
		},
	}
	f.register(cmd)
	return cmd
}

// register binds the flags of `run` to f, with app's defaults.
func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen-address", app.DefaultListenAddress, "address for /metrics, /healthz and /readyz")
	fl.DurationVar(&f.debounce, "debounce", app.DefaultDebounce, "quiet time after a change before evaluating")
	fl.DurationVar(&f.maxDelay, "max-delay", app.DefaultMaxDelay, "longest a burst of changes can postpone evaluation")
	fl.DurationVar(&f.resync, "resync", app.DefaultResync, "full re-evaluation period without changes (time-based rules)")
	fl.DurationVar(&f.discoveryInterval, "discovery-interval", app.DefaultDiscoveryInterval, "how often to look for CRDs installed or removed")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", app.DefaultShutdownTimeout, "bound on graceful shutdown")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect one replica to emit events, write evidence and probe (others keep caches warm and serve metrics)")
	fl.StringVar(&f.leNamespace, "leader-election-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the leader Lease and the announced-findings checkpoint (default $POD_NAMESPACE)")
	fl.StringVar(&f.leID, "leader-election-id", app.DefaultLeaderElectionID, "name of the leader Lease")
	fl.DurationVar(&f.leLease, "leader-election-lease-duration", app.DefaultLeaseDuration, "how long followers wait before taking over a silent leader's lease")
	fl.DurationVar(&f.leRenew, "leader-election-renew-deadline", app.DefaultRenewDeadline, "how long the leader retries renewing before giving up")
	fl.DurationVar(&f.leRetry, "leader-election-retry-period", app.DefaultRetryPeriod, "interval between lease attempts")
	fl.BoolVar(&f.insecure, "insecure-serving", false, "serve plain HTTP with no authentication: whoever reaches the port reads /metrics and /evidence (default: HTTPS, and a token allowed to get the path)")
	fl.StringVar(&f.metricsAuth, "metrics-auth", app.DefaultMetricsAuth, "with --insecure-serving: none, or kubernetes (TokenReview + SubjectAccessReview for get on the path, without TLS)")
	fl.StringVar(&f.tlsCertFile, "tls-cert-file", "", "serve HTTPS with this certificate (PEM)")
	fl.StringVar(&f.tlsKeyFile, "tls-private-key-file", "", "private key for --tls-cert-file (PEM)")
	fl.DurationVar(&f.limits.ReadHeaderTimeout, "http-read-header-timeout", serving.DefaultReadHeaderTimeout, "longest a client may take to send a request's headers")
	fl.DurationVar(&f.limits.IdleTimeout, "http-idle-timeout", serving.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	fl.IntVar(&f.limits.MaxHeaderBytes, "http-max-header-bytes", serving.DefaultMaxHeaderBytes, "largest request headers accepted (larger: 431)")
	fl.IntVar(&f.limits.MaxConnections, "http-max-connections", serving.DefaultMaxConnections, "most connections open at once (at the cap, the one idle longest is closed for a new one)")
	fl.BoolVar(&f.probeNetwork, "probe-network", false, "actively try TCP connections to every Service port in the protected namespaces (the auditor must run outside the trusted namespaces)")
	fl.BoolVar(&f.probeAdmission, "probe-admission", false, "send a server-side dry-run create of a GPU pod without a queue name to every Kueue-managed namespace (needs create on pods; nothing is persisted)")
	fl.DurationVar(&f.probeInterval, "probe-interval", app.DefaultProbeInterval, "how often the active probes run")
	fl.DurationVar(&f.probeTimeout, "probe-timeout", app.DefaultProbeTimeout, "timeout of one network probe connection")
	fl.StringVar(&f.podNamespace, "pod-namespace", os.Getenv("POD_NAMESPACE"), "the auditor's own namespace (default $POD_NAMESPACE; required by --probe-network)")
	fl.StringVar(&f.evidenceDir, "evidence-dir", "", "write a compliance evidence document to this directory every --evidence-interval (leader only)")
	fl.DurationVar(&f.evidenceInterval, "evidence-interval", app.DefaultEvidenceInterval, "how often to write evidence")
	fl.IntVar(&f.evidenceKeep, "evidence-keep", app.DefaultEvidenceKeep, "how many evidence documents to keep")
	fl.StringVar(&f.signingKey, "signing-key", "", "private key (PEM: ed25519 or ECDSA P-256) to sign evidence attestations")
	fl.BoolVar(&f.evidenceOSCAL, "evidence-oscal", false, "also write OSCAL assessment results beside each evidence attestation")
	fl.StringVar(&f.reports, "reports", reportsOff, "keep policy reports in step with the findings (leader only): openreports (openreports.io/v1alpha1), wgpolicyk8s (wgpolicyk8s.io/v1alpha2) or off; needs the reports component's RBAC")
	fl.Float64Var(&f.reportsQPS, "reports-qps", app.DefaultReportsQPS, "most policy report writes (applies and deletes) per second")
	fl.IntVar(&f.reportsBurst, "reports-burst", app.DefaultReportsBurst, "policy report writes allowed at once above --reports-qps")
	fl.DurationVar(&f.reportsSync, "reports-resync", app.DefaultReportsResync, "how often the leader reads its policy reports again and restores those someone else changed or deleted")
}

// reportsOff is --reports' value (and default) for no policy reports.
const reportsOff = "off"

// runDaemon parses the flags into app.Options, checks every setting before anything
// starts (each error naming its flag) and hands over to app.Run, which builds and runs
// the daemon until SIGINT or SIGTERM.
func runDaemon(parent context.Context, g *globalFlags, f *runFlags) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	log, err := g.logger(os.Stderr, "json")
	if err != nil {
		return err
	}
	rc, err := g.restConfig("run watches a cluster: give it one with --kubeconfig, $KUBECONFIG or ~/.kube/config, or run it in a pod; to audit manifests, use scan -f")
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	opts, err := f.options(cfg, rc, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	opts.GCPercentAfterSync = tuneMemory(log, "/sys/fs/cgroup")
	if err := opts.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return app.Run(ctx, opts)
}

// options is the flags as app.Options, the configuration, cluster and logger given.
func (f *runFlags) options(cfg auditor.Config, rc *rest.Config, log *slog.Logger) (app.Options, error) {
	opts := app.Options{
		Config:            cfg,
		RESTConfig:        rc,
		Logger:            log,
		ListenAddress:     f.listen,
		Debounce:          f.debounce,
		MaxDelay:          f.maxDelay,
		Resync:            f.resync,
		DiscoveryInterval: f.discoveryInterval,
		ShutdownTimeout:   f.shutdownTimeout,
		NetworkProbe:      f.probeNetwork,
		PodNamespace:      f.podNamespace,
		ProbeTimeout:      f.probeTimeout,
		AdmissionProbe:    f.probeAdmission,
		ProbeInterval:     f.probeInterval,
		InsecureServing:   f.insecure,
		MetricsAuth:       f.metricsAuth,
		TLSCertFile:       f.tlsCertFile,
		TLSKeyFile:        f.tlsKeyFile,
		ServerLimits:      f.limits,
		Evidence: app.EvidenceOptions{Dir: f.evidenceDir, Interval: f.evidenceInterval, Keep: f.evidenceKeep,
			SigningKey: f.signingKey, OSCAL: f.evidenceOSCAL},
	}
	if f.reports != reportsOff {
		api, err := policyreport.ParseAPI(f.reports)
		if err != nil {
			return opts, fmt.Errorf("--reports: %w (or off)", err)
		}
		opts.Reports = &app.ReportsOptions{API: api, QPS: f.reportsQPS, Burst: f.reportsBurst, Resync: f.reportsSync}
	}
	if f.leaderElect {
		opts.LeaderElection = &app.LeaderElection{Namespace: f.leNamespace, Name: f.leID,
			LeaseDuration: f.leLease, RenewDeadline: f.leRenew, RetryPeriod: f.leRetry}
	}
	return opts, nil
}
