// Package policyreport turns findings into the policy reports Policy Reporter and
// kubectl read: openreports.io/v1alpha1 Report and ClusterReport, or
// wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport. One report per
// namespace holds the findings on namespaced objects, one cluster report the others and
// a pass result for every rule of a control judged enforced. It is pure: `scan -o
// policyreport` prints what it builds, the daemon's writer applies it.
package policyreport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"time"

	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// API is the report API group a report is written in.
type API string

const (
	// OpenReports is openreports.io/v1alpha1 (Report, ClusterReport): what Policy
	// Reporter reads since 3.2 and Kyverno writes with --openreportsEnabled.
	OpenReports API = "openreports"
	// WGPolicy is wgpolicyk8s.io/v1alpha2 (PolicyReport, ClusterPolicyReport): the only
	// API Policy Reporter before 3.2 reads.
	WGPolicy API = "wgpolicyk8s"
)

// APIs lists the report APIs, the default first.
var APIs = []API{OpenReports, WGPolicy}

// ParseAPI reads a --report-api value.
func ParseAPI(s string) (API, error) {
	for _, a := range APIs {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("%q, want one of %s, %s", s, OpenReports, WGPolicy)
}

// Resources are the API resources of the namespaced and the cluster report.
func (a API) Resources() (namespaced, cluster schema.GroupVersionResource) {
	if a == WGPolicy {
		gv := schema.GroupVersion{Group: "wgpolicyk8s.io", Version: "v1alpha2"}
		return gv.WithResource("policyreports"), gv.WithResource("clusterpolicyreports")
	}
	gv := orv1.SchemeGroupVersion
	return gv.WithResource("reports"), gv.WithResource("clusterreports")
}

func (a API) kinds() (namespaced, cluster string) {
	if a == WGPolicy {
		return "PolicyReport", "ClusterPolicyReport"
	}
	return "Report", "ClusterReport"
}

const (
	// Source names the auditor in every report and result: Policy Reporter groups and
	// filters by it.
	Source = "enforcement-auditor"
	// Name is every report's name (one per namespace, one cluster report).
	Name = "enforcement-auditor"
	// ManagedByLabel marks the reports the auditor owns; the writer only deletes those.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// MaxResults caps the results of one report (worst first) so it stays far below
	// the API server's object size limit; a report cut short says so in its
	// configuration (openreports.io) and the summary still counts every result.
	MaxResults = 2000
)

// Property keys of a result.
const (
	// PropResultID is the key Policy Reporter takes a result's ID from (its
	// v1alpha2.ResultIDKey): the finding's fingerprint, stable across messages.
	PropResultID    = "resultID"
	PropFingerprint = "fingerprint"
	PropRemediation = "remediation"
	PropControl     = "controlState"
	PropLocation    = "location"
	PropWaiver      = "waiverReason"
	PropWaiverUntil = "waiverUntil"
)

// category is the short name of each control Policy Reporter shows as the category.
var category = map[auditor.Control]string{
	auditor.SR1: "SR1 budget path",
	auditor.SR2: "SR2 GPU quota",
	auditor.SR3: "SR3 fail-closed budgets",
}

// Input is what the reports are built from.
type Input struct {
	// Findings are the open findings with their first-seen time, the time a result
	// says it was found (the time of the evaluation when zero).
	Findings []store.Record
	// Controls are the control states: every rule of an enforced control gets a pass.
	Controls map[auditor.Control]auditor.ControlState
	// Rules are the rules evaluated, for the pass results.
	Rules []auditor.RuleMeta
	// At is the evaluation time: the timestamp of pass results.
	At time.Time
	// Judged lists, per control, what its rules judged (auditor.Evaluation.Judged): a
	// rule that passes gets one pass result per object, with the object as resource.
	Judged map[auditor.Control][]auditor.ObjectRef
}

// Report is one report before it is rendered in an API: Namespace "" is the cluster report.
type Report struct {
	Namespace string
	Results   []orv1.ReportResult
	Summary   orv1.ReportSummary
	// Omitted counts results left out by MaxResults.
	Omitted int
}

// Build returns the reports of the input: the namespaces' in name order, then the
// cluster report. A namespace without results has no report; the cluster report is
// there whenever any result is.
func Build(in Input) []Report {
	by := map[string]*Report{}
	get := func(ns string) *Report {
		r, ok := by[ns]
		if !ok {
			r = &Report{Namespace: ns}
			by[ns] = r
		}
		return r
	}
	recs := append([]store.Record(nil), in.Findings...)
	sort.SliceStable(recs, func(i, j int) bool { return auditor.Less(&recs[i].Finding, &recs[j].Finding) })
	for i := range recs {
		ns := ""
		if o := recs[i].Object; o != nil {
			ns = o.Namespace
		}
		get(ns).add(findingResult(&recs[i], in.At))
	}
	// A rule with an open finding (waived, or below what violates) has no pass result
	// anywhere: its findings say what it found, in every report alike.
	found := map[string]bool{}
	for i := range recs {
		found[recs[i].Rule] = true
	}
	rules := append([]auditor.RuleMeta(nil), in.Rules...)
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	for _, c := range auditor.Controls {
		if in.Controls[c] != auditor.Enforced {
			continue
		}
		for _, m := range rules {
			if m.Control != c || found[m.ID] {
				continue
			}
			if len(in.Judged[c]) == 0 {
				get("").add(passResult(m, nil, in.At))
				continue
			}
			for i := range in.Judged[c] {
				o := &in.Judged[c][i]
				get(o.Namespace).add(passResult(m, o, in.At))
			}
		}
	}
	out := make([]Report, 0, len(by))
	for _, r := range by {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Namespace == "") != (out[j].Namespace == "") {
			return out[j].Namespace == ""
		}
		return out[i].Namespace < out[j].Namespace
	})
	return out
}

func (r *Report) add(res orv1.ReportResult) {
	switch res.Result {
	case "pass":
		r.Summary.Pass++
	case "fail":
		r.Summary.Fail++
	case "skip":
		r.Summary.Skip++
	}
	if len(r.Results) >= MaxResults {
		r.Omitted++
		return
	}
	r.Results = append(r.Results, res)
}

// severity maps a severity to the report severity enum (critical, high, medium, low, info).
func severity(s auditor.Severity) orv1.ResultSeverity { return orv1.ResultSeverity(s.String()) }

func timestamp(t time.Time) metav1.Timestamp {
	if t.IsZero() {
		return metav1.Timestamp{}
	}
	return metav1.Timestamp{Seconds: t.Unix()}
}

// findingResult is a fail result, or skip when a waiver accepts the finding.
func findingResult(rec *store.Record, at time.Time) orv1.ReportResult {
	f := &rec.Finding
	found := rec.FirstSeen
	if found.IsZero() {
		found = at
	}
	fp := f.Fingerprint()
	res := orv1.ReportResult{
		Source:      Source,
		Policy:      string(f.Control),
		Rule:        f.Rule,
		Category:    category[f.Control],
		Severity:    severity(f.Severity),
		Timestamp:   timestamp(found),
		Result:      "fail",
		Scored:      true,
		Description: f.Message,
		Properties:  map[string]string{PropResultID: fp, PropFingerprint: fp},
	}
	if f.Remediation != "" {
		res.Properties[PropRemediation] = f.Remediation
	}
	if o := f.Object; o != nil {
		res.Subjects = []corev1.ObjectReference{{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}}
	}
	if l := f.Location; l != nil && l.File != "" {
		res.Properties[PropLocation] = fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	if f.Waived() {
		res.Result = "skip"
		res.Properties[PropWaiver] = f.Waiver.Reason
		if f.Waiver.Until != nil {
			res.Properties[PropWaiverUntil] = f.Waiver.Until.UTC().Format(time.RFC3339)
		}
	}
	return res
}

// passResult says a rule of an enforced control found nothing on an object of the
// control's scope (nil: the control as a whole), in the words of the rule's Pass.
func passResult(m auditor.RuleMeta, obj *auditor.ObjectRef, at time.Time) orv1.ReportResult {
	id := "pass|" + string(m.Control) + "|" + m.ID
	if obj != nil {
		id += "|" + obj.Kind + "|" + obj.Namespace + "|" + obj.Name
	}
	sum := sha256.Sum256([]byte(id))
	msg := fmt.Sprintf("%s is enforced: %s found nothing", m.Control, m.ID)
	if m.Pass != "" {
		msg = fmt.Sprintf("%s is enforced: %s", m.Control, m.Pass)
	}
	res := orv1.ReportResult{
		Source:      Source,
		Policy:      string(m.Control),
		Rule:        m.ID,
		Category:    category[m.Control],
		Severity:    severity(m.Severity),
		Timestamp:   timestamp(at),
		Result:      "pass",
		Scored:      true,
		Description: msg,
		Properties:  map[string]string{PropResultID: hex.EncodeToString(sum[:8]), PropControl: string(auditor.Enforced)},
	}
	if obj != nil {
		res.Subjects = []corev1.ObjectReference{{APIVersion: obj.APIVersion, Kind: obj.Kind, Namespace: obj.Namespace, Name: obj.Name}}
	}
	return res
}

// Object renders the report as an object of the API, ready to marshal or apply.
func (r *Report) Object(api API) any {
	nsKind, clKind := api.kinds()
	nsRes, _ := api.Resources()
	tm := metav1.TypeMeta{APIVersion: nsRes.GroupVersion().String(), Kind: nsKind}
	om := metav1.ObjectMeta{Name: Name, Namespace: r.Namespace, Labels: map[string]string{
		ManagedByLabel: Source, "app.kubernetes.io/name": "enforcement-auditor"}}
	if r.Namespace == "" {
		tm.Kind = clKind
	}
	results := r.Results
	if results == nil {
		results = []orv1.ReportResult{}
	}
	if api == WGPolicy {
		return &PolicyReport{TypeMeta: tm, ObjectMeta: om, Summary: r.Summary, Results: results}
	}
	var cfg *orv1.ReportConfiguration
	if r.Omitted > 0 {
		cfg = &orv1.ReportConfiguration{Limits: orv1.Limits{MaxResults: MaxResults}}
	}
	if r.Namespace == "" {
		return &orv1.ClusterReport{TypeMeta: tm, ObjectMeta: om, Source: Source, Configuration: cfg, Summary: r.Summary, Results: results}
	}
	return &orv1.Report{TypeMeta: tm, ObjectMeta: om, Source: Source, Configuration: cfg, Summary: r.Summary, Results: results}
}

// PolicyReport is a wgpolicyk8s.io/v1alpha2 PolicyReport or ClusterPolicyReport (the
// two have the same fields). Its results have the shape of openreports.io's, field for
// field: the report has no source of its own, every result carries it.
type PolicyReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Summary           orv1.ReportSummary  `json:"summary"`
	Results           []orv1.ReportResult `json:"results"`
}

// WriteYAML writes the reports as one multi-document YAML stream kubectl applies.
func WriteYAML(w io.Writer, api API, reports []Report) error {
	for i := range reports {
		b, err := yaml.Marshal(reports[i].Object(api))
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "---\n"); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
