package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-platform/enforcement-auditor/auditor/daemon"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
)

type runFlags struct {
	listen            string
	debounce          time.Duration
	maxDelay          time.Duration
	resync            time.Duration
	discoveryInterval time.Duration
	shutdownTimeout   time.Duration
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
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	v := version.Get()
	log.Info("starting enforcement-auditor", "version", v.Version, "revision", v.Revision, "apiserver", rc.Host,
		"listen_address", f.listen, "config", cfg)
	d, err := daemon.New(daemon.Options{
		Config:            cfg,
		RESTConfig:        rc,
		Logger:            log,
		ListenAddress:     f.listen,
		Debounce:          f.debounce,
		MaxDelay:          f.maxDelay,
		Resync:            f.resync,
		DiscoveryInterval: f.discoveryInterval,
		ShutdownTimeout:   f.shutdownTimeout,
	})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	return d.Run(ctx)
}
