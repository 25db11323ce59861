package evidence

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// DefaultMaxObjectsPerCheck bounds each check's object list (and each probe list).
const DefaultMaxObjectsPerCheck = 100

// maxReasonLength bounds one inconclusive reason (a rule's panic carries a stack).
const maxReasonLength = 1000

// Input is everything a document is built from. Build reads no clock and no cluster.
type Input struct {
	GeneratedAt    time.Time
	AuditorVersion string
	// Evaluation is the latest evaluation; its Snapshot is what the checks judged.
	Evaluation *auditor.Evaluation
	// Records are the store's open records (Store.Open()): they give the findings their
	// first- and last-seen times. The findings themselves are the evaluation's.
	Records []store.Record
	// Rules are the rules the evaluation ran.
	Rules []auditor.Rule
	// RuleChanges is what the configuration and the rule flags turned off or changed
	// (auditor.SelectRules): the document lists it.
	RuleChanges auditor.RuleChanges
	Config      auditor.Config
	// Offline marks a manifest scan; SourceFiles lists the inputs scanned with the
	// SHA-256 of the bytes that were decoded (read once: see manifests.Load).
	Offline     bool
	SourceFiles []SourceFile
	// MaxObjectsPerCheck bounds each check's object list: 0 means
	// DefaultMaxObjectsPerCheck, a negative value no bound.
	MaxObjectsPerCheck int
}

// Build assembles and digests the document. It copies no configuration value and no
// object content: objects appear as identity plus SHA-256.
func Build(in Input) (*Document, error) {
	if in.Evaluation == nil {
		return nil, errors.New("evidence: no evaluation yet")
	}
	if in.Evaluation.Snapshot == nil {
		return nil, errors.New("evidence: the evaluation has no snapshot")
	}
	if in.GeneratedAt.IsZero() {
		return nil, errors.New("evidence: GeneratedAt is required")
	}
	if len(in.Rules) == 0 {
		return nil, errors.New("evidence: no rules")
	}
	limit := in.MaxObjectsPerCheck
	if limit == 0 {
		limit = DefaultMaxObjectsPerCheck
	}
	ev, s := in.Evaluation, in.Evaluation.Snapshot

	cfgSum, err := HashCanonical(in.Config)
	if err != nil {
		return nil, fmt.Errorf("evidence: hashing the configuration: %w", err)
	}
	doc := &Document{
		APIVersion:     APIVersion,
		Kind:           Kind,
		GeneratedAt:    in.GeneratedAt.UTC(),
		AuditorVersion: in.AuditorVersion,
		Cluster:        clusterOf(in, s),
		EvaluatedAt:    ev.At.UTC(),
		Config:         ConfigRef{APIVersion: in.Config.APIVersion, SHA256: cfgSum},
		Limits:         Limits{MaxObjectsPerCheck: limit},
		Findings:       []Finding{},
		Waivers:        []Waiver{},
		Facts:          []Fact{},
	}

	// The findings of the controls the configuration does not claim (dormant) are listed
	// too, and fail their checks: the control reads not-applicable, but an auditor sees
	// what would fail were it claimed.
	findings := ev.Findings
	if len(ev.Dormant) > 0 {
		findings = append(slices.Clone(ev.Findings), ev.Dormant...)
		sort.SliceStable(findings, func(i, j int) bool { return auditor.Less(&findings[i], &findings[j]) })
	}
	findings = dedupe(findings)
	seen := make(map[string]store.Record, len(in.Records))
	for _, r := range in.Records {
		seen[r.Key()] = r
	}
	for i := range findings {
		f := &findings[i]
		first, last := ev.At, ev.At
		if r, ok := seen[f.Key()]; ok {
			first, last = r.FirstSeen, r.LastSeen
		}
		fe := Finding{Fingerprint: f.Fingerprint(), Rule: f.Rule, Control: string(f.Control), Severity: f.Severity.String(),
			Object: refOf(f.Object), Message: f.Message, FirstSeen: first.UTC(), LastSeen: last.UTC()}
		if f.Waiver != nil {
			fe.Waiver = &Terms{Reason: f.Waiver.Reason, Until: utcPtr(f.Waiver.Until)}
			doc.Waivers = append(doc.Waivers, Waiver{Fingerprint: fe.Fingerprint, Rule: f.Rule, Object: fe.Object,
				Reason: f.Waiver.Reason, Until: fe.Waiver.Until})
		}
		doc.Findings = append(doc.Findings, fe)
	}

	idx := newObjectIndex(s)
	doc.Resources = resourcesOf(in.Rules, s, idx)
	doc.Controls = controlsOf(in.Rules, ev, findings, idx, limit)
	doc.Probes = probesOf(s, limit)
	doc.RuleChanges = ruleChangesOf(in.RuleChanges)
	for _, f := range ev.Facts {
		fe := Fact{Metric: f.Metric, Labels: make([]Label, 0, len(f.Labels))}
		for _, l := range f.Labels {
			fe.Labels = append(fe.Labels, Label{Name: l.Name, Value: l.Value})
		}
		if !math.IsNaN(f.Value) && !math.IsInf(f.Value, 0) {
			v := f.Value
			fe.Value = &v
		}
		doc.Facts = append(doc.Facts, fe)
	}
	if err := Seal(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func refOf(o *auditor.ObjectRef) *ObjectRef {
	if o == nil {
		return nil
	}
	return &ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// dedupe keeps the first finding per key, as the store does, in the engine's order.
func dedupe(in []auditor.Finding) []auditor.Finding {
	out := make([]auditor.Finding, 0, len(in))
	seen := map[string]bool{}
	for _, f := range in {
		if k := f.Key(); !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return auditor.Less(&out[i], &out[j]) })
	return out
}

func clusterOf(in Input, s *auditor.Snapshot) Cluster {
	if in.Offline {
		files := append([]SourceFile(nil), in.SourceFiles...)
		sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
		return Cluster{ID: OfflineClusterID, Source: SourceManifests, Files: files}
	}
	for _, n := range s.Namespaces {
		if n != nil && n.Name == "kube-system" && n.UID != "" {
			return Cluster{ID: string(n.UID), Source: SourceCluster}
		}
	}
	return Cluster{ID: "unknown", Source: SourceCluster, Note: "the kube-system Namespace (whose UID identifies the cluster) is not in the snapshot"}
}

// resourcesOf lists the visibility of every resource a rule reads, in KnownResources order.
func resourcesOf(rules []auditor.Rule, s *auditor.Snapshot, idx *objectIndex) []Resource {
	used := map[string]bool{}
	for _, r := range rules {
		for _, in := range r.Meta().Inputs {
			used[in] = true
		}
	}
	var order []string
	for _, list := range [][]auditor.ResourceInfo{auditor.KnownResources, auditor.OwnerResources} {
		for _, r := range list {
			if used[r.ID] {
				order = append(order, r.ID)
				delete(used, r.ID)
			}
		}
	}
	var rest []string
	for id := range used {
		rest = append(rest, id)
	}
	sort.Strings(rest)
	out := []Resource{}
	for _, id := range append(order, rest...) {
		a := s.AvailabilityOf(id)
		out = append(out, Resource{ID: id, State: string(a.State), Message: a.Message, Objects: len(idx.of(id))})
	}
	return out
}

func controlsOf(rules []auditor.Rule, ev *auditor.Evaluation, findings []auditor.Finding, idx *objectIndex, limit int) []Control {
	byRule := map[string][]*auditor.Finding{}
	for i := range findings {
		byRule[findings[i].Rule] = append(byRule[findings[i].Rule], &findings[i])
	}
	controls := append([]auditor.Control(nil), auditor.Controls...)
	known := map[auditor.Control]bool{}
	for _, c := range controls {
		known[c] = true
	}
	var extra []auditor.Control
	for _, r := range rules {
		if c := r.Meta().Control; !known[c] {
			known[c] = true
			extra = append(extra, c)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	controls = append(controls, extra...)

	metas := make([]auditor.RuleMeta, 0, len(rules))
	for _, r := range rules {
		metas = append(metas, r.Meta())
	}
	sort.SliceStable(metas, func(i, j int) bool { return metas[i].ID < metas[j].ID })

	out := make([]Control, 0, len(controls))
	for _, c := range controls {
		ctl := Control{ID: string(c), Status: string(auditor.Unknown), Checks: []Check{}}
		if st, ok := ev.Controls[c]; ok {
			ctl.Status = string(st)
		}
		for _, m := range metas {
			if m.Control != c {
				continue
			}
			chk := checkOf(m, byRule[m.ID], ev.Inconclusive[m.ID], idx, limit)
			switch chk.Result {
			case ResultPass:
				ctl.Summary.Pass++
			case ResultFail:
				ctl.Summary.Fail++
			default:
				ctl.Summary.Inconclusive++
			}
			ctl.Checks = append(ctl.Checks, chk)
		}
		out = append(out, ctl)
	}
	return out
}

func checkOf(m auditor.RuleMeta, findings []*auditor.Finding, reasons []string, idx *objectIndex, limit int) Check {
	chk := Check{Rule: m.ID, Title: m.Title, Severity: m.Severity.String(), Result: ResultPass,
		Inputs: append([]string{}, m.Inputs...), Objects: []Object{}}
	violation := false
	named := map[string]bool{}
	for _, f := range findings {
		if f.Waived() {
			chk.Waived++
		} else {
			chk.Findings++
			if f.Severity >= auditor.SeverityMedium {
				violation = true
			}
		}
		if f.Object != nil {
			named[f.Object.Kind+"|"+f.Object.Namespace+"|"+f.Object.Name] = true
		}
	}
	for _, r := range reasons {
		chk.Reasons = append(chk.Reasons, truncate(r, maxReasonLength))
	}
	switch {
	case violation:
		chk.Result = ResultFail
	case len(reasons) > 0:
		chk.Result = ResultInconclusive
	}

	// Objects named by findings first, so that a bound never hides the evidence of a
	// failure; then the rest in input order.
	var first, rest []*snapObject
	dup := map[string]bool{}
	for _, in := range m.Inputs {
		for _, o := range idx.of(in) {
			k := o.key()
			if dup[k] {
				continue
			}
			dup[k] = true
			if named[k] {
				first = append(first, o)
			} else {
				rest = append(rest, o)
			}
		}
	}
	all := append(first, rest...)
	chk.ObjectsTotal = len(all)
	if limit >= 0 && len(all) > limit {
		chk.ObjectsOmitted = len(all) - limit
		all = all[:limit]
	}
	for _, o := range all {
		chk.Objects = append(chk.Objects, o.evidence())
	}
	return chk
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func probesOf(s *auditor.Snapshot, limit int) Probes {
	p := Probes{Network: []NetworkProbe{}, Admission: []AdmissionProbe{}}
	net := append([]auditor.NetworkProbeResult(nil), s.NetworkProbes...)
	sort.SliceStable(net, func(i, j int) bool {
		a, b := net[i], net[j]
		if a.Reachable != b.Reachable {
			return a.Reachable // a reachable target breaks SR1: never omit it
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Address < b.Address
	})
	if limit >= 0 && len(net) > limit {
		p.NetworkOmitted = len(net) - limit
		net = net[:limit]
	}
	for _, r := range net {
		t := r.Target
		p.Network = append(p.Network, NetworkProbe{Namespace: r.Namespace, Target: refOf(&t), Address: r.Address,
			Reachable: r.Reachable, Outcome: r.Outcome, At: r.At.UTC()})
	}
	adm := append([]auditor.AdmissionProbeResult(nil), s.AdmissionProbes...)
	sort.SliceStable(adm, func(i, j int) bool {
		a, b := adm[i], adm[j]
		if a.Admitted != b.Admitted {
			return a.Admitted // an admitted probe pod breaks SR2
		}
		return a.Namespace < b.Namespace
	})
	if limit >= 0 && len(adm) > limit {
		p.AdmissionOmitted = len(adm) - limit
		adm = adm[:limit]
	}
	for _, r := range adm {
		p.Admission = append(p.Admission, AdmissionProbe{Namespace: r.Namespace, Admitted: r.Admitted,
			DeniedBy: r.DeniedBy, Error: r.Error, At: r.At.UTC()})
	}
	return p
}

// ruleChangesOf is what the document says was turned off or changed; nil when nothing.
func ruleChangesOf(c auditor.RuleChanges) *RuleChanges {
	if c.Empty() {
		return nil
	}
	out := &RuleChanges{Off: []RuleOff{}, Severity: []SeverityChange{}}
	for _, o := range c.Off {
		out.Off = append(out.Off, RuleOff{Rule: o.Rule, Control: string(o.Control), By: o.By})
	}
	for _, s := range c.Severity {
		out.Severity = append(out.Severity, SeverityChange{Rule: s.Rule, Control: string(s.Control), From: s.From.String(), To: s.To.String()})
	}
	return out
}
