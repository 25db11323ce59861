package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/gitops"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// auditInput is what a one-shot audit reads: manifests (-f), else the live cluster.
type auditInput struct {
	files   []string
	input   inputFlags
	timeout time.Duration
	// keepSources reads each manifest input whole, once, and keeps it: evidence hashes
	// the very bytes it scanned. Otherwise the input is streamed, document by document.
	keepSources bool
	// project holds each manifest object as the daemon's caches do (live.Projector):
	// the projection onto what the rules read, pods no rule reads dropped (counted as
	// seen).
	project bool
	// partial says the -f inputs are some of the files only (scan --partial): findings
	// resting on an absence among them are not judged (auditor.RuleMeta.Absence).
	partial bool
	// namespaces scopes a live audit to these namespaces (scan --namespace).
	namespaces []string
	// progress, when set, receives the progress of a live audit's cache sync; tty says
	// it is a terminal (one line redrawn) rather than a log (a line every few seconds).
	progress io.Writer
	tty      bool
}

// audit is one evaluation of every configured rule over one snapshot: what scan
// reports and evidence attests. newAudit checks its flags and configuration, run reads
// the input and evaluates.
type audit struct {
	in   auditInput
	opts manifests.Options
	log  *slog.Logger

	cfg   auditor.Config
	rules []auditor.Rule
	// ruleChanges is what the configuration's rules and the rule flags turned off or
	// changed.
	ruleChanges auditor.RuleChanges
	snap        *auditor.Snapshot
	// sources are the manifest inputs as read (keepSources).
	sources []manifests.Source
	eval    *auditor.Evaluation
}

// newAudit prepares the one offline pipeline of scan and evidence: the input (manifests,
// or the live cluster synced once) -> snapshot -> rules -> evaluation. It reads the
// input flags, the configuration and the log flags; errors are exit statuses (2).
func newAudit(g *globalFlags, in auditInput, errOut io.Writer) (*audit, error) {
	opts, err := in.input.options()
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	log, err := g.logger(errOut, "plain")
	if err != nil {
		return nil, err
	}
	rs, changes, err := auditor.SelectRules(rules.All(cfg), cfg.Rules, in.input.rules)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	a := &audit{in: in, opts: opts, log: log, cfg: cfg, rules: rs, ruleChanges: changes}
	a.opts.SensitiveKinds = cfg.SensitiveGroupKinds()
	if in.project {
		a.opts.Projection = auditor.NewProjection(cfg, auditor.PodsRead(a.rules))
	}
	return a, nil
}

// run reads the input into a snapshot and evaluates the rules over it; the findings of
// the controls the configuration does not claim are set apart as dormant.
func (a *audit) run(ctx context.Context, g *globalFlags, stdin io.Reader) error {
	if err := a.evaluate(ctx, g, stdin); err != nil {
		return err
	}
	a.eval.ApplyClaims(a.cfg.Claims)
	return nil
}

func (a *audit) evaluate(ctx context.Context, g *globalFlags, stdin io.Reader) error {
	if len(a.in.files) > 0 {
		if len(a.in.namespaces) > 0 {
			return &exitError{code: 2, err: errors.New("--namespace scopes a live scan; with -f, give the namespace's files")}
		}
		return a.runManifests(stdin)
	}
	if a.in.partial {
		return &exitError{code: 2, err: errors.New("--partial applies to -f inputs (some of a repository's files); a live scan reads the whole cluster")}
	}
	var err error
	if a.snap, err = liveSnapshot(ctx, g, a.cfg, a.in, a.log); err != nil {
		return err
	}
	a.eval = engine.Evaluate(a.rules, a.snap, a.cfg.Waivers.MaxDuration.Duration)
	return nil
}

// runManifests plans the -f inputs (auditor/gitops): plain manifests are streamed as
// they always were; kustomizations and charts are rendered, and each environment (an
// overlay, with the charts and plain manifests beside it) is judged as its own platform,
// the findings merged and named after it.
func (a *audit) runManifests(stdin io.Reader) error {
	warn := func(msg string) { a.log.Warn(msg) }
	plan, err := gitops.PlanPaths(a.in.files, gitops.Options{Skip: a.in.input.skip, Warn: warn})
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("cannot read input:\n%w", indent(err))}
	}
	var skipped []string
	opts := a.opts
	opts.Warn = warn
	opts.SkipNotObjects = plan.Walked()
	opts.Skipped = func(file string) { // once, however many environments read the file
		if !slices.Contains(skipped, file) {
			skipped = append(skipped, file)
		}
	}
	defer func() {
		if len(skipped) > 0 {
			a.log.Warn(fmt.Sprintf("skipped %s holding no Kubernetes object: %s", plural(len(skipped), "file"), strings.Join(skipped, ", ")))
		}
	}()
	if len(plan.Roots) == 1 && plan.Roots[0].Kind == gitops.Manifests {
		var paths []string
		for _, in := range plan.Roots[0].Inputs {
			paths = append(paths, in.Path)
		}
		if a.snap, a.sources, err = manifestSnapshot(paths, opts, a.in.keepSources, stdin); err != nil {
			return err
		}
		a.snap.Partial = a.in.partial
		a.eval = engine.Evaluate(a.rules, a.snap, a.cfg.Waivers.MaxDuration.Duration)
		return nil
	}
	if a.in.keepSources {
		var roots []string
		for _, r := range plan.Roots {
			if r.Kind != gitops.Manifests {
				roots = append(roots, r.String())
			}
		}
		return &exitError{code: 2, err: fmt.Errorf("evidence attests manifest files as they are, and the inputs hold %s to render (%s): render it (kustomize build, helm template) and attest the output", plural(len(roots), "root"), strings.Join(roots, ", "))}
	}
	loader := &gitops.Loader{Render: a.in.input.render(), Manifest: opts, Stdin: stdin}
	now := time.Now()
	var envs []auditor.Environment
	for _, e := range gitops.Environments(plan, a.in.input.onePlatform) {
		srcs, err := loader.Sources(e)
		var objs []manifests.Object
		if err == nil {
			objs, err = manifests.DecodeSources(srcs, opts)
		}
		if err != nil {
			return inputError(err)
		}
		snap, err := manifests.Snapshot(objs)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("input is not valid Kubernetes objects:\n%w", indent(err))}
		}
		snap.Now = now
		snap.Partial = a.in.partial
		envs = append(envs, auditor.Environment{Name: e.Name, Evaluation: engine.Evaluate(a.rules, snap, a.cfg.Waivers.MaxDuration.Duration)})
	}
	a.eval = auditor.MergeEnvironments(envs)
	a.snap = a.eval.Snapshot // nil when several environments were merged
	return nil
}

// plural spells a count with its noun: "1 file", "2 files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// inputError is the exit status and message of an input that cannot be read: over the
// budget (naming the flag that raises it), or unreadable.
func inputError(err error) error {
	var budget *manifests.BudgetError
	if errors.As(err, &budget) {
		flag := "--max-input-bytes"
		if budget.What == "objects" {
			flag = "--max-input-objects"
		}
		return &exitError{code: 2, err: fmt.Errorf("cannot read input (raise the budget with %s):\n%w", flag, indent(err))}
	}
	return &exitError{code: 2, err: fmt.Errorf("cannot read input:\n%w", indent(err))}
}

// manifestSnapshot reads the manifest inputs within the budget of opts. With
// keepSources it returns them as read (once: the bytes scanned are the bytes hashed).
func manifestSnapshot(files []string, opts manifests.Options, keepSources bool, stdin io.Reader) (*auditor.Snapshot, []manifests.Source, error) {
	now := time.Now()
	var objs []manifests.Object
	var srcs []manifests.Source
	var err error
	if keepSources {
		// Evidence hashes the very bytes it scanned: read each input whole, once.
		var lerr, derr error
		srcs, lerr = manifests.Load(files, stdin, opts)
		objs, derr = manifests.DecodeSources(srcs, opts)
		err = errors.Join(lerr, derr)
	} else {
		// A scan streams its input, document by document, within the budget.
		objs, err = manifests.ReadWith(files, stdin, opts)
	}
	if err != nil {
		return nil, nil, inputError(err)
	}
	snap, err := manifests.Snapshot(objs)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: fmt.Errorf("input is not valid Kubernetes objects:\n%w", indent(err))}
	}
	snap.Now = now
	return snap, srcs, nil
}

// liveSnapshot syncs the live cluster's caches once, within timeout, and snapshots them.
func liveSnapshot(ctx context.Context, g *globalFlags, cfg auditor.Config, in auditInput, log *slog.Logger) (*auditor.Snapshot, error) {
	timeout := in.timeout
	rc, err := g.restConfig("use -f to audit manifests")
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	src, err := live.New(rc, live.Options{Config: cfg})
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	// The source runs until this one-off snapshot is taken, and is joined before return.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(runCtx) }()
	defer func() { stop(); <-done }()
	stopProgress := func() {}
	if in.progress != nil {
		stopProgress = showProgress(in.progress, in.tty, src.ResourceStates)
	}
	err = src.WaitForSync(ctx)
	stopProgress() // before anything else is written to the terminal
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	if src.Stale() {
		return nil, &exitError{code: 2, err: errors.New("the API server is unreachable")}
	}
	log.Info("caches synced", "host", rc.Host)
	if len(in.namespaces) > 0 {
		snap, err := src.PartialSnapshot(time.Now(), in.namespaces)
		if snap != nil {
			snap.Scope = in.namespaces
		}
		return snap, err
	}
	return src.Snapshot(time.Now())
}

// indent prefixes every joined error line so a list of input errors reads as a list.
func indent(err error) error {
	var b []byte
	for _, line := range splitLines(err.Error()) {
		b = append(b, "  "...)
		b = append(b, line...)
		b = append(b, '\n')
	}
	return errors.New(string(b[:len(b)-1]))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
