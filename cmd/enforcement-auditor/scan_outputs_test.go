package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name (read before any t.Chdir), rewriting it with -update.
func golden(t *testing.T, path string, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cmd/enforcement-auditor -update to create golden files")
	assert.Equal(t, string(want), got)
}

// scanExample runs scan over examples/platform from the repository root, as the README
// shows it, so paths in the output are the ones a user sees.
func scanExample(t *testing.T, args ...string) string {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
	out, errOut, code := execute(t, "", append([]string{"scan", "-f", "examples/platform"}, args...)...)
	require.Equal(t, 1, code, "the example platform carries deliberate defects; stderr: %s", errOut)
	return out
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return p
}

func TestScanExampleGolden(t *testing.T) {
	for name, format := range map[string]string{"platform.txt": "table", "platform.json": "json"} {
		t.Run(format, func(t *testing.T) {
			p := testdata(t, name)
			golden(t, p, scanExample(t, "-o", format))
		})
	}
}

// TestReadmeJSONSample keeps the README's sample the real output of
// `scan -f examples/platform -o json`, with only whole findings left out.
func TestReadmeJSONSample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	const open = "prints this, three of its four findings left out:\n\n```json\n"
	_, rest, ok := strings.Cut(string(readme), open)
	require.True(t, ok, "the README's JSON sample moved")
	sample, _, _ := strings.Cut(rest, "```")

	var readmeDoc, real map[string]any
	require.NoError(t, json.Unmarshal([]byte(sample), &readmeDoc))
	require.NoError(t, json.Unmarshal([]byte(scanExample(t, "-o", "json")), &real))
	var kept []any
	for _, f := range real["findings"].([]any) {
		if f.(map[string]any)["rule"] == "gpu-pod-missing-queue-name" {
			kept = append(kept, f)
		}
	}
	real["findings"] = kept
	assert.Equal(t, real, readmeDoc)
}

func TestParseOutputs(t *testing.T) {
	cases := map[string]struct {
		in      []string
		want    []output
		wantErr string
	}{
		"default":                {in: []string{"table"}, want: []output{{format: "table"}}},
		"table and files":        {in: []string{"table", "sarif=out/results.sarif", "junit=junit.xml"}, want: []output{{format: "table"}, {format: "sarif", path: "out/results.sarif"}, {format: "junit", path: "junit.xml"}}},
		"every format to a file": {in: []string{"table=t", "json=j", "sarif=s", "junit=u", "github=g"}, want: []output{{"table", "t"}, {"json", "j"}, {"sarif", "s"}, {"junit", "u"}, {"github", "g"}}},
		"two to stdout":          {in: []string{"table", "json"}, wantErr: "table and json both go to stdout"},
		"unknown format":         {in: []string{"xml"}, wantErr: `"xml", want one of table, json, sarif, junit, github, policyreport`},
		"unknown format to file": {in: []string{"html=r.html"}, wantErr: `"html=r.html"`},
		"empty path":             {in: []string{"sarif="}, wantErr: "the path after = is empty"},
		"one file twice":         {in: []string{"sarif=a/r", "json=a/../a/r"}, wantErr: "a/../a/r is written twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseOutputs(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestScanSeveralOutputs: one run, the table on stdout and other formats in files, each
// the same as that format alone on stdout; the exit status is --fail-on's.
func TestScanSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	sarifPath, junitPath := filepath.Join(dir, "results.sarif"), filepath.Join(dir, "sub", "junit.xml")
	require.NoError(t, os.MkdirAll(filepath.Dir(junitPath), 0o755))
	table := testdata(t, "platform.txt")
	out := scanExample(t, "-o", "table", "-o", "sarif="+sarifPath, "-o", "junit="+junitPath)
	golden(t, table, out)
	for path, format := range map[string]string{sarifPath: "sarif", junitPath: "junit"} {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		alone, _, _ := execute(t, "", "scan", "-f", "examples/platform", "-o", format)
		assert.Equal(t, alone, string(b), format)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left behind")

	_, _, code := execute(t, "", "scan", "-f", "examples/platform", "--fail-on", "critical", "-o", "sarif="+sarifPath)
	assert.Equal(t, 1, code, "two critical findings")
	_, errOut, code := execute(t, "", "scan", "-f", "examples/platform", "-o", "json="+filepath.Join(dir, "missing", "r.json"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--output json=")
}

// TestScanExampleSARIF: each result of the example points at the file and line where
// its object's document starts.
func TestScanExampleSARIF(t *testing.T) {
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
				PartialFingerprints map[string]string
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(scanExample(t, "-o", "sarif")), &log))
	require.Len(t, log.Runs, 1)
	type at struct {
		Rule, URI string
		Line      int
	}
	var got []at
	for _, r := range log.Runs[0].Results {
		require.Len(t, r.Locations, 1)
		got = append(got, at{r.RuleID, r.Locations[0].PhysicalLocation.ArtifactLocation.URI, r.Locations[0].PhysicalLocation.Region.StartLine})
		assert.Len(t, r.PartialFingerprints["enforcementAuditorFingerprint/v1"], 16)
	}
	assert.Equal(t, []at{
		{"netpol-ingress-outside-allowlist", "examples/platform/10-sr1-network.yaml", 116}, // NetworkPolicy inference/allow-search-evaluation
		{"gpu-gate-policy-not-enforcing", "examples/platform/20-sr2-gpu.yaml", 1},          // ClusterPolicy require-kueue-queue-name
		{"gpu-pod-missing-queue-name", "examples/platform/20-sr2-gpu.yaml", 286},           // Pod team-search/adhoc-mig-notebook
		{"budget-db-not-ha-in-prod", "examples/platform/30-sr3-litellm.yaml", 125},         // Cluster litellm/litellm-pg
	}, got)
	// The lines are where those objects' documents start in the example: after a
	// separator (or at the top), and the document names the object.
	for i, name := range []string{"allow-search-evaluation", "require-kueue-queue-name", "adhoc-mig-notebook", "litellm-pg"} {
		a := got[i]
		b, err := os.ReadFile(a.URI)
		require.NoError(t, err)
		lines := strings.Split(string(b), "\n")
		if a.Line > 1 {
			assert.Equal(t, "---", lines[a.Line-2], "line %d of %s follows a document separator", a.Line, a.URI)
		}
		doc, _, _ := strings.Cut(strings.Join(lines[a.Line-1:], "\n"), "\n---")
		assert.Contains(t, doc, "name: "+name, "the document at %s:%d", a.URI, a.Line)
	}
}

// TestReadmeSARIFSample keeps the README's SARIF result the real one of the example.
func TestReadmeSARIFSample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	const open = "A result of `scan -f examples/platform -o sarif`:\n\n```json\n"
	_, rest, ok := strings.Cut(string(readme), open)
	require.True(t, ok, "the README's SARIF sample moved")
	sample, _, _ := strings.Cut(rest, "```")
	var readmeResult map[string]any
	require.NoError(t, json.Unmarshal([]byte(sample), &readmeResult))

	var log struct {
		Runs []struct{ Results []map[string]any }
	}
	require.NoError(t, json.Unmarshal([]byte(scanExample(t, "-o", "sarif")), &log))
	for _, r := range log.Runs[0].Results {
		if r["ruleId"] == readmeResult["ruleId"] {
			assert.Equal(t, r, readmeResult)
			return
		}
	}
	t.Fatalf("no result of %v", readmeResult["ruleId"])
}

// TestScanExamplePolicyReport: -o policyreport is a YAML stream of reports, the example's
// findings as fail results in the reports of their objects' namespaces (cluster-scoped
// objects in the cluster report), in the API --report-api names.
func TestScanExamplePolicyReport(t *testing.T) {
	type result struct {
		Policy, Rule, Result, Severity string
		Resources                      []struct{ Kind, Namespace, Name string }
		Properties                     map[string]string
	}
	type doc struct {
		APIVersion, Kind string
		Metadata         struct{ Name, Namespace string }
		Results          []result
	}
	for api, kinds := range map[string][2]string{
		"":            {"openreports.io/v1alpha1 Report", "openreports.io/v1alpha1 ClusterReport"},
		"wgpolicyk8s": {"wgpolicyk8s.io/v1alpha2 PolicyReport", "wgpolicyk8s.io/v1alpha2 ClusterPolicyReport"},
	} {
		t.Run("api "+api, func(t *testing.T) {
			args := []string{"-o", "policyreport"}
			if api != "" {
				args = append(args, "--report-api", api)
			}
			out := scanExample(t, args...)
			fails := map[string]string{}
			for _, part := range strings.Split(strings.TrimPrefix(out, "---\n"), "\n---\n") {
				var d doc
				require.NoError(t, yaml.Unmarshal([]byte(part), &d))
				kind := kinds[0]
				if d.Metadata.Namespace == "" {
					kind = kinds[1]
				}
				assert.Equal(t, kind, d.APIVersion+" "+d.Kind)
				assert.Equal(t, "enforcement-auditor", d.Metadata.Name)
				for _, r := range d.Results {
					if r.Result != "fail" {
						continue
					}
					require.Len(t, r.Resources, 1)
					assert.Equal(t, d.Metadata.Namespace, r.Resources[0].Namespace, "a result is in its object's namespace report")
					assert.NotEmpty(t, r.Properties["location"])
					fails[r.Rule] = r.Policy + " " + r.Severity + " " + d.Metadata.Namespace + "/" + r.Resources[0].Name
				}
			}
			assert.Equal(t, map[string]string{
				"netpol-ingress-outside-allowlist": "SR1 critical inference/allow-search-evaluation",
				"gpu-gate-policy-not-enforcing":    "SR2 critical /require-kueue-queue-name",
				"gpu-pod-missing-queue-name":       "SR2 high team-search/adhoc-mig-notebook",
				"budget-db-not-ha-in-prod":         "SR3 high litellm/litellm-pg",
			}, fails)
		})
	}
	_, errOut, code := execute(t, "", "scan", "-f", "examples/platform", "--report-api", "v1")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--report-api: "v1", want one of openreports, wgpolicyk8s`)
}

// TestScanSummaryOnStderrWithoutATable: with only files (or a machine format) as outputs,
// a failing CI step's log still says what the scan found and why it exits as it does.
func TestScanSummaryOnStderrWithoutATable(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := execute(t, "", "scan", "-f", "../../examples/platform", "-o", "sarif="+filepath.Join(dir, "r.sarif"), "-o", "junit="+filepath.Join(dir, "j.xml"))
	require.Equal(t, 1, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "4 findings (critical 2, high 2, medium 0, low 0, info 0, waived 0); --fail-on high: FAIL\n")
	assert.Contains(t, errOut, "exit status 1: 4 findings at or above --fail-on high")

	_, errOut, code = execute(t, "", "scan", "-f", "../../examples/platform", "-o", "table", "-o", "json="+filepath.Join(dir, "r.json"))
	require.Equal(t, 1, code)
	assert.NotContains(t, errOut, "findings (critical", "the table on stdout says it already")
}
