package engine

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// Source produces snapshots. The live source builds them from informer caches, the
// manifest source from files.
type Source interface {
	// Snapshot returns a consistent view of the cluster now.
	Snapshot(now time.Time) (*auditor.Snapshot, error)
}

// Observer is told about every evaluation (self-observability metrics).
type Observer interface {
	ObserveEvaluation(ev *auditor.Evaluation, err error)
}

// Options configure a Runner.
type Options struct {
	Rules  []auditor.Rule
	Source Source
	// Store receives every evaluation (Store.Publish); consumers read its State or
	// subscribe to it, on their own goroutines: the loop never waits for them.
	Store *store.Store
	// Observer may be nil.
	Observer Observer
	// Debounce is how long the runner waits after an event for more events before
	// evaluating; MaxDelay bounds how long a burst of events can postpone evaluation.
	Debounce time.Duration
	MaxDelay time.Duration
	// Periodic forces an evaluation at least this often (time-based rules such as waiver
	// expiry and lease staleness change without an event). Zero disables.
	Periodic time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
	// Claims says which controls the configuration claims (auditor.Config.Claims); the
	// findings of the others are dormant (auditor.Evaluation.ApplyClaims): never in the
	// store, never a violated control. Nil: every control is claimed.
	Claims func(auditor.Control) bool
	// WaiverMaxDuration bounds how far ahead a waiver may expire (config waivers.maxDuration).
	WaiverMaxDuration time.Duration
	// Incremental, when set, lets the runner re-evaluate only the namespaces whose pods,
	// pod owners or Workloads changed (see IncrementalSource); full snapshots still
	// come from Source. When nil and Source itself implements IncrementalSource, Source
	// is used. Without either, every evaluation is full.
	Incremental IncrementalSource
	// MaxPartialNamespaces is the most namespaces an incremental evaluation re-reads;
	// more changed namespaces make a full evaluation. Zero: a quarter of the namespaces
	// (16 when that is zero).
	MaxPartialNamespaces int
}

// Runner evaluates on demand, debounced.
type Runner struct {
	opts    Options
	trigger chan struct{}
	// fullWanted makes the next evaluation full (TriggerFull, periodic resync, a failed
	// snapshot whose changes were already drained).
	fullWanted atomic.Bool
	// namespaced are the indexes of the ScopeNamespace rules in opts.Rules.
	namespaced []int

	evalMu sync.Mutex       // serializes EvaluateNow
	facts  [][]auditor.Fact // the last evaluation's facts per rule (indexed like opts.Rules)

	mu   sync.RWMutex
	last *auditor.Evaluation
}

// NewRunner returns a runner; call Run to start it.
func NewRunner(o Options) *Runner {
	if o.Debounce <= 0 {
		o.Debounce = 100 * time.Millisecond
	}
	if o.MaxDelay < o.Debounce {
		o.MaxDelay = 10 * o.Debounce
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Runner{opts: o, trigger: make(chan struct{}, 1)}
	for i, rule := range o.Rules {
		if m := rule.Meta(); m.Scope == auditor.ScopeNamespace {
			r.namespaced = append(r.namespaced, i)
		}
	}
	return r
}

// incremental returns the source of partial snapshots, or nil.
func (r *Runner) incremental() IncrementalSource {
	if r.opts.Incremental != nil {
		return r.opts.Incremental
	}
	if inc, ok := r.opts.Source.(IncrementalSource); ok {
		return inc
	}
	return nil
}

// TriggerFull asks for a full evaluation soon (new probe results: they change what
// cluster-scoped rules see without any object event). It never blocks.
func (r *Runner) TriggerFull() {
	r.fullWanted.Store(true)
	r.Trigger()
}

// Trigger asks for an evaluation soon. It never blocks.
func (r *Runner) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Claims returns Options.Claims: which controls the runner's evaluations claim.
func (r *Runner) Claims() func(auditor.Control) bool { return r.opts.Claims }

// Last returns the latest successful evaluation, or nil before the first.
func (r *Runner) Last() *auditor.Evaluation {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.last
}

// Run evaluates once immediately (unless EvaluateNow already ran), then after each
// burst of triggers, until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if r.Last() == nil {
		r.EvaluateNow()
	}
	var periodic <-chan time.Time
	if r.opts.Periodic > 0 {
		t := time.NewTicker(r.opts.Periodic)
		defer t.Stop()
		periodic = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-periodic:
			r.fullWanted.Store(true)
		case <-r.trigger:
			r.settle(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		r.EvaluateNow()
	}
}

// settle waits until no trigger arrived for Debounce, or MaxDelay passed.
func (r *Runner) settle(ctx context.Context) {
	deadline := time.NewTimer(r.opts.MaxDelay)
	defer deadline.Stop()
	quiet := time.NewTimer(r.opts.Debounce)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-quiet.C:
			return
		case <-r.trigger:
			if !quiet.Stop() {
				<-quiet.C
			}
			quiet.Reset(r.opts.Debounce)
		}
	}
}

// EvaluateNow evaluates and applies the result: incrementally when the source recorded
// only namespace-local changes in a few namespaces (see IncrementalSource), else every
// rule over a full snapshot.
func (r *Runner) EvaluateNow() {
	r.evalMu.Lock()
	defer r.evalMu.Unlock()
	start := r.opts.Now()
	clock := time.Now()
	full := r.fullWanted.Swap(false)
	last := r.Last()
	reason := ""
	var namespaces []string
	switch inc := r.incremental(); {
	case inc == nil:
		reason = "the source is not incremental"
	default:
		// Drain even when evaluating everything: what is recorded now is in the snapshot.
		cs := inc.Changes()
		max := r.opts.MaxPartialNamespaces
		if max <= 0 && last != nil && last.Snapshot != nil {
			max = len(last.Snapshot.Namespaces) / 4
		}
		if max <= 0 {
			max = 16
		}
		namespaces, reason = plan(cs, max)
	}
	switch {
	case last == nil || last.Snapshot == nil || len(r.facts) != len(r.opts.Rules):
		reason = "first evaluation"
	case full:
		reason = "full evaluation requested"
	}
	if reason == "" {
		p, why := r.evaluatePartial(start, last, r.facts, namespaces)
		if p != nil {
			p.ev.Duration = time.Since(clock)
			tr := r.opts.Store.PublishPartial(p.ev, p.findings, p.inScope)
			r.facts = p.facts
			r.publish(p.ev, tr)
			r.opts.Logger.Debug("incremental evaluation", "namespaces", namespaces, "duration", p.ev.Duration)
			return
		}
		reason = why
	}
	r.evaluateFull(start, clock, reason)
}

func (r *Runner) evaluateFull(start, clock time.Time, reason string) {
	snap, err := r.opts.Source.Snapshot(start)
	if err != nil {
		// The changes were drained: only a full evaluation can catch up.
		r.fullWanted.Store(true)
		r.opts.Logger.Error("snapshot failed; keeping the last findings", "err", err)
		if r.opts.Observer != nil {
			r.opts.Observer.ObserveEvaluation(nil, err)
		}
		return
	}
	ev, facts := evaluate(r.opts.Rules, snap, r.opts.WaiverMaxDuration)
	ev.ApplyClaims(r.opts.Claims)
	if r.incremental() != nil {
		snap.PrepareWithNamespaces()
	}
	ev.At = start
	ev.Duration = time.Since(clock)
	tr := r.opts.Store.Publish(ev)
	r.facts = facts
	r.publish(ev, tr)
	r.opts.Logger.Debug("full evaluation", "reason", reason, "duration", ev.Duration)
}

// publish makes ev the last evaluation (the store has published it already) and tells
// the observer.
func (r *Runner) publish(ev *auditor.Evaluation, tr []store.Transition) {
	r.mu.Lock()
	r.last = ev
	r.mu.Unlock()
	if r.opts.Observer != nil {
		r.opts.Observer.ObserveEvaluation(ev, nil)
	}
	for _, t := range tr {
		r.opts.Logger.Info("finding "+string(t.Type), "rule", t.Record.Rule, "control", string(t.Record.Control),
			"severity", t.Record.Severity.String(), "object", t.Record.Object.String(), "fingerprint", t.Record.Fingerprint())
	}
}
