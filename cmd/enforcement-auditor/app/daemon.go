// Package app is the composition root of `enforcement-auditor run`: from Options (the
// flags, parsed by the command) it builds the one clientset, the live source, the probes,
// the evaluation loop, the findings store, the HTTP serving chain and the exporters, and
// runs them under one errgroup. It holds wiring only: the components live in auditor/,
// probe/, serving/ and exporters/. Library packages never import it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
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
	"github.com/llm-platform/enforcement-auditor/exporters/announce"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	otelexp "github.com/llm-platform/enforcement-auditor/exporters/otel"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
	"github.com/llm-platform/enforcement-auditor/probe"
	"github.com/llm-platform/enforcement-auditor/rules"
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
	// Evidence configures /evidence and the periodic evidence writer.
	Evidence EvidenceOptions
	// Reports, when set, makes the leader keep policy reports in step with the findings;
	// nil when off.
	Reports *ReportsOptions
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
	emitter   *announce.Emitter
	// emitterSub is the emitter's mailbox of published states.
	emitterSub *store.Subscription
	rules      []auditor.Rule
	probes     []probe.Prober
	// auth protects /metrics and /evidence over plain HTTP (MetricsAuthKubernetes);
	// secure serves HTTPS and authenticates (the default). At most one is set.
	auth   *serving.KubeAuth
	secure secureFunc

	signer         *evidence.Signer
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
	probes []probe.Prober
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

// Run validates the options, builds the daemon and runs it until ctx ends, then flushes
// the OpenTelemetry events: the one entry point of `enforcement-auditor run`.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = o.WithDefaults()
	p, err := newParts(o)
	if err != nil {
		return err
	}
	v := version.Get()
	host := ""
	if o.RESTConfig != nil {
		host = o.RESTConfig.Host
	}
	o.Logger.Info("starting enforcement-auditor", "version", v.Version, "revision", v.Revision, "apiserver", host,
		"listen_address", o.ListenAddress, "config", o.Config)
	sink, err := otelexp.New(ctx, otelexp.Options{ServiceVersion: v.Version, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("OpenTelemetry: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
		defer cancel()
		if err := sink.Shutdown(sctx); err != nil {
			o.Logger.Error("flushing OpenTelemetry events", "err", err)
		}
	}()
	if sink.Enabled() {
		p.sinks, p.otelDropped = []store.Sink{sink}, sink.Dropped
	}
	d, err := newDaemon(o, p)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// parts are the components built from Options before the daemon: each is a setting
// turned into an object, and each can fail on what the setting names (a key file, a
// probe's client).
type parts struct {
	client kubernetes.Interface
	signer *evidence.Signer
	probes []probe.Prober
	auth   *serving.KubeAuth
	secure secureFunc
	// sinks receive the finding transitions the leader announces (OpenTelemetry events).
	sinks       []store.Sink
	otelDropped func() uint64
}

// newParts builds the one clientset, the signer, the probes and the serving chain.
func newParts(o Options) (parts, error) {
	p := parts{client: o.Client, probes: slices.Clone(o.Probes)}
	if p.client == nil {
		c, err := kubernetes.NewForConfig(live.ClientConfig(o.RESTConfig))
		if err != nil {
			return p, err
		}
		p.client = c
	}
	if o.Evidence.SigningKey != "" {
		s, err := evidence.LoadSigner(o.Evidence.SigningKey)
		if err != nil {
			return p, err
		}
		p.signer = s
	}
	if o.NetworkProbe {
		p.probes = append(p.probes, &probe.NetworkProbe{
			Prober: probe.NewNetworkProber(probe.NetworkProberOptions{Timeout: o.ProbeTimeout}),
			Config: o.Config, Logger: o.Logger.With("component", "network-probe"),
		})
	}
	if o.AdmissionProbe {
		ap, err := probe.NewAdmissionProbe(p.client, o.Config, o.Logger.With("component", "admission-probe"))
		if err != nil {
			return p, err
		}
		p.probes = append(p.probes, ap)
	}
	switch {
	case !o.InsecureServing:
		p.secure = secureServing(o)
	case o.MetricsAuth == MetricsAuthKubernetes:
		p.auth = &serving.KubeAuth{Client: p.client}
	}
	return p, nil
}

// New builds the daemon from o (defaults applied, not validated, no OpenTelemetry
// events: Run does both); nothing runs until Run.
func New(o Options) (*Daemon, error) {
	o = o.WithDefaults()
	p, err := newParts(o)
	if err != nil {
		return nil, err
	}
	return newDaemon(o, p)
}

func newDaemon(o Options, p parts) (*Daemon, error) {
	d := &Daemon{opts: o, Store: store.New(), probes: p.probes, auth: p.auth, secure: p.secure, signer: p.signer}
	if o.LeaderElection == nil {
		d.leader.Store(true)
	} else if o.LeaderElection.Namespace == "" {
		return nil, fmt.Errorf("leader election needs a namespace (--leader-election-namespace or POD_NAMESPACE)")
	}
	rs := rules.All(o.Config)
	d.rules = rs
	var runner *engine.Runner
	src, err := live.NewWithClient(o.RESTConfig, p.client, live.Options{
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
	var cp *announce.Checkpoint
	if o.LeaderElection != nil {
		cp = announce.NewCheckpoint(src.Client(), o.LeaderElection.Namespace, o.LeaderElection.Name+"-announced")
	}
	d.emitter = announce.New(d.Store, p.sinks, d.IsLeader, cp, o.Logger.With("component", "emitter"))
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
		OTelDropped:      p.otelDropped,
		Consumers:        consumers,
		Evidence:         evStatus,
		Reports:          reportsStatus,
		IsLeader:         isLeaderMetric(d, o.LeaderElection != nil),
		MaxFindingSeries: o.Config.Metrics.MaxFindingSeries,
		Build:            promexp.BuildInfo{Version: v.Version, Revision: v.Revision, GoVersion: v.GoVersion},
	})
	runner = engine.NewRunner(engine.Options{
		Rules:    rs,
		Source:   &probingSource{Source: src, probes: d.probes},
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
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	if d.secure != nil {
		var err error
		if srv.Handler, srv.TLSConfig, err = d.secure(gctx, srv.Handler); err != nil {
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
	g.Go(func() error { return d.emitter.Run(gctx, d.emitterSub) })
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
	if len(d.probes) > 0 {
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
				for _, p := range d.probes {
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
