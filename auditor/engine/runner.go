package engine

import (
	"context"
	"log/slog"
	"sync"
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

// Sink receives transitions after each evaluation (OpenTelemetry events, evidence).
// Sinks must not block: they queue and return.
type Sink interface {
	OnTransitions(ev *Evaluation, transitions []store.Transition)
}

// Observer is told about every evaluation (self-observability metrics).
type Observer interface {
	ObserveEvaluation(ev *Evaluation, err error)
}

// Options configure a Runner.
type Options struct {
	Rules  []auditor.Rule
	Source Source
	Store  *store.Store
	Sinks  []Sink
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
	// WaiverMaxDuration bounds how far ahead a waiver may expire (config waivers.maxDuration).
	WaiverMaxDuration time.Duration
}

// Runner evaluates on demand, debounced.
type Runner struct {
	opts    Options
	trigger chan struct{}

	mu   sync.RWMutex
	last *Evaluation
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
	return &Runner{opts: o, trigger: make(chan struct{}, 1)}
}

// Trigger asks for an evaluation soon. It never blocks.
func (r *Runner) Trigger() {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
}

// Last returns the latest successful evaluation, or nil before the first.
func (r *Runner) Last() *Evaluation {
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

// EvaluateNow takes a snapshot, evaluates every rule and applies the result.
func (r *Runner) EvaluateNow() {
	start := r.opts.Now()
	snap, err := r.opts.Source.Snapshot(start)
	if err != nil {
		r.opts.Logger.Error("snapshot failed; keeping the last findings", "err", err)
		if r.opts.Observer != nil {
			r.opts.Observer.ObserveEvaluation(nil, err)
		}
		return
	}
	ev := Evaluate(r.opts.Rules, snap, r.opts.WaiverMaxDuration)
	ev.At = start
	ev.Duration = time.Since(start)
	tr := r.opts.Store.Apply(start, ev.Findings)
	r.mu.Lock()
	r.last = ev
	r.mu.Unlock()
	for _, s := range r.opts.Sinks {
		s.OnTransitions(ev, tr)
	}
	if r.opts.Observer != nil {
		r.opts.Observer.ObserveEvaluation(ev, nil)
	}
	for _, t := range tr {
		r.opts.Logger.Info("finding "+string(t.Type), "rule", t.Record.Rule, "control", string(t.Record.Control),
			"severity", t.Record.Severity.String(), "object", t.Record.Object.String(), "fingerprint", t.Record.Fingerprint())
	}
}
