package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/cmd/enforcement-auditor/app"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	otelexp "github.com/llm-platform/enforcement-auditor/exporters/otel"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
	"github.com/llm-platform/enforcement-auditor/probe"
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen-address", ":8080", "address for /metrics, /healthz and /readyz")
	fl.DurationVar(&f.debounce, "debounce", 200*time.Millisecond, "quiet time after a change before evaluating")
	fl.DurationVar(&f.maxDelay, "max-delay", 2*time.Second, "longest a burst of changes can postpone evaluation")
	fl.DurationVar(&f.resync, "resync", 5*time.Minute, "full re-evaluation period without changes (time-based rules)")
	fl.DurationVar(&f.discoveryInterval, "discovery-interval", 15*time.Second, "how often to look for CRDs installed or removed")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 10*time.Second, "bound on graceful shutdown")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "elect one replica to emit events, write evidence and probe (others keep caches warm and serve metrics)")
	fl.StringVar(&f.leNamespace, "leader-election-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the leader Lease and the announced-findings checkpoint (default $POD_NAMESPACE)")
	fl.StringVar(&f.leID, "leader-election-id", "enforcement-auditor", "name of the leader Lease")
	fl.DurationVar(&f.leLease, "leader-election-lease-duration", 15*time.Second, "how long followers wait before taking over a silent leader's lease")
	fl.DurationVar(&f.leRenew, "leader-election-renew-deadline", 10*time.Second, "how long the leader retries renewing before giving up")
	fl.DurationVar(&f.leRetry, "leader-election-retry-period", 2*time.Second, "interval between lease attempts")
	fl.BoolVar(&f.insecure, "insecure-serving", false, "serve plain HTTP with no authentication: whoever reaches the port reads /metrics and /evidence (default: HTTPS, and a token allowed to get the path)")
	fl.StringVar(&f.metricsAuth, "metrics-auth", "none", "with --insecure-serving: none, or kubernetes (TokenReview + SubjectAccessReview for get on the path, without TLS)")
	fl.StringVar(&f.tlsCertFile, "tls-cert-file", "", "serve HTTPS with this certificate (PEM)")
	fl.StringVar(&f.tlsKeyFile, "tls-private-key-file", "", "private key for --tls-cert-file (PEM)")
	fl.BoolVar(&f.probeNetwork, "probe-network", false, "actively try TCP connections to every Service port in the protected namespaces (the auditor must run outside the trusted namespaces)")
	fl.BoolVar(&f.probeAdmission, "probe-admission", false, "send a server-side dry-run create of a GPU pod without a queue name to every Kueue-managed namespace (needs create on pods; nothing is persisted)")
	fl.DurationVar(&f.probeInterval, "probe-interval", 5*time.Minute, "how often the active probes run")
	fl.DurationVar(&f.probeTimeout, "probe-timeout", 3*time.Second, "timeout of one network probe connection")
	fl.StringVar(&f.podNamespace, "pod-namespace", os.Getenv("POD_NAMESPACE"), "the auditor's own namespace (default $POD_NAMESPACE; required by --probe-network)")
	fl.StringVar(&f.evidenceDir, "evidence-dir", "", "write a compliance evidence document to this directory every --evidence-interval (leader only)")
	fl.DurationVar(&f.evidenceInterval, "evidence-interval", time.Hour, "how often to write evidence")
	fl.IntVar(&f.evidenceKeep, "evidence-keep", 48, "how many evidence documents to keep")
	fl.StringVar(&f.signingKey, "signing-key", "", "private key (PEM: ed25519 or ECDSA P-256) to sign evidence attestations")
	fl.BoolVar(&f.evidenceOSCAL, "evidence-oscal", false, "also write OSCAL assessment results beside each evidence attestation")
	fl.StringVar(&f.reports, "reports", "off", "keep policy reports in step with the findings (leader only): openreports (openreports.io/v1alpha1), wgpolicyk8s (wgpolicyk8s.io/v1alpha2) or off; needs the reports component's RBAC")
	fl.Float64Var(&f.reportsQPS, "reports-qps", 5, "most policy report writes (applies and deletes) per second")
	fl.IntVar(&f.reportsBurst, "reports-burst", 10, "policy report writes allowed at once above --reports-qps")
	fl.DurationVar(&f.reportsSync, "reports-resync", writer.DefaultResync, "how often the leader reads its policy reports again and restores those someone else changed or deleted")
	return cmd
}

func runDaemon(parent context.Context, g *globalFlags, f *runFlags) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	log, err := g.logger(os.Stderr, "json")
	if err != nil {
		return err
	}
	rc, err := g.restConfig()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	gcPercent := tuneMemory(log, "/sys/fs/cgroup")
	if f.metricsAuth != "none" && f.metricsAuth != "kubernetes" {
		return &exitError{code: 2, err: fmt.Errorf("--metrics-auth: %q, want none or kubernetes", f.metricsAuth)}
	}
	if f.metricsAuth != "none" && !f.insecure {
		return &exitError{code: 2, err: errors.New("--metrics-auth goes with --insecure-serving: HTTPS serving (the default) always authenticates and authorizes")}
	}
	if parent == nil {
		parent = context.Background()
	}
	// One typed clientset for the informers, the probes, metrics auth and the checkpoint.
	client, err := kubernetes.NewForConfig(live.ClientConfig(rc))
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	opts := app.Options{
		Client:             client,
		Config:             cfg,
		RESTConfig:         rc,
		Logger:             log,
		ListenAddress:      f.listen,
		Debounce:           f.debounce,
		MaxDelay:           f.maxDelay,
		Resync:             f.resync,
		DiscoveryInterval:  f.discoveryInterval,
		ShutdownTimeout:    f.shutdownTimeout,
		TLSCertFile:        f.tlsCertFile,
		TLSKeyFile:         f.tlsKeyFile,
		GCPercentAfterSync: gcPercent,
	}
	if !f.insecure {
		opts.Secure = secureServing(rc, f, log)
	}
	if f.probeNetwork {
		if err := probe.ValidateProbeNamespace(f.podNamespace, cfg); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if f.signingKey != "" {
		signer, err := evidence.LoadSigner(f.signingKey)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		opts.Evidence.Signer = signer
	}
	opts.Evidence.Dir, opts.Evidence.Interval, opts.Evidence.Keep = f.evidenceDir, f.evidenceInterval, f.evidenceKeep
	opts.Evidence.OSCAL = f.evidenceOSCAL
	if f.probeNetwork || f.probeAdmission {
		if f.probeNetwork {
			opts.Probes = append(opts.Probes, &app.NetworkProbe{
				Prober: probe.NewNetworkProber(probe.NetworkProberOptions{Timeout: f.probeTimeout}),
				Config: cfg, Logger: log.With("component", "network-probe"),
			})
		}
		if f.probeAdmission {
			ap, err := app.NewAdmissionProbe(client, cfg, log.With("component", "admission-probe"))
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			opts.Probes = append(opts.Probes, ap)
		}
		opts.ProbeInterval = f.probeInterval
	}
	if f.reports != "off" {
		api, err := policyreport.ParseAPI(f.reports)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--reports: %w (or off)", err)}
		}
		opts.Reports = &app.ReportsOptions{API: api, QPS: f.reportsQPS, Burst: f.reportsBurst, Resync: f.reportsSync}
	}
	if f.leaderElect {
		opts.LeaderElection = &app.LeaderElection{Namespace: f.leNamespace, Name: f.leID,
			LeaseDuration: f.leLease, RenewDeadline: f.leRenew, RetryPeriod: f.leRetry}
	}
	// Every setting is checked before anything starts (the OpenTelemetry exporter
	// included), each error naming its flag.
	if err := opts.Validate(); err != nil {
		return &exitError{code: 2, err: err}
	}
	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	v := version.Get()
	log.Info("starting enforcement-auditor", "version", v.Version, "revision", v.Revision, "apiserver", rc.Host,
		"listen_address", f.listen, "config", cfg)
	sink, err := otelexp.New(ctx, otelexp.Options{ServiceVersion: v.Version, Logger: log})
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("OpenTelemetry: %w", err)}
	}
	if sink.Enabled() {
		opts.Sinks = append(opts.Sinks, sink)
		opts.OTelDropped = sink.Dropped
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
		defer cancel()
		if err := sink.Shutdown(sctx); err != nil {
			log.Error("flushing OpenTelemetry events", "err", err)
		}
	}()
	if f.metricsAuth == "kubernetes" {
		opts.Auth = &app.KubeAuth{Client: client}
	}
	return app.Run(ctx, opts)
}
