package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/defenseunicorns/go-oscal/src/pkg/validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// validateOSCAL validates against NIST's OSCAL 1.1.3 complete JSON schema, as shipped
// (unchanged) in go-oscal.
func validateOSCAL(t *testing.T, b []byte) error {
	t.Helper()
	v, err := validation.NewValidatorDesiredVersion(b, OSCALVersion)
	require.NoError(t, err)
	return v.Validate()
}

// cleanInput is the fixture with every control enforced and no finding.
func cleanInput() Input {
	in := fixture()
	var rules []auditor.Rule
	for _, r := range in.Rules {
		rules = append(rules, testRule{meta: r.Meta()})
	}
	in.Rules = rules
	in.Records = nil
	in.Evaluation.Findings = nil
	in.Evaluation.Inconclusive = nil
	in.Evaluation.Controls = map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced}
	return in
}

func oscalOf(t *testing.T, in Input) []byte {
	t.Helper()
	a, err := NewAttestation(mustBuild(t, in), FileSubjects([]SourceFile{{Path: "platform.yaml", SHA256: SHA256Hex([]byte("x"))}}), "")
	require.NoError(t, err)
	signer, err := LoadSigner("testdata/test-signing-key.pem") // ed25519: deterministic signatures
	require.NoError(t, err)
	require.NoError(t, a.Seal(context.Background(), signer))
	b, err := AssessmentResults(a, "evidence.intoto.json")
	require.NoError(t, err)
	return b
}

func TestOSCALValidatesAgainstTheSchema(t *testing.T) {
	cases := map[string]struct {
		in       Input
		findings []string // target-ids of findings
	}{
		"violations": {fixture(), []string{"sc-6_smt", "sc-24_smt"}},
		"clean":      {cleanInput(), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b := oscalOf(t, c.in)
			require.NoError(t, validateOSCAL(t, b))

			var doc struct {
				AR struct {
					Metadata struct {
						OscalVersion string `json:"oscal-version"`
					} `json:"metadata"`
					Results []struct {
						Observations []json.RawMessage `json:"observations"`
						Findings     []struct {
							Target struct {
								TargetID string `json:"target-id"`
								Status   struct {
									State string `json:"state"`
								} `json:"status"`
							} `json:"target"`
						} `json:"findings"`
						Reviewed struct {
							Selections []struct {
								Include []struct {
									ID string `json:"control-id"`
								} `json:"include-controls"`
							} `json:"control-selections"`
						} `json:"reviewed-controls"`
					} `json:"results"`
					BackMatter struct {
						Resources []struct {
							Rlinks []struct {
								Hashes []struct{ Algorithm, Value string } `json:"hashes"`
							} `json:"rlinks"`
						} `json:"resources"`
					} `json:"back-matter"`
				} `json:"assessment-results"`
			}
			require.NoError(t, json.Unmarshal(b, &doc))
			assert.Equal(t, "1.1.3", doc.AR.Metadata.OscalVersion)
			r := doc.AR.Results[0]
			assert.Len(t, r.Observations, len(c.in.Rules), "one observation per check")
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Target.TargetID)
				assert.Equal(t, "not-satisfied", f.Target.Status.State)
			}
			assert.Equal(t, c.findings, got)
			var ids []string
			for _, s := range r.Reviewed.Selections[0].Include {
				ids = append(ids, s.ID)
			}
			assert.Equal(t, []string{"ac-4", "sc-7", "sc-6", "sc-24"}, ids)
			assert.Len(t, doc.AR.BackMatter.Resources[0].Rlinks[0].Hashes[0].Value, 64)
			for _, s := range plantedSecrets {
				assert.NotContains(t, string(b), s)
			}
		})
	}
}

// The schema check can fail: documents the schema rejects are rejected.
func TestOSCALValidationRejects(t *testing.T) {
	good := oscalOf(t, fixture())
	for name, mutate := range map[string]func(ar map[string]any){
		"no import-ap":    func(ar map[string]any) { delete(ar, "import-ap") },
		"uuid not a uuid": func(ar map[string]any) { ar["uuid"] = "evidence-1" },
		"unknown field":   func(ar map[string]any) { ar["controls"] = []any{} },
		"bad finding state": func(ar map[string]any) {
			finding(ar)["target"].(map[string]any)["status"].(map[string]any)["state"] = "violated"
		},
		"observation no date": func(ar map[string]any) { delete(observation(ar), "collected") },
	} {
		t.Run(name, func(t *testing.T) {
			var doc map[string]any
			require.NoError(t, json.Unmarshal(good, &doc))
			mutate(doc["assessment-results"].(map[string]any))
			b, err := json.Marshal(doc)
			require.NoError(t, err)
			require.Error(t, validateOSCAL(t, b))
		})
	}
}

func result0(ar map[string]any) map[string]any { return ar["results"].([]any)[0].(map[string]any) }
func finding(ar map[string]any) map[string]any {
	return result0(ar)["findings"].([]any)[0].(map[string]any)
}
func observation(ar map[string]any) map[string]any {
	return result0(ar)["observations"].([]any)[0].(map[string]any)
}

func TestOSCALControlStatesMapInOnePlace(t *testing.T) {
	for _, st := range auditor.ControlStates {
		_, ok := controlStates[string(st)]
		assert.True(t, ok, "control state %q has no OSCAL mapping", st)
	}
	finding, state, _ := stateOf("some-future-state")
	assert.True(t, finding, "an unmapped state is not proven")
	assert.Equal(t, "not-satisfied", state)
}

func TestGoldenOSCAL(t *testing.T) {
	got := oscalOf(t, fixture())
	const path = "testdata/assessment-results.golden.json"
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./exporters/evidence -run Golden -update to create it")
	assert.Equal(t, string(want), string(got), "rerun with -update if the change is intended")
}

// The back-matter link carries the digest of the file it names: hashing that file
// checks it (it carried the statement's digest, which no file has).
func TestOSCALLinkHashesTheLinkedFile(t *testing.T) {
	dir := t.TempDir()
	a := sealed(t, "testdata/test-signing-key.pem", fixture(), "")
	name := AttestationFileName(a)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), a.Envelope, 0o644))
	b, err := AssessmentResults(a, name)
	require.NoError(t, err)
	require.NoError(t, validateOSCAL(t, b))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	res := doc["assessment-results"].(map[string]any)["back-matter"].(map[string]any)["resources"].([]any)[0].(map[string]any)
	link := res["rlinks"].([]any)[0].(map[string]any)
	hash := link["hashes"].([]any)[0].(map[string]any)
	assert.Equal(t, "SHA-256", hash["algorithm"])
	file, err := os.ReadFile(filepath.Join(dir, link["href"].(string)))
	require.NoError(t, err)
	sum := sha256.Sum256(file)
	assert.Equal(t, hex.EncodeToString(sum[:]), hash["value"], "sha256sum of the linked file")
	assert.Contains(t, res["props"], map[string]any{"name": "statement-digest", "ns": oscalNS, "value": a.Digest})

	// No file: no link (a hash of nothing to fetch), still the statement's digest, still valid.
	b, err = AssessmentResults(a, "")
	require.NoError(t, err)
	require.NoError(t, validateOSCAL(t, b))
	assert.NotContains(t, string(b), `"rlinks"`)
	assert.Contains(t, string(b), a.Digest)

	_, err = AssessmentResults(&Attestation{Statement: a.Statement, Digest: a.Digest}, "x.json")
	assert.ErrorContains(t, err, "not sealed")
}
