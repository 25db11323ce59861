package app

import (
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/announce"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
	"github.com/llm-platform/enforcement-auditor/probe"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/serving"
)

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
	// ruleChanges is what the configuration's rules turned off or changed (the evidence
	// lists it).
	ruleChanges auditor.RuleChanges
	probes      []probe.Prober
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

// newDaemon wires the parts into the live source, the runner, the store and the
// exporters; nothing runs until Run.
func newDaemon(o Options, p parts) (*Daemon, error) {
	d := &Daemon{opts: o, Store: store.New(), probes: p.probes, auth: p.auth, secure: p.secure, signer: p.signer}
	if o.LeaderElection == nil {
		d.leader.Store(true)
	} else if o.LeaderElection.Namespace == "" {
		return nil, fmt.Errorf("leader election needs a namespace (--leader-election-namespace or POD_NAMESPACE)")
	}
	rs, changes, err := auditor.SelectRules(rules.All(o.Config), o.Config.Rules, auditor.RuleSelection{})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !changes.Empty() {
		o.Logger.Info("rules changed by the configuration: " + changes.String())
	}
	d.rules, d.ruleChanges = rs, changes
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
	if err := d.newExporters(p, rs); err != nil {
		return nil, err
	}
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
		Claims:            o.Config.Claims,
	})
	d.Runner = runner
	return d, nil
}

// newExporters builds what reads the store: the emitter (with its checkpoint under
// leader election), the evidence writer, the report writer and the Prometheus collector,
// which observes them all.
func (d *Daemon) newExporters(p parts, rs []auditor.Rule) error {
	o := d.opts
	var cp *announce.Checkpoint
	if o.LeaderElection != nil {
		cp = announce.NewCheckpoint(d.Source.Client(), o.LeaderElection.Namespace, o.LeaderElection.Name+"-announced")
	}
	d.emitter = announce.New(d.Store, p.sinks, d.IsLeader, cp, o.Logger.With("component", "emitter"))
	d.emitterSub = d.Store.Subscribe("emitter")
	var evStatus promexp.EvidenceStatus
	if o.Evidence.Dir != "" {
		w, err := evidence.NewWriter(evidence.WriterOptions{Dir: o.Evidence.Dir, Keep: o.Evidence.Keep})
		if err != nil {
			return err
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
			return err
		}
		d.reports, reportsStatus = w, w
		d.reportsSub = d.Store.Subscribe("reports")
		consumers = append(consumers, d.reportsSub)
	}
	v := version.Get()
	d.Collector = promexp.New(promexp.Options{
		Store:            d.Store,
		Rules:            metas,
		Sources:          d.Source,
		OTelDropped:      p.otelDropped,
		Consumers:        consumers,
		Evidence:         evStatus,
		Reports:          reportsStatus,
		IsLeader:         isLeaderMetric(d, o.LeaderElection != nil),
		MaxFindingSeries: o.Config.Metrics.MaxFindingSeries,
		Build:            promexp.BuildInfo{Version: v.Version, Revision: v.Revision, GoVersion: v.GoVersion},
	})
	return nil
}

// Ready reports whether caches synced and one evaluation completed.
func (d *Daemon) Ready() bool { return d.ready.Load() }

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
	g, gctx := errgroup.WithContext(ctx)
	if err := d.serve(gctx, g, ln); err != nil {
		return err
	}
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
