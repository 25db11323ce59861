package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// validateSARIF checks a log against the OASIS SARIF 2.1.0 schema (errata01), vendored
// in testdata, formats asserted.
func validateSARIF(t *testing.T, log []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	require.NoError(t, err)
	require.NoError(t, compiledSARIFSchema(t).Validate(inst))
}

func compiledSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	require.NoError(t, err)
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = sarifSchema
	require.NoError(t, c.AddResource(url, schemaDoc))
	sch, err := c.Compile(url)
	require.NoError(t, err)
	return sch
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	validateSARIF(t, []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[]}]}`))
	// The validator refuses what the schema refuses: a null suppression guid, as go-sarif
	// writes it unless dropped.
	bad := []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"suppressions":[{"kind":"external","guid":null}]}]}]}`)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	require.NoError(t, err)
	assert.Error(t, compiledSARIFSchema(t).Validate(inst), "a null guid must not validate")
}

type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID                   string
					ShortDescription     struct{ Text string }
					Help                 struct{ Text string }
					DefaultConfiguration struct{ Level string }
					Properties           map[string]any
				}
			}
		}
		Results []struct {
			RuleID              string
			RuleIndex           int
			Level               string
			Message             struct{ Text string }
			PartialFingerprints map[string]string
			Suppressions        []struct{ Kind, Status, Justification string }
			Locations           []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct{ URI string }
					Region           struct{ StartLine int }
				}
				LogicalLocations []struct{ FullyQualifiedName string }
			}
		}
	}
}

func TestSARIF(t *testing.T) {
	ev, metas := sampleEvaluation()
	metas[0].Title, metas[0].Severity, metas[0].Remediation = "protected namespace without default-deny", auditor.SeverityHigh, "Apply a default-deny ingress policy."
	ev.Findings = append(ev.Findings, auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityMedium,
		Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team a", Name: "p"}, Message: "m",
		Location: &auditor.Location{File: "dir with space/p.yaml", Document: 1, Line: 1}},
		auditor.Finding{Rule: "cni-unknown", Control: auditor.SR1, Severity: auditor.SeverityInfo, Message: "no CNI <seen>"})
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteSARIF(&b))
	golden(t, "report.sarif", b.Bytes())
	validateSARIF(t, b.Bytes())

	var log sarifLog
	require.NoError(t, json.Unmarshal(b.Bytes(), &log))
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	assert.Equal(t, []string{"budget-fail-open-in-prod", "cni-unknown", "gpu-pod-missing-queue-name", "gpu-pod-not-admitted", "netpol-default-deny-missing"}, ids,
		"every rule once, a rule only findings name included")
	nd := run.Tool.Driver.Rules[4]
	assert.Equal(t, "protected namespace without default-deny", nd.ShortDescription.Text)
	assert.Equal(t, "Apply a default-deny ingress policy.", nd.Help.Text)
	assert.Equal(t, "error", nd.DefaultConfiguration.Level)
	assert.Equal(t, "8.0", nd.Properties["security-severity"])

	require.Len(t, run.Results, 5)
	type got struct {
		Rule, Level, URI string
		Line             int
		Suppressed       bool
	}
	var results []got
	for i, res := range run.Results {
		assert.Equal(t, ev.Findings[i].Fingerprint(), res.PartialFingerprints[fingerprintKey], "the finding's fingerprint")
		assert.Equal(t, res.RuleID, ids[res.RuleIndex])
		g := got{Rule: res.RuleID, Level: res.Level, Suppressed: len(res.Suppressions) > 0}
		if len(res.Locations) > 0 && res.Locations[0].PhysicalLocation != nil {
			g.URI, g.Line = res.Locations[0].PhysicalLocation.ArtifactLocation.URI, res.Locations[0].PhysicalLocation.Region.StartLine
		}
		results = append(results, g)
	}
	assert.Equal(t, []got{
		{Rule: "netpol-default-deny-missing", Level: "error"},
		{Rule: "gpu-pod-missing-queue-name", Level: "error", URI: "jobs/train.yaml", Line: 9},
		{Rule: "budget-fail-open-in-prod", Level: "error", Suppressed: true},
		{Rule: "gpu-pod-missing-queue-name", Level: "warning", URI: "dir%20with%20space/p.yaml", Line: 1},
		{Rule: "cni-unknown", Level: "note"},
	}, results)
	assert.Equal(t, "private VPC, accepted in RISK-12", run.Results[2].Suppressions[0].Justification)
	assert.Equal(t, "accepted", run.Results[2].Suppressions[0].Status)
	assert.Equal(t, "Pod/team-a/train-0", run.Results[1].Locations[0].LogicalLocations[0].FullyQualifiedName)
	assert.Empty(t, run.Results[4].Locations, "a cluster-wide finding has no location")
}
