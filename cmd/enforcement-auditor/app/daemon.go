// Package app is the composition root of `enforcement-auditor run`: it wires the live
// source, the probes, the evaluation loop, the findings store and the exporters into the
// long-running auditor. Library packages never import it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// Options configure the daemon. Zero values take the documented defaults.
type Options struct {
	Config     auditor.Config
	RESTConfig *rest.Config
	// Client, when set, is the one typed clientset every part shares (informers,
	// probes, metrics auth, the leader's checkpoint); nil: built from RESTConfig.
	Client kubernetes.Interface
	Logger *slog.Logger

	// ListenAddress serves /metrics, /healthz, /readyz (default ":8080").
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

	// Probes are the opt-in active verifications; nil when off.
	Probes []Prober
	// ProbeInterval is how often the probes run (default 5m).
	ProbeInterval time.Duration

	// Sinks receive the finding transitions the leader announces (OpenTelemetry
	// events), from the emitter's goroutine.
	Sinks []store.Sink
	// OTelDropped reports events dropped by the OpenTelemetry queue (may be nil).
	OTelDropped func() uint64
	// ExtraHandlers are mounted on the HTTP server (e.g. /evidence).
	ExtraHandlers map[string]http.Handler

	// LeaderElection, when set, elects one replica to emit events, write evidence and
	// probe; the announced findings are checkpointed in a ConfigMap named after the lease.
	LeaderElection *LeaderElection
	// Auth, when set, protects /metrics and /evidence with TokenReview + SubjectAccessReview.
	Auth *KubeAuth
	// Evidence configures /evidence and the periodic evidence writer.
	Evidence EvidenceOptions
	// Reports, when set, makes the leader keep policy reports in step with the findings
	// (--reports); nil when off.
	Reports *ReportsOptions
	// ServerLimits bound the HTTP server before authentication (zero: serving's defaults).
	ServerLimits serving.Limits
	// TLSCertFile and TLSKeyFile serve HTTPS when both are set.
	TLSCertFile, TLSKeyFile string
	// Secure, when set, wraps the HTTP handler (authentication, authorization) and
	// returns the TLS configuration to serve it with (auditor/serving.Secure).
	Secure func(ctx context.Context, h http.Handler) (http.Handler, *tls.Config, error)
}

// Prober runs one kind of active probe. Probes are a source: they fill their own
// section of every snapshot as it is built (Annotate), and take their targets from a
// fresh snapshot of the informer caches, never from an evaluation's result.
type Prober interface {
	Name() string
	// Run probes once; targets come from snap, read from the caches just before.
	Run(ctx context.Context, snap *auditor.Snapshot)
	// Annotate copies the latest results into a snapshot being built.
	Annotate(snap *auditor.Snapshot)
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ListenAddress == "" {
		o.ListenAddress = ":8080"
	}
	if o.Debounce <= 0 {
		o.Debounce = 200 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 2 * time.Second
	}
	if o.Resync <= 0 {
		o.Resync = 5 * time.Minute
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 10 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 5 * time.Minute
	}
}

// Daemon is a running auditor; its parts are exposed for tests and for the CLI.
type Daemon struct {
	opts      Options
	Source    *live.Source
	Runner    *engine.Runner
	Store     *store.Store
	Collector *promexp.Collector
	ready     atomic.Bool
	leader    atomic.Bool
	emitter   *emitter
	// emitterSub is the emitter's mailbox of published states.
	emitterSub *store.Subscription
	rules      []auditor.Rule

	evidenceWriter *evidence.Writer
	reports        *writer.Writer
	reportsSub     *store.Subscription
}

// IsLeader reports whether this replica emits events, writes evidence and probes (always
// true without leader election).
func (d *Daemon) IsLeader() bool { return d.leader.Load() }

// probingSource is the live source with the probes' section filled in every full
// snapshot. Partial snapshots (incremental evaluation) keep the previous snapshot's
// probe results: new results trigger a full evaluation.
type probingSource struct {
	*live.Source
	probes []Prober
}

func (p *probingSource) Snapshot(now time.Time) (*auditor.Snapshot, error) {
	s, err := p.Source.Snapshot(now)
	if err != nil {
		return nil, err
	}
	for _, pr := range p.probes {
		pr.Annotate(s)
	}
	return s, nil
}

// New builds the daemon; nothing runs until Run.
func New(o Options) (*Daemon, error) {
	o.defaults()
	d := &Daemon{opts: o, Store: store.New()}
	if o.LeaderElection == nil {
		d.leader.Store(true)
	} else {
		o.LeaderElection.defaults()
		if o.LeaderElection.Namespace == "" {
			return nil, fmt.Errorf("leader election needs a namespace (--leader-election-namespace or POD_NAMESPACE)")
		}
		d.opts.LeaderElection = o.LeaderElection
	}
	rs := rules.All(o.Config)
	d.rules = rs
	var runner *engine.Runner
	client := o.Client
	if client == nil {
		c, err := kubernetes.NewForConfig(live.ClientConfig(o.RESTConfig))
		if err != nil {
			return nil, err
		}
		client = c
	}
	src, err := live.NewWithClient(o.RESTConfig, client, live.Options{
		OnChange:          func() { runner.Trigger() },
		Logger:            o.Logger.With("component", "source"),
		DiscoveryInterval: o.DiscoveryInterval,
		Config:            o.Config,
		// Pods no configured rule reads (no GPU, not protected, no waiver) are cached as
		// small stubs: at 100k pods this halves the cache (docs/benchmarks.md).
		KeepPod: auditor.PodsRead(rs),
	})
	if err != nil {
		return nil, err
	}
	d.Source = src
	var cp *checkpoint
	if o.LeaderElection != nil {
		cp = &checkpoint{client: src.Client(), namespace: o.LeaderElection.Namespace, name: o.LeaderElection.Name + "-announced"}
	}
	d.emitter = newEmitter(d.Store, o.Sinks, d.IsLeader, cp, o.Logger.With("component", "emitter"))
	d.emitterSub = d.Store.Subscribe("emitter")
	var evStatus promexp.EvidenceStatus
	if o.Evidence.Dir != "" {
		w, err := evidence.NewWriter(evidence.WriterOptions{Dir: o.Evidence.Dir, Keep: o.Evidence.Keep})
		if err != nil {
			return nil, err
		}
		d.evidenceWriter = w
		evStatus = w
	}
	metas := make([]auditor.RuleMeta, 0, len(rs))
	for _, r := range rs {
		metas = append(metas, r.Meta())
	}
	consumers := []*store.Subscription{d.emitterSub}
	var reportsStatus promexp.ReportsStatus
	if o.Reports != nil {
		w, err := newReportWriter(o, metas, d.IsLeader)
		if err != nil {
			return nil, err
		}
		d.reports, reportsStatus = w, w
		d.reportsSub = d.Store.Subscribe("reports")
		consumers = append(consumers, d.reportsSub)
	}
	v := version.Get()
	d.Collector = promexp.New(promexp.Options{
		Store:            d.Store,
		Rules:            metas,
		Sources:          src,
		OTelDropped:      o.OTelDropped,
		Consumers:        consumers,
		Evidence:         evStatus,
		Reports:          reportsStatus,
		IsLeader:         isLeaderMetric(d, o.LeaderElection != nil),
		MaxFindingSeries: o.Config.Metrics.MaxFindingSeries,
		Build:            promexp.BuildInfo{Version: v.Version, Revision: v.Revision, GoVersion: v.GoVersion},
	})
	runner = engine.NewRunner(engine.Options{
		Rules:    rs,
		Source:   &probingSource{Source: src, probes: o.Probes},
		Store:    d.Store,
		Observer: d.Collector,
		Debounce: o.Debounce,
		MaxDelay: o.MaxDelay,
		Periodic: o.Resync,
		// One pod event re-evaluates its namespace, not the cluster (docs/benchmarks.md).
		Incremental: src,
		Logger:      o.Logger.With("component", "engine"),

		WaiverMaxDuration: o.Config.Waivers.MaxDuration.Duration,
	})
	d.Runner = runner
	return d, nil
}

// Ready reports whether caches synced and one evaluation completed.
func (d *Daemon) Ready() bool { return d.ready.Load() }

// Handler returns the HTTP handler: /metrics, /healthz, /readyz and extras.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	protect := func(h http.Handler) http.Handler {
		if d.opts.Auth != nil {
			return d.opts.Auth.Wrap(h)
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

// Run starts everything and blocks until ctx ends, then shuts down gracefully.
func (d *Daemon) Run(ctx context.Context) error {
	o := d.opts
	log := o.Logger
	ln := o.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", o.ListenAddress); err != nil {
			return fmt.Errorf("listen %s: %w", o.ListenAddress, err)
		}
	}
	srv, ln := serving.NewServer(ln, d.Handler(), o.ServerLimits)
	g, gctx := errgroup.WithContext(ctx)
	if o.Secure != nil {
		var err error
		if srv.Handler, srv.TLSConfig, err = o.Secure(gctx, srv.Handler); err != nil {
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
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	g.Go(func() error { return d.Source.Run(gctx) })
	g.Go(func() error { return d.emitter.run(gctx, d.emitterSub) })
	g.Go(func() error {
		if err := d.Source.WaitForSync(gctx); err != nil {
			return nil // shutting down
		}
		log.Info("caches synced")
		if o.GCPercentAfterSync > 0 {
			debug.SetGCPercent(o.GCPercentAfterSync)
		}
		d.Runner.EvaluateNow()
		d.ready.Store(true)
		log.Info("first evaluation done; ready", "open_findings", len(d.Store.Open()))
		return d.Runner.Run(gctx)
	})
	if o.LeaderElection != nil {
		g.Go(func() error { return d.campaign(gctx) })
	}
	if d.evidenceWriter != nil {
		g.Go(func() error { return d.writeEvidence(gctx) })
	}
	if d.reports != nil {
		g.Go(func() error { return d.reports.Run(gctx, d.Store, d.reportsSub) })
	}
	if len(o.Probes) > 0 {
		g.Go(func() error { return d.runProbes(gctx) })
	}
	err := g.Wait()
	log.Info("stopped")
	return err
}

// runProbes probes every ProbeInterval while this replica leads, with targets read
// from the caches at that moment, then asks for a full evaluation with the results.
func (d *Daemon) runProbes(ctx context.Context) error {
	poll := time.NewTicker(time.Second)
	for !d.ready.Load() {
		select {
		case <-ctx.Done():
			poll.Stop()
			return nil
		case <-poll.C:
		}
	}
	poll.Stop()
	t := time.NewTicker(d.opts.ProbeInterval)
	defer t.Stop()
	for {
		if d.IsLeader() {
			snap, err := d.Source.Snapshot(time.Now())
			if err != nil {
				d.opts.Logger.Warn("probes skipped: no snapshot of the caches", "err", err)
			} else {
				for _, p := range d.opts.Probes {
					p.Run(ctx, snap)
				}
				d.Runner.TriggerFull()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func isLeaderMetric(d *Daemon, elected bool) func() bool {
	if !elected {
		return nil
	}
	return d.IsLeader
}

// The collector observes the evaluation loop; exporters do not import the engine, so
// the composition root checks that it fits.
var _ engine.Observer = (*promexp.Collector)(nil)
