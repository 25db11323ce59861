// Package prometheus exports the auditor's state as Prometheus metrics: a custom
// Collector on a private registry that renders from the current findings, the last
// evaluation and the sources at scrape time, so no series goes stale, plus the
// self-observability the evaluation loop feeds through engine.Observer.
//
// Naming follows kube-state-metrics: one prefix, base units, _total counters, state
// sets (one series per state, 1 for the current one), _info gauges, and no unbounded
// label without a cap whose overflow is counted. docs/telemetry-metrics.md lists every
// metric.
package prometheus

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// Prefix starts every metric name the auditor exports.
const Prefix = "enforcement_auditor_"

// SourceStatus is what the live source tells about its informers. The manifest source
// has none (Options.Sources nil).
type SourceStatus interface {
	// ResourceStates returns the state of each resource ID (auditor.Resource*).
	ResourceStates() map[string]auditor.Availability
	// ListWatchErrors returns the list/watch errors per resource ID since start.
	ListWatchErrors() map[string]uint64
	// Stale reports that the API server is unreachable and the auditor serves the last
	// known findings.
	Stale() bool
}

// BuildInfo labels enforcement_auditor_build_info.
type BuildInfo struct {
	Version, Revision, GoVersion string
}

// Options configure a Collector. Every field but Store and Rules may be zero.
type Options struct {
	// Store publishes the evaluations: each scrape renders one store.State whole
	// (findings, control states and facts of the same evaluation).
	Store *store.Store
	// Rules is every known rule (rules.Catalogue()): each gets its series even when clean.
	Rules []auditor.RuleMeta
	// Sources may be nil (offline scan).
	Sources SourceStatus
	// Consumers are the store's subscribers (the event emitter): each reports the
	// published states it skipped because a newer one replaced it in its mailbox.
	Consumers []*store.Subscription
	// OTelDropped returns the OpenTelemetry events dropped since start; nil when OTel
	// export is off (the metric is then absent).
	OTelDropped func() uint64
	// Evidence reports the periodic evidence writer (nil when it is off).
	Evidence EvidenceStatus
	// Reports reports the policy report writer (nil when --reports is off).
	Reports ReportsStatus
	// IsLeader reports leadership under --leader-elect (nil: the metric is absent).
	IsLeader func() bool
	// MaxFindingSeries caps enforcement_auditor_finding; zero or negative exports none
	// (all counted in enforcement_auditor_finding_series_dropped).
	MaxFindingSeries int
	Build            BuildInfo
}

// Collector renders the metrics. It is an unchecked collector (Describe sends nothing):
// the fact gauges are only known after an evaluation. It guards label consistency
// itself, so a scrape never fails on a rule's odd fact.
type Collector struct {
	opts Options

	duration prom.Histogram
	errors   prom.Counter

	mu          sync.Mutex
	lastSuccess time.Time
}

var _ prom.Collector = (*Collector)(nil)

// Metric names (without Prefix for the fixed ones declared with desc).
var (
	descFindings       = desc("findings", "Open findings not covered by a waiver, by rule and severity. Every known rule has a series for every severity (0 when none).", "rule", "control", "severity")
	descFindingsWaived = desc("findings_waived", "Open findings covered by an active waiver, by rule. Every known rule has a series (0 when none).", "rule", "control")
	descFinding        = desc("finding", "Open findings per object, rule and severity (usually 1; more when a rule reports several places on one object). Capped at metrics.maxFindingSeries series, worst severity first.", "rule", "control", "severity", "namespace", "kind", "name", "waived")
	descDropped        = desc("finding_series_dropped", "Open findings left out of enforcement_auditor_finding by the series cap now.")
	descDormant        = desc("dormant_findings", "Findings of the controls the configuration does not claim (dormant: not-applicable, they fail nothing and page nobody), not waived, by rule and severity: what would fail were the control claimed. Every rule of a dormant control has a series for every severity (0 when none); no series when every control is claimed. Not for alerting.", "rule", "control", "severity")
	descControl        = desc("control_status", "State set of each control: 1 for the current state (enforced, violated, unknown, not-applicable), 0 for the others. Unknown before the first evaluation and while the auditor is stale.", "control", "state")
	descFactsSkipped   = desc("facts_skipped", "Facts of the last evaluation not exported because of an invalid name or labels, label names inconsistent with the first fact of the metric, or a duplicate label set.")
	descBuild          = desc("build_info", "Build of the auditor; always 1.", "version", "revision", "goversion")
	descLastSuccess    = desc("last_evaluation_success_timestamp_seconds", "Unix time when the last successful evaluation completed; absent before the first.")
	descSyncState      = desc("resource_sync_state", "State set of each watched resource: 1 for the current state (synced, not_served, forbidden, pending, failing), 0 for the others.", "resource", "state")
	descListWatchErrs  = desc("list_watch_errors_total", "List and watch errors per resource since start.", "resource")
	descStale          = desc("stale", "1 when the API server is unreachable and the auditor serves the last known findings, else 0.")
	descInconclusive   = desc("rule_inconclusive", "1 when the rule could not fully judge in the last evaluation (an input not visible, unexpected input); 1 for every rule before the first evaluation.", "rule", "control")
	descOTelDropped    = desc("otel_events_dropped_total", "OpenTelemetry finding events dropped since start (queue full or export failed).")
	descStatesSkipped  = desc("published_states_skipped_total", "Published evaluations a consumer skipped because a newer one replaced it before it was taken (the consumer then works from the newer, complete state: nothing is lost, transitions are coalesced).", "consumer")
	descEvidenceErrs   = desc("evidence_write_errors_total", "Evidence documents that could not be written (directory unwritable or full) since start.")
	descLeader         = desc("leader", "1 when this replica is the elected leader (emits events, writes evidence, probes), else 0. Absent without --leader-elect.")
	descEvidenceLast   = desc("evidence_last_write_success_timestamp_seconds", "When the last evidence document was written (0 before the first).")
	descEvidenceUnsign = desc("evidence_unsigned", "1 when the last evidence attestation written carries no signature (no --signing-key: UNSIGNED evidence), else 0.")
	descReportsWrites  = desc("reports_writes_total", "Policy reports applied or deleted since start.")
	descReportsErrs    = desc("reports_write_errors_total", "Policy report applies and deletes that failed since start.")
	descReportsLast    = desc("reports_last_sync_success_timestamp_seconds", "When the policy reports were last fully in step with the findings (0 before the first time).")
	descReportsServed  = desc("reports_api_served", "1 when the API server serves the report resources --reports writes, else 0 (the writer waits for the CRDs).")
)

// ReportsStatus reports the policy report writer.
type ReportsStatus interface {
	Writes() uint64
	Errors() uint64
	LastSuccess() time.Time
	Served() bool
}

// EvidenceStatus reports the periodic evidence writer.
type EvidenceStatus interface {
	Errors() uint64
	LastSuccess() time.Time
	Unsigned() bool
}

func desc(name, help string, labels ...string) *prom.Desc {
	return prom.NewDesc(Prefix+name, help, labels, nil)
}

// fixedNames are the families the collector owns; a fact may not take one of them.
var fixedNames = map[string]bool{}

func init() {
	for _, n := range []string{"findings", "findings_waived", "finding", "finding_series_dropped", "control_status",
		"facts_skipped", "build_info", "last_evaluation_success_timestamp_seconds", "resource_sync_state",
		"list_watch_errors_total", "stale", "rule_inconclusive", "otel_events_dropped_total", "published_states_skipped_total", "evaluation_errors_total",
		"evidence_write_errors_total", "evidence_last_write_success_timestamp_seconds", "evidence_unsigned", "leader",
		"reports_writes_total", "reports_write_errors_total", "reports_last_sync_success_timestamp_seconds", "reports_api_served"} {
		fixedNames[Prefix+n] = true
	}
	// The histogram's family and the sample names the text format derives from it.
	for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
		fixedNames[Prefix+"evaluation_duration_seconds"+suffix] = true
	}
}

// EvaluationBuckets are the evaluation duration histogram's upper bounds (seconds): an
// evaluation over informer caches takes milliseconds, a large cluster seconds.
var EvaluationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// New returns a collector; register it with NewRegistry.
func New(opts Options) *Collector {
	return &Collector{
		opts: opts,
		duration: prom.NewHistogram(prom.HistogramOpts{
			Name:    Prefix + "evaluation_duration_seconds",
			Help:    "Time to evaluate every rule over one snapshot.",
			Buckets: EvaluationBuckets,
		}),
		errors: prom.NewCounter(prom.CounterOpts{
			Name: Prefix + "evaluation_errors_total",
			Help: "Evaluations that could not run (no snapshot); the last findings are kept.",
		}),
	}
}

// ObserveEvaluation implements engine.Observer: a successful evaluation feeds the
// duration histogram and the last success timestamp (its completion time), a failed one
// the error counter.
func (c *Collector) ObserveEvaluation(ev *auditor.Evaluation, err error) {
	if err != nil {
		c.errors.Inc()
		return
	}
	if ev == nil {
		return
	}
	c.duration.Observe(ev.Duration.Seconds())
	done := ev.At.Add(ev.Duration)
	c.mu.Lock()
	if done.After(c.lastSuccess) {
		c.lastSuccess = done
	}
	c.mu.Unlock()
}

// Describe sends nothing: the collector is unchecked (see Collector).
func (c *Collector) Describe(chan<- *prom.Desc) {}

// Collect renders every metric from the current state.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	var ev *auditor.Evaluation
	var open []store.Record
	if c.opts.Store != nil {
		st := c.opts.Store.State()
		ev, open = st.Evaluation, st.Open
	}
	stale := c.opts.Sources != nil && c.opts.Sources.Stale()

	c.collectFindings(ch, open)
	c.collectFindingSeries(ch, open)
	c.collectControls(ch, ev, stale)
	c.collectDormant(ch, ev)
	c.collectInconclusive(ch, ev)
	if ev != nil {
		collectFacts(ch, ev.Facts)
	}
	c.collectSelf(ch, stale)
}

func gauge(ch chan<- prom.Metric, d *prom.Desc, v float64, labels ...string) {
	emit(ch, d, prom.GaugeValue, v, labels...)
}

// emit sends a const metric; a label value the client refuses (invalid UTF-8) is
// repaired rather than failing the scrape.
func emit(ch chan<- prom.Metric, d *prom.Desc, t prom.ValueType, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = strings.ToValidUTF8(l, "\uFFFD")
	}
	if m, err := prom.NewConstMetric(d, t, v, labels...); err == nil {
		ch <- m
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ruleKey is one (rule, control) pair: a rule's findings normally carry the rule's own
// control, but waiver-invalid reports on the control of the waived rule.
// sortRuleKeys orders series keys by rule, then control, so the exposition is stable.
func sortRuleKeys(keys []ruleKey) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].rule != keys[j].rule {
			return keys[i].rule < keys[j].rule
		}
		return keys[i].control < keys[j].control
	})
}

type ruleKey struct {
	rule    string
	control auditor.Control
}

// collectFindings exports the per-rule counts. Scheme: every known rule gets one series
// per severity (0 when none) under its own control, so series never appear or vanish as
// findings come and go (kube-state-metrics' state-set practice; 5 severities keep the
// cardinality at 5 x rules). Findings under another control than the rule's, or of a
// rule not in the catalogue, add the series they need.
func (c *Collector) collectFindings(ch chan<- prom.Metric, open []store.Record) {
	counts := map[ruleKey]map[auditor.Severity]int{}
	waived := map[ruleKey]int{}
	var keys []ruleKey
	add := func(k ruleKey) {
		if _, ok := counts[k]; !ok {
			counts[k] = map[auditor.Severity]int{}
			keys = append(keys, k)
		}
	}
	for _, m := range c.opts.Rules {
		add(ruleKey{m.ID, m.Control})
	}
	for i := range open {
		f := &open[i].Finding
		k := ruleKey{f.Rule, f.Control}
		add(k)
		if f.Waived() {
			waived[k]++
		} else {
			counts[k][f.Severity]++
		}
	}
	sortRuleKeys(keys)
	for _, k := range keys {
		sevs := append([]auditor.Severity(nil), auditor.Severities...)
		for s := range counts[k] {
			if s < auditor.SeverityInfo || s > auditor.SeverityCritical {
				sevs = append(sevs, s) // out of range: still counted, never hidden
			}
		}
		for _, s := range sevs {
			gauge(ch, descFindings, float64(counts[k][s]), k.rule, string(k.control), s.String())
		}
		gauge(ch, descFindingsWaived, float64(waived[k]), k.rule, string(k.control))
	}
}

// findingLabels are the labels of one enforcement_auditor_finding series.
type findingLabels struct {
	rule, control, severity, namespace, kind, name, waived string
}

// collectFindingSeries exports one series per open finding (findings that differ only by
// Discriminator share a series, its value counting them), worst severity first, then
// unwaived before waived, up to MaxFindingSeries series. The rest is counted, as findings,
// in finding_series_dropped: a gauge, because it is the current overflow and falls when
// findings resolve (a counter would grow with every scrape).
func (c *Collector) collectFindingSeries(ch chan<- prom.Metric, open []store.Record) {
	recs := make([]*store.Record, 0, len(open))
	for i := range open {
		recs = append(recs, &open[i])
	}
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := &recs[i].Finding, &recs[j].Finding
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Waived() != b.Waived() {
			return !a.Waived()
		}
		return auditor.Less(a, b)
	})
	var order []findingLabels
	count := map[findingLabels]int{}
	dropped := 0
	for _, r := range recs {
		l := findingLabels{rule: r.Rule, control: string(r.Control), severity: r.Severity.String(), waived: fmt.Sprint(r.Waived())}
		if r.Object != nil {
			l.namespace, l.kind, l.name = r.Object.Namespace, r.Object.Kind, r.Object.Name
		}
		if _, ok := count[l]; !ok {
			if len(order) >= c.opts.MaxFindingSeries {
				dropped++
				continue
			}
			order = append(order, l)
		}
		count[l]++
	}
	for _, l := range order {
		gauge(ch, descFinding, float64(count[l]), l.rule, l.control, l.severity, l.namespace, l.kind, l.name, l.waived)
	}
	gauge(ch, descDropped, float64(dropped))
}

// collectDormant exports the readiness of the controls the configuration does not claim:
// their findings not waived, per rule and severity, in a series of its own that the
// alerting rules do not select (enforcement_auditor_findings holds claimed controls only).
func (c *Collector) collectDormant(ch chan<- prom.Metric, ev *auditor.Evaluation) {
	if ev == nil || len(ev.Unclaimed) == 0 {
		return
	}
	counts := map[ruleKey]map[auditor.Severity]int{}
	var keys []ruleKey
	add := func(k ruleKey) {
		if _, ok := counts[k]; !ok {
			counts[k] = map[auditor.Severity]int{}
			keys = append(keys, k)
		}
	}
	for _, m := range c.opts.Rules {
		if slices.Contains(ev.Unclaimed, m.Control) {
			add(ruleKey{m.ID, m.Control})
		}
	}
	for i := range ev.Dormant {
		f := &ev.Dormant[i]
		if f.Waived() || f.Severity < auditor.SeverityInfo || f.Severity > auditor.SeverityCritical {
			continue
		}
		k := ruleKey{f.Rule, f.Control}
		add(k)
		counts[k][f.Severity]++
	}
	sortRuleKeys(keys)
	for _, k := range keys {
		for _, s := range auditor.Severities {
			gauge(ch, descDormant, float64(counts[k][s]), k.rule, string(k.control), s.String())
		}
	}
}

// collectControls exports the control state set.
func (c *Collector) collectControls(ch chan<- prom.Metric, ev *auditor.Evaluation, stale bool) {
	for _, ctl := range auditor.Controls {
		cur := auditor.Unknown
		if ev != nil && !stale {
			if st, ok := ev.Controls[ctl]; ok {
				cur = st
			}
		}
		for _, st := range auditor.ControlStates {
			gauge(ch, descControl, boolValue(st == cur), string(ctl), string(st))
		}
	}
}

// collectInconclusive exports, for every known rule, whether it could judge.
func (c *Collector) collectInconclusive(ch chan<- prom.Metric, ev *auditor.Evaluation) {
	metas := append([]auditor.RuleMeta(nil), c.opts.Rules...)
	sort.SliceStable(metas, func(i, j int) bool { return metas[i].ID < metas[j].ID })
	seen := map[string]bool{}
	for _, m := range metas {
		if seen[m.ID] {
			continue
		}
		seen[m.ID] = true
		v := true
		if ev != nil {
			v = len(ev.Inconclusive[m.ID]) > 0
		}
		gauge(ch, descInconclusive, boolValue(v), m.ID, string(m.Control))
	}
}

func (c *Collector) collectSelf(ch chan<- prom.Metric, stale bool) {
	b := c.opts.Build
	gauge(ch, descBuild, 1, b.Version, b.Revision, b.GoVersion)
	c.duration.Collect(ch)
	c.errors.Collect(ch)
	c.mu.Lock()
	last := c.lastSuccess
	c.mu.Unlock()
	if !last.IsZero() {
		gauge(ch, descLastSuccess, float64(last.UnixNano())/1e9)
	}
	gauge(ch, descStale, boolValue(stale))
	if c.opts.OTelDropped != nil {
		emit(ch, descOTelDropped, prom.CounterValue, float64(c.opts.OTelDropped()))
	}
	for _, sub := range c.opts.Consumers {
		emit(ch, descStatesSkipped, prom.CounterValue, float64(sub.Coalesced()), sub.Name)
	}
	if c.opts.IsLeader != nil {
		v := 0.0
		if c.opts.IsLeader() {
			v = 1
		}
		emit(ch, descLeader, prom.GaugeValue, v)
	}
	if c.opts.Evidence != nil {
		emit(ch, descEvidenceErrs, prom.CounterValue, float64(c.opts.Evidence.Errors()))
		last := 0.0
		if t := c.opts.Evidence.LastSuccess(); !t.IsZero() {
			last = float64(t.UnixNano()) / 1e9
		}
		emit(ch, descEvidenceLast, prom.GaugeValue, last)
		unsigned := 0.0
		if c.opts.Evidence.Unsigned() {
			unsigned = 1
		}
		emit(ch, descEvidenceUnsign, prom.GaugeValue, unsigned)
	}
	if r := c.opts.Reports; r != nil {
		emit(ch, descReportsWrites, prom.CounterValue, float64(r.Writes()))
		emit(ch, descReportsErrs, prom.CounterValue, float64(r.Errors()))
		last := 0.0
		if t := r.LastSuccess(); !t.IsZero() {
			last = float64(t.UnixNano()) / 1e9
		}
		emit(ch, descReportsLast, prom.GaugeValue, last)
		emit(ch, descReportsServed, prom.GaugeValue, boolValue(r.Served()))
	}
	if c.opts.Sources == nil {
		return
	}
	states := c.opts.Sources.ResourceStates()
	for _, r := range sortedKeys(states) {
		for _, st := range resourceStates {
			gauge(ch, descSyncState, boolValue(states[r].State == st), r, string(st))
		}
	}
	errs := c.opts.Sources.ListWatchErrors()
	for _, r := range sortedKeys(errs) {
		emit(ch, descListWatchErrs, prom.CounterValue, float64(errs[r]), r)
	}
}

// resourceStates is the state set of resource_sync_state. A state outside it (a source
// bug) shows as all zeros rather than as a new label value.
var resourceStates = []auditor.AvailabilityState{auditor.Synced, auditor.NotServed, auditor.Forbidden, auditor.Pending, auditor.Failing}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// collectFacts renders each fact as gauge enforcement_auditor_<Metric>. The first fact
// of a metric fixes its help and label names; a later fact with other label names (in
// any order they are matched by name), an invalid or reserved name, or a label set seen
// before is skipped and counted in facts_skipped.
func collectFacts(ch chan<- prom.Metric, facts []auditor.Fact) {
	type family struct {
		desc   *prom.Desc
		labels []string
		seen   map[string]bool
	}
	families := map[string]*family{}
	skipped := 0
	for _, f := range facts {
		name := Prefix + f.Metric
		if !metricNameRE.MatchString(f.Metric) || fixedNames[name] {
			skipped++
			continue
		}
		values, names, ok := factLabels(f.Labels)
		if !ok {
			skipped++
			continue
		}
		fam := families[name]
		if fam == nil {
			help := f.Help
			if help == "" {
				help = "Fact " + f.Metric + " published by the auditor's rules."
			}
			fam = &family{desc: prom.NewDesc(name, help, names, nil), labels: names, seen: map[string]bool{}}
			families[name] = fam
		}
		ordered, ok := reorder(fam.labels, names, values)
		if !ok {
			skipped++
			continue
		}
		id := strings.Join(ordered, "\xff")
		if fam.seen[id] {
			skipped++
			continue
		}
		m, err := prom.NewConstMetric(fam.desc, prom.GaugeValue, f.Value, ordered...)
		if err != nil {
			skipped++
			continue
		}
		fam.seen[id] = true
		ch <- m
	}
	gauge(ch, descFactsSkipped, float64(skipped))
}

// factLabels splits a fact's labels, refusing invalid or repeated names.
func factLabels(ls []auditor.Label) (values, names []string, ok bool) {
	seen := map[string]bool{}
	for _, l := range ls {
		if !labelNameRE.MatchString(l.Name) || strings.HasPrefix(l.Name, "__") || seen[l.Name] {
			return nil, nil, false
		}
		seen[l.Name] = true
		names = append(names, l.Name)
		values = append(values, strings.ToValidUTF8(l.Value, "\uFFFD"))
	}
	return values, names, true
}

// reorder returns values in the order of want, or false when the name sets differ.
func reorder(want, names, values []string) ([]string, bool) {
	if len(want) != len(names) {
		return nil, false
	}
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	out := make([]string, len(want))
	for i, n := range want {
		j, ok := idx[n]
		if !ok {
			return nil, false
		}
		out[i] = values[j]
	}
	return out, true
}
