package waivers

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

var wvNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// wvKnown is a literal catalogue: one rule per control.
var wvKnown = []auditor.RuleMeta{
	{ID: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh},
	{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh},
	{ID: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical},
}

// wvAnn builds waiver annotations; an empty value leaves the annotation out.
func wvAnn(rules, reason, until string) map[string]string {
	m := map[string]string{"team": "ml"}
	if rules != "" {
		m[auditor.WaiveAnnotation] = rules
	}
	if reason != "" {
		m[auditor.WaiveReasonAnnotation] = reason
	}
	if until != "" {
		m[auditor.WaiveUntilAnnotation] = until
	}
	return m
}

func wvPod(ann map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "trainer", Annotations: ann}}
}

func wvCustom(obj map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: obj}
}

// wvWant is what one finding must be: its identity, control and severity exactly, and
// message fragments that name the object, the annotation and the problem.
type wvWant struct {
	key      string
	control  auditor.Control
	severity auditor.Severity
	msg      []string
}

func TestWaiverInvalid(t *testing.T) {
	in30d := wvNow.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	in90d := wvNow.Add(90 * 24 * time.Hour).Format(time.RFC3339)
	in90d1h := wvNow.Add(90*24*time.Hour + time.Hour).Format(time.RFC3339)
	yesterday := wvNow.Add(-24 * time.Hour).Format(time.RFC3339)
	const podKey = "|Pod|team-a|trainer|"

	cases := map[string]struct {
		objs []any
		want []wvWant
	}{
		"valid waiver is not reported": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "benchmark, queue comes in sprint 12", in30d))},
		},
		"reason and expiry without a waive annotation are ignored": {
			objs: []any{wvPod(wvAnn("", "", "tomorrow"))},
		},
		"waive annotation with only separators waives nothing and is ignored": {
			objs: []any{wvPod(wvAnn(" , ,", "", ""))},
		},
		"missing reason is reported on the waived rule's control": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "", in30d))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium,
				msg: []string{"waiver of rule gpu-pod-missing-queue-name (SR2) on Pod/team-a/trainer is invalid",
					auditor.WaiveReasonAnnotation + " is missing or empty", "it waives nothing"}}},
		},
		"blank reason counts as missing": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "   ", in30d))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium,
				msg: []string{auditor.WaiveReasonAnnotation + " is missing or empty"}}},
		},
		"missing expiry is reported: a permanent waiver defeats the maximum": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "accepted", ""))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium,
				msg: []string{auditor.WaiveUntilAnnotation + " is missing: a waiver must expire", "it waives nothing"}}},
		},
		"unparseable expiry is reported with the quoted value": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "accepted", "2026-04-01"))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium,
				msg: []string{auditor.WaiveUntilAnnotation + ` "2026-04-01" is not an RFC 3339 time`, "it waives nothing"}}},
		},
		"expiry beyond the maximum is reported without claiming it waives nothing": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "accepted", in90d1h))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium,
				msg: []string{"is 91 days ahead, beyond the maximum of 90 days (waivers.maxDuration)"}}},
		},
		"expiry exactly at the maximum is valid": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name", "accepted", in90d))},
		},
		"expired waiver is not reported even when otherwise invalid": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-name,no-such-rule", "", yesterday))},
		},
		"several problems are reported in one finding": {
			objs: []any{wvPod(wvAnn("budget-fail-open-in-prod", "", "soon"))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "budget-fail-open-in-prod", control: auditor.SR3, severity: auditor.SeverityMedium,
				msg: []string{"is missing or empty; annotation " + auditor.WaiveUntilAnnotation + ` "soon" is not an RFC 3339 time`}}},
		},
		"one finding per waived rule, each on its own control, duplicates once": {
			objs: []any{wvPod(wvAnn("netpol-default-deny-missing, gpu-pod-missing-queue-name,netpol-default-deny-missing", "", in30d))},
			want: []wvWant{
				{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium, msg: []string{"rule gpu-pod-missing-queue-name (SR2)"}},
				{key: "waiver-invalid" + podKey + "netpol-default-deny-missing", control: auditor.SR1, severity: auditor.SeverityMedium, msg: []string{"rule netpol-default-deny-missing (SR1)"}},
			},
		},
		"unknown rule is low under the rule's own control, even in a valid waiver": {
			objs: []any{wvPod(wvAnn("gpu-pod-missing-queue-nam", "accepted", in30d))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "unknown:gpu-pod-missing-queue-nam", control: auditor.SR1, severity: auditor.SeverityLow,
				msg: []string{`names unknown rule "gpu-pod-missing-queue-nam"`, "waives nothing"}}},
		},
		"unknown rule beside an invalid known one: both reported": {
			objs: []any{wvPod(wvAnn("typo,gpu-pod-missing-queue-name", "", in30d))},
			want: []wvWant{
				{key: "waiver-invalid" + podKey + "gpu-pod-missing-queue-name", control: auditor.SR2, severity: auditor.SeverityMedium, msg: []string{"is missing or empty"}},
				{key: "waiver-invalid" + podKey + "unknown:typo", control: auditor.SR1, severity: auditor.SeverityLow, msg: []string{`unknown rule "typo"`}},
			},
		},
		"very long unknown rule ID is truncated in the message": {
			objs: []any{wvPod(wvAnn(strings.Repeat("x", 300), "accepted", in30d))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "unknown:" + strings.Repeat("x", 300), control: auditor.SR1, severity: auditor.SeverityLow,
				msg: []string{`"` + strings.Repeat("x", 63) + `..."`}}},
		},
		"waiving waiver-invalid itself is refused": {
			objs: []any{wvPod(wvAnn("waiver-invalid", "accepted", in30d))},
			want: []wvWant{{key: "waiver-invalid" + podKey + "waiver-invalid", control: auditor.SR1, severity: auditor.SeverityLow,
				msg: []string{"lists waiver-invalid, which cannot be waived"}}},
		},
		"every kind whose findings can be waived is scanned": {
			objs: []any{
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "serving", Annotations: wvAnn("netpol-default-deny-missing", "", in30d)}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "litellm", Name: "litellm-config", Annotations: wvAnn("budget-fail-open-in-prod", "", in30d)}},
				&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "allow-all", Annotations: wvAnn("netpol-default-deny-missing", "", in30d)}},
				&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium", Annotations: wvAnn("netpol-default-deny-missing", "", in30d)}},
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "litellm", Name: "litellm", Annotations: wvAnn("budget-fail-open-in-prod", "", in30d)}},
				wvCustom(map[string]any{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
					"metadata": map[string]any{"namespace": "litellm", "name": "litellm-db", "annotations": map[string]any{
						auditor.WaiveAnnotation: "budget-fail-open-in-prod", auditor.WaiveUntilAnnotation: in30d}}}),
				&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "no-annotations"}},
			},
			want: []wvWant{
				{key: "waiver-invalid|Cluster|litellm|litellm-db|budget-fail-open-in-prod", control: auditor.SR3, severity: auditor.SeverityMedium, msg: []string{"on Cluster/litellm/litellm-db"}},
				{key: "waiver-invalid|ConfigMap|litellm|litellm-config|budget-fail-open-in-prod", control: auditor.SR3, severity: auditor.SeverityMedium, msg: []string{"on ConfigMap/litellm/litellm-config"}},
				{key: "waiver-invalid|DaemonSet|kube-system|cilium|netpol-default-deny-missing", control: auditor.SR1, severity: auditor.SeverityMedium, msg: []string{"on DaemonSet/kube-system/cilium"}},
				{key: "waiver-invalid|Deployment|litellm|litellm|budget-fail-open-in-prod", control: auditor.SR3, severity: auditor.SeverityMedium, msg: []string{"on Deployment/litellm/litellm"}},
				{key: "waiver-invalid|Namespace||serving|netpol-default-deny-missing", control: auditor.SR1, severity: auditor.SeverityMedium, msg: []string{"on Namespace/serving"}},
				{key: "waiver-invalid|NetworkPolicy|serving|allow-all|netpol-default-deny-missing", control: auditor.SR1, severity: auditor.SeverityMedium, msg: []string{"on NetworkPolicy/serving/allow-all"}},
			},
		},
		"custom object with a non-string waive value is reported, not skipped": {
			objs: []any{wvCustom(map[string]any{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
				"metadata": map[string]any{"name": "require-kueue-queue-name", "annotations": map[string]any{
					auditor.WaiveAnnotation: []any{"gpu-pod-missing-queue-name"}, auditor.WaiveReasonAnnotation: "x"}}})},
			want: []wvWant{{key: "waiver-invalid|ClusterPolicy||require-kueue-queue-name|malformed", control: auditor.SR1, severity: auditor.SeverityLow,
				msg: []string{"metadata.annotations[" + auditor.WaiveAnnotation + "] is a []interface {}, not a string", "nothing is waived"}}},
		},
		"custom object with non-string values elsewhere in annotations is ignored": {
			objs: []any{wvCustom(map[string]any{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
				"metadata": map[string]any{"name": "p", "annotations": map[string]any{"replicas": int64(3)}}})},
		},
		"custom object with annotations of the wrong type does not panic": {
			objs: []any{
				wvCustom(map[string]any{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": map[string]any{"name": "a", "annotations": "waive"}}),
				wvCustom(map[string]any{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": "broken"}),
				wvCustom(map[string]any{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy"}),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := waiverInvalid(auditor.DefaultConfig(), wvKnown)
			var res auditor.Result
			require.NotPanics(t, func() { res = r.Evaluate(snapshottest.New(snapshottest.At(wvNow), tc.objs)) })
			assert.Empty(t, res.Inconclusive)
			got := append([]auditor.Finding(nil), res.Findings...)
			sortFindings(got)
			require.Len(t, got, len(tc.want), "findings: %v", findingKeys(got))
			for i, w := range tc.want {
				f := got[i]
				assert.Equal(t, w.key, f.Key())
				assert.Equal(t, w.control, f.Control, f.Key())
				assert.Equal(t, w.severity, f.Severity, f.Key())
				assert.NotNil(t, f.Object)
				assert.Nil(t, f.Waiver)
				assert.NotEmpty(t, f.Remediation)
				for _, m := range w.msg {
					assert.Contains(t, f.Message, m, f.Key())
				}
			}
		})
	}
}

func sortFindings(fs []auditor.Finding) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Key() < fs[j-1].Key(); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func findingKeys(fs []auditor.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Key())
	}
	return out
}

// TestActiveWaiver pins down which waivers the engine honours: an invalid waiver waives
// nothing, except an expiry beyond the maximum, which only ActiveWaiverWithin knows.
func TestActiveWaiver(t *testing.T) {
	until := wvNow.Add(30 * 24 * time.Hour)
	far := wvNow.Add(200 * 24 * time.Hour)
	const rule = "gpu-pod-missing-queue-name"
	maxDur := auditor.DefaultConfig().Waivers.MaxDuration.Duration
	cases := map[string]struct {
		ann        map[string]string
		rule       string
		within     bool // use ActiveWaiverWithin with the default maximum
		wantReason string
		wantUntil  time.Time
		wantNil    bool
	}{
		"valid waiver applies":                                {ann: wvAnn(rule, " accepted ", until.Format(time.RFC3339)), rule: rule, wantReason: "accepted", wantUntil: until},
		"rule among several applies":                          {ann: wvAnn("a, "+rule+" ,b", "accepted", until.Format(time.RFC3339)), rule: rule, wantReason: "accepted", wantUntil: until},
		"other rule does not apply":                           {ann: wvAnn("other", "accepted", until.Format(time.RFC3339)), rule: rule, wantNil: true},
		"prefix of a listed rule does not apply":              {ann: wvAnn(rule+"-x", "accepted", until.Format(time.RFC3339)), rule: rule, wantNil: true},
		"missing reason waives nothing":                       {ann: wvAnn(rule, "", until.Format(time.RFC3339)), rule: rule, wantNil: true},
		"missing expiry waives nothing":                       {ann: wvAnn(rule, "accepted", ""), rule: rule, wantNil: true},
		"unparseable expiry waives nothing":                   {ann: wvAnn(rule, "accepted", "never"), rule: rule, wantNil: true},
		"expired waiver waives nothing":                       {ann: wvAnn(rule, "accepted", wvNow.Format(time.RFC3339)), rule: rule, wantNil: true},
		"waiver-invalid is never waived":                      {ann: wvAnn(auditor.WaiverInvalidRule, "accepted", until.Format(time.RFC3339)), rule: auditor.WaiverInvalidRule, wantNil: true},
		"expiry beyond maximum still applies without a bound": {ann: wvAnn(rule, "accepted", far.Format(time.RFC3339)), rule: rule, wantReason: "accepted", wantUntil: far},
		"expiry beyond maximum is refused within the bound":   {ann: wvAnn(rule, "accepted", far.Format(time.RFC3339)), rule: rule, within: true, wantNil: true},
		"expiry inside maximum applies within the bound":      {ann: wvAnn(rule, "accepted", until.Format(time.RFC3339)), rule: rule, within: true, wantReason: "accepted", wantUntil: until},
		"nil annotations":                                     {ann: nil, rule: rule, wantNil: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var w *auditor.Waiver
			if tc.within {
				w = auditor.ActiveWaiverWithin(tc.ann, tc.rule, wvNow, maxDur)
			} else {
				w = auditor.ActiveWaiver(tc.ann, tc.rule, wvNow)
			}
			if tc.wantNil {
				assert.Nil(t, w)
				return
			}
			require.NotNil(t, w)
			assert.Equal(t, tc.wantReason, w.Reason)
			require.NotNil(t, w.Until)
			assert.True(t, tc.wantUntil.Equal(*w.Until), "until %v", w.Until)
		})
	}
}

// TestWaiverInvalidThroughEngine checks the rule together with the engine's waiver
// application: the invalid waiver leaves the real finding unwaived, and a waiver listing
// waiver-invalid does not waive the waiver-invalid finding.
func TestWaiverInvalidThroughEngine(t *testing.T) {
	in30d := wvNow.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	gpu := family.New(wvKnown[1], func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, p := range s.Pods {
			res.Findings = append(res.Findings, wvKnown[1].NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name}, "gpu pod without queue"))
		}
		return res
	})
	rs := []auditor.Rule{gpu, waiverInvalid(auditor.DefaultConfig(), wvKnown)}
	ev := engine.Evaluate(rs, snapshottest.New(snapshottest.At(wvNow), wvPod(wvAnn("gpu-pod-missing-queue-name,waiver-invalid", "", in30d))), 0)
	got := map[string]bool{}
	for _, f := range ev.Findings {
		got[f.Key()] = f.Waived()
	}
	assert.Equal(t, map[string]bool{
		"gpu-pod-missing-queue-name|Pod|team-a|trainer":                false,
		"waiver-invalid|Pod|team-a|trainer|gpu-pod-missing-queue-name": false,
		"waiver-invalid|Pod|team-a|trainer|waiver-invalid":             false,
	}, got)
	assert.Equal(t, auditor.Violated, ev.Controls[auditor.SR2])

	ev = engine.Evaluate(rs, snapshottest.New(snapshottest.At(wvNow), wvPod(wvAnn("gpu-pod-missing-queue-name,waiver-invalid", "accepted", in30d))), 0)
	got = map[string]bool{}
	for _, f := range ev.Findings {
		got[f.Key()] = f.Waived()
	}
	assert.Equal(t, map[string]bool{
		"gpu-pod-missing-queue-name|Pod|team-a|trainer":    true,
		"waiver-invalid|Pod|team-a|trainer|waiver-invalid": false,
	}, got)
	assert.Equal(t, auditor.Enforced, ev.Controls[auditor.SR2], "a valid waiver accepts the SR2 risk")
}
