package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestGitHubEscaping(t *testing.T) {
	cases := map[string]struct{ in, data, property string }{
		"plain":               {in: "a b", data: "a b", property: "a b"},
		"percent first":       {in: "100%0A", data: "100%250A", property: "100%250A"},
		"line breaks":         {in: "a\r\nb", data: "a%0D%0Ab", property: "a%0D%0Ab"},
		"property separators": {in: "k8s: a, b", data: "k8s: a, b", property: "k8s%3A a%2C b"},
		"double colon":        {in: "x::y", data: "x::y", property: "x%3A%3Ay"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.data, escapeData(tc.in))
			assert.Equal(t, tc.property, escapeProperty(tc.in))
		})
	}
}

func TestGitHub(t *testing.T) {
	ev, metas := sampleEvaluation()
	ev.Findings = append(ev.Findings, auditor.Finding{Rule: "netpol-default-deny-missing", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Object:  &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "batch"},
		Message: "50% of pods\nreachable", Location: &auditor.Location{File: "dir,odd:name.yaml", Document: 2, Line: 4}})
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteGitHub(&b))
	golden(t, "report.github.txt", b.Bytes())
	assert.Equal(t, []string{
		"::error title=SR1 HIGH netpol-default-deny-missing%3A Namespace/serving::no NetworkPolicy in serving isolates every pod for ingress%0Afix: Apply a default-deny ingress policy.",
		"::error file=jobs/train.yaml,line=9,title=SR2 HIGH gpu-pod-missing-queue-name%3A Pod/team-a/train-0::pod requests 1 GPU without a queue name%0Afix: Label the Job with kueue.x-k8s.io/queue-name=<local-queue> & resubmit.",
		"::notice title=SR3 CRITICAL budget-fail-open-in-prod%3A ConfigMap/litellm/litellm-config::waived (private VPC, accepted in RISK-12): allow_requests_on_db_unavailable is true%0Afix: Set it to false.",
		"::warning file=dir%2Codd%3Aname.yaml,line=4,title=SR1 MEDIUM netpol-default-deny-missing%3A Namespace/batch::50%25 of pods%0Areachable",
	}, strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"), "one command per line")
}
