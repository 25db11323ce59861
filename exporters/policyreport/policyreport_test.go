package policyreport

import (
	"bytes"
	"strings"
	"testing"
	"time"

	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

var (
	at        = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	firstSeen = time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)
	until     = time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
)

func sampleInput() Input {
	return Input{
		At: at,
		Findings: []store.Record{
			{Finding: auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "train-0"},
				Message: "pod requests 1 GPU without a queue name", Remediation: "Label the Job with kueue.x-k8s.io/queue-name=<local-queue>.",
				Location: &auditor.Location{File: "jobs/train.yaml", Document: 2, Line: 9}}, FirstSeen: firstSeen},
			{Finding: auditor.Finding{Rule: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityCritical,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "serving"},
				Message: "no NetworkPolicy in serving isolates every pod for ingress", Remediation: "Apply a default-deny ingress policy."}},
			{Finding: auditor.Finding{Rule: "budget-fail-open-in-prod", Control: auditor.SR2, Severity: auditor.SeverityMedium,
				Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "team-a", Name: "cfg"},
				Message: "accepted", Waiver: &auditor.Waiver{Reason: "RISK-12", Until: &until}}, FirstSeen: firstSeen},
			{Finding: auditor.Finding{Rule: "cni-unknown", Control: auditor.SR1, Severity: auditor.SeverityInfo, Message: "no CNI seen"}, FirstSeen: firstSeen},
		},
		Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Enforced},
		Rules: []auditor.RuleMeta{
			{ID: "litellm-redis-missing", Control: auditor.SR3, Severity: auditor.SeverityMedium},
			{ID: "budget-db-not-ha", Control: auditor.SR3, Severity: auditor.SeverityHigh, Title: "LiteLLM prod budget database is not highly available",
				Pass: "every LiteLLM prod budget database runs highly available"},
			{ID: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh},
		},
	}
}

func TestBuild(t *testing.T) {
	in := sampleInput()
	reports := Build(in)
	require.Len(t, reports, 2, "team-a, then the cluster report")
	ns, cl := reports[0], reports[1]
	assert.Equal(t, "team-a", ns.Namespace)
	assert.Equal(t, "", cl.Namespace)

	// Namespaced objects go to their namespace's report, worst first.
	require.Len(t, ns.Results, 2)
	fail := ns.Results[0]
	assert.Equal(t, orv1.ReportResult{
		Source: "enforcement-auditor", Policy: "SR2", Rule: "gpu-pod-missing-queue-name", Category: "SR2 GPU quota",
		Severity: "high", Timestamp: timestamp(firstSeen), Result: "fail", Scored: true,
		Subjects:    []corev1.ObjectReference{{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "train-0"}},
		Description: "pod requests 1 GPU without a queue name",
		Properties: map[string]string{
			"resultID": in.Findings[0].Fingerprint(), "fingerprint": in.Findings[0].Fingerprint(),
			"remediation": "Label the Job with kueue.x-k8s.io/queue-name=<local-queue>.", "location": "jobs/train.yaml:9",
		},
	}, fail)
	waived := ns.Results[1]
	assert.Equal(t, orv1.Result("skip"), waived.Result, "a waived finding is a skip")
	assert.Equal(t, orv1.ResultSeverity("medium"), waived.Severity)
	assert.Equal(t, "RISK-12", waived.Properties["waiverReason"])
	assert.Equal(t, "2026-12-31T00:00:00Z", waived.Properties["waiverUntil"])
	assert.NotContains(t, waived.Properties, "remediation", "no remediation: no property")
	assert.Equal(t, orv1.ReportSummary{Fail: 1, Skip: 1}, ns.Summary)

	// A cluster-scoped object and a finding on no object go to the cluster report; an
	// enforced control passes every one of its rules, sorted by ID.
	var got []string
	for _, r := range cl.Results {
		got = append(got, string(r.Result)+" "+r.Policy+" "+r.Rule+" "+string(r.Severity))
	}
	assert.Equal(t, []string{
		"fail SR1 netpol-default-deny-missing critical",
		"fail SR1 cni-unknown info",
		"pass SR3 budget-db-not-ha high",
		"pass SR3 litellm-redis-missing medium",
	}, got)
	assert.Equal(t, []corev1.ObjectReference{{APIVersion: "v1", Kind: "Namespace", Name: "serving"}}, cl.Results[0].Subjects)
	assert.Empty(t, cl.Results[1].Subjects, "a finding on no object names no resource")
	assert.Equal(t, timestamp(at), cl.Results[0].Timestamp, "first seen unknown: the evaluation time")
	pass := cl.Results[2]
	assert.Equal(t, "SR3 is enforced: every LiteLLM prod budget database runs highly available", pass.Description, "the rule's Pass, not its title negated")
	assert.Equal(t, "SR3 is enforced: litellm-redis-missing found nothing", cl.Results[3].Description)
	assert.Equal(t, "enforced", pass.Properties["controlState"])
	assert.Len(t, pass.Properties["resultID"], 16)
	assert.NotEqual(t, pass.Properties["resultID"], cl.Results[3].Properties["resultID"], "each pass has its own ID")
	assert.Equal(t, orv1.ReportSummary{Pass: 2, Fail: 2}, cl.Summary)

	// Same input, same reports: the writer relies on it to skip unchanged reports.
	assert.Equal(t, reports, Build(sampleInput()))
}

func TestBuildNothing(t *testing.T) {
	assert.Empty(t, Build(Input{At: at}), "no findings and no enforced control: no report")
	r := Build(Input{At: at, Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown}, Rules: sampleInput().Rules})
	assert.Empty(t, r, "an unknown control passes nothing")
}

func TestMaxResults(t *testing.T) {
	var in Input
	for i := 0; i < MaxResults+5; i++ {
		in.Findings = append(in.Findings, store.Record{Finding: auditor.Finding{Rule: "r", Control: auditor.SR2, Severity: auditor.SeverityHigh,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "big", Name: strings.Repeat("p", 1+i%7) + string(rune('a'+i%26)) + time.Duration(i).String()}}})
	}
	r := Build(in)
	require.Len(t, r, 1)
	assert.Len(t, r[0].Results, MaxResults)
	assert.Equal(t, 5, r[0].Omitted)
	assert.Equal(t, MaxResults+5, r[0].Summary.Fail, "the summary counts every result")
	obj := r[0].Object(OpenReports).(*orv1.Report)
	require.NotNil(t, obj.Configuration, "a report cut short says so")
	assert.Equal(t, MaxResults, obj.Configuration.Limits.MaxResults)
}

func TestParseAPI(t *testing.T) {
	for in, want := range map[string]API{"openreports": OpenReports, "wgpolicyk8s": WGPolicy} {
		got, err := ParseAPI(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseAPI("policyreport")
	assert.ErrorContains(t, err, `"policyreport", want one of openreports, wgpolicyk8s`)
}

// The YAML stream, read back generically, has each API's apiVersion, kind, names and
// the source where the API keeps it.
func TestWriteYAML(t *testing.T) {
	type doc struct {
		APIVersion, Kind string
		Metadata         struct {
			Name, Namespace string
			Labels          map[string]string
		}
		Source  *string
		Summary map[string]int
		Results []map[string]any
	}
	for api, want := range map[API][]string{
		OpenReports: {"openreports.io/v1alpha1 Report team-a", "openreports.io/v1alpha1 ClusterReport "},
		WGPolicy:    {"wgpolicyk8s.io/v1alpha2 PolicyReport team-a", "wgpolicyk8s.io/v1alpha2 ClusterPolicyReport "},
	} {
		t.Run(string(api), func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteYAML(&b, api, Build(sampleInput())))
			parts := strings.Split(strings.TrimPrefix(b.String(), "---\n"), "\n---\n")
			require.Len(t, parts, 2)
			var got []string
			for _, p := range parts {
				var d doc
				require.NoError(t, yaml.UnmarshalStrict([]byte(strings.ReplaceAll(p, "  creationTimestamp: null\n", "")), &d), p)
				got = append(got, d.APIVersion+" "+d.Kind+" "+d.Metadata.Namespace)
				assert.Equal(t, "enforcement-auditor", d.Metadata.Name)
				assert.Equal(t, "enforcement-auditor", d.Metadata.Labels["app.kubernetes.io/managed-by"])
				if api == WGPolicy {
					assert.Nil(t, d.Source, "wgpolicyk8s.io reports have no source field (the CRD would prune it)")
				} else {
					require.NotNil(t, d.Source)
					assert.Equal(t, "enforcement-auditor", *d.Source)
				}
				for _, r := range d.Results {
					assert.Equal(t, "enforcement-auditor", r["source"])
				}
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestPassResultsPerJudgedObject: a rule that passes has one pass result per object its
// control's scope holds, that object as resource and in its namespace's report, each
// with its own ID, so Policy Reporter, which groups results by resource, counts every
// one; a rule with a waived or low finding has no pass result anywhere, so its reports
// agree.
func TestPassResultsPerJudgedObject(t *testing.T) {
	cm := func(ns, name string) auditor.ObjectRef {
		return auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: name}
	}
	in := Input{
		At:       at,
		Controls: map[auditor.Control]auditor.ControlState{auditor.SR3: auditor.Enforced},
		Rules: []auditor.RuleMeta{
			{ID: "budget-db-not-ha-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh, Pass: "every LiteLLM prod budget database runs highly available"},
			{ID: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical, Pass: "every LiteLLM prod proxy refuses requests when its budget database is down"},
			{ID: "budget-profile-downgrade", Control: auditor.SR3, Severity: auditor.SeverityMedium, Pass: "no downgrade"},
		},
		Judged: map[auditor.Control][]auditor.ObjectRef{auditor.SR3: {cm("litellm", "a"), cm("litellm-eu", "b")}},
		Findings: []store.Record{{Finding: auditor.Finding{Rule: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical,
			Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "a"}, Message: "fail-open",
			Waiver: &auditor.Waiver{Reason: "RISK-7"}}}},
	}
	reports := Build(in)
	require.Len(t, reports, 2, "litellm, litellm-eu; no cluster report")
	type row struct{ ns, rule, result, resource string }
	var got []row
	ids := map[string]bool{}
	for _, r := range reports {
		for _, res := range r.Results {
			got = append(got, row{r.Namespace, res.Rule, string(res.Result), firstResource(res.Subjects)})
			assert.False(t, ids[res.Properties["resultID"]], "each result has its own ID")
			ids[res.Properties["resultID"]] = true
		}
	}
	assert.Equal(t, []row{
		{"litellm", "budget-fail-open-in-prod", "skip", "v1 ConfigMap litellm/a"},
		{"litellm", "budget-db-not-ha-in-prod", "pass", "v1 ConfigMap litellm/a"},
		{"litellm", "budget-profile-downgrade", "pass", "v1 ConfigMap litellm/a"},
		{"litellm-eu", "budget-db-not-ha-in-prod", "pass", "v1 ConfigMap litellm-eu/b"},
		{"litellm-eu", "budget-profile-downgrade", "pass", "v1 ConfigMap litellm-eu/b"},
	}, got, "the waived rule is skip where it was found and passes nowhere")
	assert.Equal(t, "SR3 is enforced: every LiteLLM prod budget database runs highly available", reports[0].Results[1].Description)
}
