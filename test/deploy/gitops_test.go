package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor/gitops"
)

// TestGitOpsRenderMatchesTheTools: what a scan renders of every kustomization and chart
// of this repository and of examples/gitops is, object for object, what the real
// `kustomize build` and `helm template` print, so a scan of a GitOps tree judges what
// Argo CD or Flux would apply.
func TestGitOpsRenderMatchesTheTools(t *testing.T) {
	root := repoRoot(t)
	plan, err := gitops.PlanPaths([]string{filepath.Join(root, "deploy"), filepath.Join(root, "examples", "gitops")}, gitops.Options{})
	require.NoError(t, err)
	kinds := map[gitops.Kind]int{}
	for _, r := range plan.Roots {
		if r.Kind == gitops.Manifests {
			continue
		}
		rel, err := filepath.Rel(root, r.Dir)
		require.NoError(t, err)
		kinds[r.Kind]++
		t.Run(rel, func(t *testing.T) {
			var want []byte
			if r.Kind == gitops.Kustomize {
				want = run(t, nil, "kustomize", "build", rel)
			} else {
				want = run(t, nil, "helm", "template", rel)
			}
			docs, err := gitops.Render(r, gitops.RenderOptions{})
			require.NoError(t, err)
			var got bytes.Buffer
			for _, d := range docs {
				got.WriteString("---\n")
				got.Write(d.Data)
				got.WriteString("\n")
			}
			assert.Equal(t, objectsOf(t, want), objectsOf(t, got.Bytes()))
		})
	}
	assert.GreaterOrEqual(t, kinds[gitops.Kustomize], 5, "deploy/overlays, deploy/examples and the example's overlays")
	assert.Equal(t, 2, kinds[gitops.Helm], "the auditor's chart and the example's chart")

	// Values as helm takes them.
	chart := filepath.Join("examples", "gitops", "charts", "gateway-policy")
	values := filepath.Join(chart, "values-prod.yaml")
	want := run(t, nil, "helm", "template", "gw", chart, "--values", values, "--set", "extraClients[0]=team-a", "--namespace", "inference")
	docs, err := gitops.Render(gitops.Root{Kind: gitops.Helm, Dir: filepath.Join(root, chart)}, gitops.RenderOptions{
		ValueFiles: []string{filepath.Join(root, values)}, Set: []string{"extraClients[0]=team-a"}, ReleaseName: "gw", Namespace: "inference"})
	require.NoError(t, err)
	var got bytes.Buffer
	for _, d := range docs {
		fmt.Fprintf(&got, "---\n%s\n", d.Data)
	}
	assert.Equal(t, objectsOf(t, want), objectsOf(t, got.Bytes()))
}

// objectsOf decodes a YAML stream into its objects, as JSON, sorted.
func objectsOf(t *testing.T, stream []byte) []string {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var out []string
	for {
		var o map[string]any
		if err := dec.Decode(&o); err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		if o == nil {
			continue
		}
		j, err := sigsyaml.Marshal(o)
		require.NoError(t, err)
		out = append(out, string(j))
	}
	sort.Strings(out)
	return out
}

// TestScanOfAGitOpsTreeFindsWhatTheRenderedOutputHolds: `scan -f examples/gitops` finds,
// in each environment, exactly the defects a scan of that root's `kustomize build` or
// `helm template` output finds; and `scan -f .` on this repository exits by its findings
// (1), not as unreadable input (2).
func TestScanOfAGitOpsTreeFindsWhatTheRenderedOutputHolds(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "enforcement-auditor")
	build := exec.Command("go", "build", "-o", bin, "./cmd/enforcement-auditor")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	scan := func(stdin []byte, args ...string) (scanReport, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"scan", "-o", "json"}, args...)...)
		cmd.Dir = root
		cmd.Stdin = bytes.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := 0
		if err := cmd.Run(); err != nil {
			ee, ok := err.(*exec.ExitError)
			require.True(t, ok, "%v\n%s", err, stderr.String())
			code = ee.ExitCode()
		}
		require.NotEqual(t, 2, code, "scan %v: %s", args, stderr.String())
		var rep scanReport
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), stderr.String())
		return rep, code
	}

	tree, code := scan(nil, "-f", "examples/gitops")
	assert.Equal(t, 1, code)
	byEnv := map[string][]string{}
	for _, f := range tree.Findings {
		byEnv[f.Environment] = append(byEnv[f.Environment], f.key())
	}
	assert.Contains(t, strings.Join(byEnv["examples/gitops/network/overlays/dev"], "\n"), "netpol-ingress-outside-allowlist critical", "the dev overlay's open selector")
	assert.Contains(t, strings.Join(byEnv["examples/gitops/charts/gateway-policy"], "\n"), "netpol-ingress-outside-allowlist critical", "the chart's default values open the gateway")
	assert.NotContains(t, strings.Join(byEnv["examples/gitops/network/overlays/prod"], "\n"), "critical")

	rendered := map[string][]byte{
		"examples/gitops/network/overlays/dev":  run(t, nil, "kustomize", "build", "examples/gitops/network/overlays/dev"),
		"examples/gitops/network/overlays/prod": run(t, nil, "kustomize", "build", "examples/gitops/network/overlays/prod"),
		"examples/gitops/charts/gateway-policy": run(t, nil, "helm", "template", "examples/gitops/charts/gateway-policy"),
	}
	for env, stream := range rendered {
		rep, _ := scan(stream, "-f", "-")
		var got []string
		for _, f := range rep.Findings {
			got = append(got, f.key())
		}
		assert.ElementsMatch(t, got, byEnv[env], "%s: the tree's findings are the rendered output's", env)
	}
	assert.Empty(t, byEnv["manifests"], "the plain manifests (a CI pipeline) hold no object")
	serious := 0
	for _, f := range tree.Findings {
		if f.Severity != "info" && f.Severity != "low" {
			serious++
		}
	}
	assert.Equal(t, 2, serious, "the two deliberate defects, once each")

	// The chart with its prod values renders clean.
	prod, code := scan(nil, "-f", "examples/gitops/charts/gateway-policy", "--values", "examples/gitops/charts/gateway-policy/values-prod.yaml")
	assert.Equal(t, 0, code)
	for _, f := range prod.Findings {
		assert.Contains(t, []string{"info", "low"}, f.Severity, "%s", f.key())
	}

	whole, code := scan(nil, "-f", ".")
	assert.Equal(t, 1, code, "this repository's example platform carries its deliberate defects")
	assert.NotEmpty(t, whole.Findings)
}

type scanFinding struct {
	Rule        string            `json:"rule"`
	Severity    string            `json:"severity"`
	Object      map[string]string `json:"object"`
	Message     string            `json:"message"`
	Environment string            `json:"environment"`
}

// key is what a finding says, wherever it was read.
func (f scanFinding) key() string {
	return fmt.Sprintf("%s %s %v %s", f.Rule, f.Severity, f.Object, f.Message)
}

type scanReport struct {
	Findings []scanFinding `json:"findings"`
}
