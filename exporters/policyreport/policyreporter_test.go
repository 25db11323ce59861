package policyreport

import (
	"bytes"
	"strings"
	"testing"

	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// What Policy Reporter reads, checked against its source (kyverno/policy-reporter
// 3.9.1, also read at main 4e5e05b8, 2026-08-15):
//   - pkg/kubernetes/openreports/queue.go decodes openreports.io Reports and
//     ClusterReports into github.com/openreports/reports-api v0.2.1's types (the module
//     and version this package builds them with); pkg/kubernetes/wgpolicy/queue.go
//     decodes wgpolicyk8s.io/v1alpha2 reports into pkg/crd/api/policyreport/v1alpha2
//     (mirrored below) and converts them with ToOpenReports.
//   - pkg/openreports/reports_adapter.go GetSource: the report's source, else the first
//     result's (wgpolicyk8s.io reports have only the results').
//   - pkg/openreports/result.go GetResource: the first of a result's resources.
//   - pkg/report/result/id_generator.go: a result's ID is properties["resultID"]
//     (v1alpha2.ResultIDKey) when set, else a hash of name, policy, rule, result,
//     category and message, which would change with every message.
//   - pkg/report/result/reconditioner.go: an empty category becomes "Other".
//   - pkg/openreports/common.go: statuses pass, fail, warn, error, skip; SeverityLevel
//     knows critical, high, medium, low, info.

// prResult mirrors policy-reporter's v1alpha2.PolicyReportResult, field for field.
type prResult struct {
	Source           string                   `json:"source"`
	Policy           string                   `json:"policy"`
	Rule             string                   `json:"rule,omitempty"`
	Resources        []corev1.ObjectReference `json:"resources,omitempty"`
	ResourceSelector *metav1.LabelSelector    `json:"resourceSelector,omitempty"`
	Message          string                   `json:"message,omitempty"`
	Result           string                   `json:"result,omitempty"`
	Scored           bool                     `json:"scored,omitempty"`
	Properties       map[string]string        `json:"properties,omitempty"`
	Timestamp        metav1.Timestamp         `json:"timestamp,omitempty"`
	Category         string                   `json:"category,omitempty"`
	Severity         string                   `json:"severity,omitempty"`
}

// prReport mirrors policy-reporter's v1alpha2.PolicyReport (and ClusterPolicyReport).
type prReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Scope             *corev1.ObjectReference `json:"scope,omitempty"`
	ScopeSelector     *metav1.LabelSelector   `json:"scopeSelector,omitempty"`
	Summary           struct {
		Pass, Fail, Warn, Error, Skip int
	} `json:"summary,omitempty"`
	Results []prResult `json:"results,omitempty"`
}

// read is a report as Policy Reporter sees it: its source, and per result the ID, the
// resource and the fields it lists, filters and notifies on.
type read struct {
	source  string
	results []readResult
	summary orv1.ReportSummary
}

type readResult struct {
	id, policy, rule, result, severity, category, message, resource string
	timestamp                                                       int64
	props                                                           map[string]string
}

func splitYAML(t *testing.T, b []byte) []string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(string(b), "---\n"), "\n---\n")
	require.NotEmpty(t, parts)
	return parts
}

func readOpenReports(t *testing.T, doc string) read {
	t.Helper()
	var kind struct{ Kind string }
	require.NoError(t, yaml.Unmarshal([]byte(doc), &kind))
	var src string
	var results []orv1.ReportResult
	var sum orv1.ReportSummary
	switch kind.Kind {
	case "Report":
		var r orv1.Report
		require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &r))
		src, results, sum = r.Source, r.Results, r.Summary
	case "ClusterReport":
		var r orv1.ClusterReport
		require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &r))
		src, results, sum = r.Source, r.Results, r.Summary
	default:
		t.Fatalf("kind %q", kind.Kind)
	}
	out := read{source: src, summary: sum}
	for _, r := range results {
		out.results = append(out.results, readResult{id: r.Properties["resultID"], policy: r.Policy, rule: r.Rule, result: string(r.Result),
			severity: string(r.Severity), category: r.Category, message: r.Description, resource: firstResource(r.Subjects),
			timestamp: r.Timestamp.Seconds, props: r.Properties})
	}
	if out.source == "" && len(results) > 0 {
		out.source = results[0].Source
	}
	return out
}

func readWGPolicy(t *testing.T, doc string) read {
	t.Helper()
	var r prReport
	require.NoError(t, yaml.UnmarshalStrict([]byte(doc), &r))
	out := read{summary: orv1.ReportSummary{Pass: r.Summary.Pass, Fail: r.Summary.Fail, Skip: r.Summary.Skip}}
	if len(r.Results) > 0 {
		out.source = r.Results[0].Source
	}
	for _, x := range r.Results {
		out.results = append(out.results, readResult{id: x.Properties["resultID"], policy: x.Policy, rule: x.Rule, result: x.Result,
			severity: x.Severity, category: x.Category, message: x.Message, resource: firstResource(x.Resources),
			timestamp: x.Timestamp.Seconds, props: x.Properties})
	}
	return out
}

func firstResource(refs []corev1.ObjectReference) string {
	if len(refs) == 0 {
		return ""
	}
	r := refs[0]
	return r.APIVersion + " " + r.Kind + " " + r.Namespace + "/" + r.Name
}

// TestPolicyReporterReads: both APIs give Policy Reporter the same reading: the
// auditor as source, a stable ID per result (the finding's fingerprint), the object as
// resource, a status and a severity it knows, a category, a time.
func TestPolicyReporterReads(t *testing.T) {
	in := sampleInput()
	statuses := []string{"pass", "fail", "warn", "error", "skip"}
	severities := []string{"critical", "high", "medium", "low", "info"}
	var readings [][]read
	for _, api := range APIs {
		var b bytes.Buffer
		require.NoError(t, WriteYAML(&b, api, Build(in)))
		var reads []read
		for _, doc := range splitYAML(t, b.Bytes()) {
			var r read
			if api == WGPolicy {
				r = readWGPolicy(t, doc)
			} else {
				r = readOpenReports(t, doc)
			}
			assert.Equal(t, "enforcement-auditor", r.source, "Policy Reporter groups by source")
			var sum orv1.ReportSummary
			for _, res := range r.results {
				assert.Contains(t, statuses, res.result)
				assert.Contains(t, severities, res.severity)
				assert.Len(t, res.id, 16, "a resultID property, so the ID survives a message change")
				assert.NotEmpty(t, res.category, "no category reads as Other")
				assert.NotZero(t, res.timestamp)
				assert.NotEmpty(t, res.message)
				switch res.result {
				case "pass":
					sum.Pass++
				case "fail":
					sum.Fail++
				case "skip":
					sum.Skip++
				}
			}
			assert.Equal(t, sum, r.summary)
			reads = append(reads, r)
		}
		readings = append(readings, reads)
	}
	require.Len(t, readings, 2)
	assert.Equal(t, readings[0], readings[1], "openreports.io and wgpolicyk8s.io read the same")

	// The finding on a pod: its ID is its fingerprint, its resource the pod.
	pod := readings[0][0].results[0]
	assert.Equal(t, readResult{id: in.Findings[0].Fingerprint(), policy: "SR2", rule: "gpu-pod-missing-queue-name", result: "fail",
		severity: "high", category: "SR2 GPU quota", message: "pod requests 1 GPU without a queue name",
		resource: "v1 Pod team-a/train-0", timestamp: firstSeen.Unix(), props: pod.props}, pod)

	// A message change keeps the ID: Policy Reporter updates the result instead of
	// reporting a new one (and notifying again).
	changed := sampleInput()
	changed.Findings[0].Message = "pod requests 2 GPUs without a queue name"
	var b bytes.Buffer
	require.NoError(t, WriteYAML(&b, OpenReports, Build(changed)))
	again := readOpenReports(t, splitYAML(t, b.Bytes())[0]).results[0]
	assert.Equal(t, pod.id, again.id)
	assert.NotEqual(t, pod.message, again.message)
}
