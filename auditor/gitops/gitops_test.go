package gitops_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor/gitops"
)

const tree = "../../examples/gitops"

func TestPlanFindsRootsOfAGitOpsTree(t *testing.T) {
	var warnings []string
	plan, err := gitops.PlanPaths([]string{tree}, gitops.Options{Warn: func(s string) { warnings = append(warnings, s) }})
	require.NoError(t, err)
	var got []string
	for _, r := range plan.Roots {
		got = append(got, string(r.Kind)+" "+strings.TrimPrefix(r.Dir, tree))
	}
	// The base both overlays build on is not a root; the chart is one, not its files.
	assert.Equal(t, []string{
		"helm /charts/gateway-policy",
		"kustomize /network/overlays/dev",
		"kustomize /network/overlays/prod",
		"manifests ",
	}, got)
	plain := plan.Roots[3].Inputs
	assert.Equal(t, []gitops.Input{
		{Path: filepath.Join(tree, "ci/pipeline.yaml"), Walked: true},
	}, plain, "the overlays' and base's files belong to their kustomization; scratch/ is ignored")
	assert.Equal(t, []string{filepath.Join(tree, "scratch")}, plan.Ignored)
	assert.Empty(t, warnings)

	envs := gitops.Environments(plan, false)
	require.Len(t, envs, 4, "two overlays, a chart and the plain manifests: four environments")
	assert.Equal(t, filepath.Join(tree, "charts/gateway-policy"), envs[0].Name)
	assert.Equal(t, filepath.Join(tree, "network/overlays/dev"), envs[1].Name)
	assert.Equal(t, []gitops.Root{plan.Roots[1]}, envs[1].Roots, "each root alone")
	assert.Equal(t, gitops.PlainEnvironment, envs[3].Name)

	one := gitops.Environments(plan, true)
	require.Len(t, one, 1, "--one-platform: every root together")
	assert.Empty(t, one[0].Name)
	assert.Len(t, one[0].Roots, 4)
}

func TestPlanOfPlainInputsIsOnePlatform(t *testing.T) {
	plan, err := gitops.PlanPaths([]string{"-", filepath.Join(tree, "network/base/namespaces.yaml"), "../../examples/platform"}, gitops.Options{})
	require.NoError(t, err)
	require.Len(t, plan.Roots, 1)
	in := plan.Roots[0].Inputs
	require.Len(t, in, 7)
	assert.Equal(t, gitops.Input{Path: "-"}, in[0], "inputs keep the order given")
	assert.False(t, in[1].Walked, "a file named is not lenient")
	assert.True(t, in[2].Walked)
	envs := gitops.Environments(plan, false)
	require.Len(t, envs, 1)
	assert.Empty(t, envs[0].Name, "one platform has no name, so outputs stay as they were")
}

func TestPlanSkipFlagAndRemoteBases(t *testing.T) {
	plan, err := gitops.PlanPaths([]string{tree}, gitops.Options{Skip: []string{"network/", "/charts"}})
	require.NoError(t, err)
	require.Len(t, plan.Roots, 1, "--skip adds to the ignore file")
	assert.Equal(t, []gitops.Input{{Path: filepath.Join(tree, "ci/pipeline.yaml"), Walked: true}}, plan.Roots[0].Inputs)
	assert.Len(t, plan.Ignored, 3, "scratch, network and charts")

	dir := t.TempDir()
	write(t, dir, "kustomization.yaml", "resources:\n- https://github.com/example/platform//base?ref=v1\n")
	_, err = gitops.PlanPaths([]string{dir}, gitops.Options{})
	require.ErrorContains(t, err, "is a remote resource: a scan does not fetch")
	require.ErrorContains(t, err, filepath.Join(dir, "kustomization.yaml"))
}

func TestPlanSkipsFIFOs(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o600))
	var warnings []string
	plan, err := gitops.PlanPaths([]string{dir}, gitops.Options{Warn: func(s string) { warnings = append(warnings, s) }})
	require.NoError(t, err)
	require.Len(t, plan.Roots[0].Inputs, 1)
	require.Len(t, warnings, 1)
	assert.Contains(t, warnings[0], "pipe.yaml: skipped: not a regular file (a FIFO)")
}

func TestRenderKustomizationNamesEachObjectsFile(t *testing.T) {
	docs, err := gitops.Render(gitops.Root{Kind: gitops.Kustomize, Dir: filepath.Join(tree, "network/overlays/dev")}, gitops.RenderOptions{})
	require.NoError(t, err)
	require.Len(t, docs, 6, "four namespaces and two policies")
	byName := map[string]gitops.Document{}
	for _, d := range docs[4:] {
		var o struct {
			Metadata struct {
				Name        string            `json:"name"`
				Namespace   string            `json:"namespace"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec map[string]any `json:"spec"`
		}
		require.NoError(t, yaml.Unmarshal(d.Data, &o))
		assert.Equal(t, "serving", o.Metadata.Namespace)
		assert.Empty(t, o.Metadata.Annotations, "the origin annotation the scan asked for is not left on the object")
		byName[o.Metadata.Name] = d
	}
	allow := byName["allow-budget-path"]
	assert.Equal(t, filepath.Join(tree, "network/base/allow-budget-path.yaml"), allow.File, "the resource's own file, from its origin")
	assert.Equal(t, 2, allow.Line, "the document starts after the file's comment line")
	assert.Equal(t, filepath.Join(tree, "network/base/namespaces.yaml"), docs[0].File)
	assert.Contains(t, string(allow.Data), "namespaceSelector: {}", "the overlay's patch is applied")
	assert.Equal(t, 1, byName["default-deny-ingress"].Line)
}

func TestRenderChartAsHelmTemplate(t *testing.T) {
	chart := gitops.Root{Kind: gitops.Helm, Dir: filepath.Join(tree, "charts/gateway-policy")}
	docs, err := gitops.Render(chart, gitops.RenderOptions{})
	require.NoError(t, err)
	require.Len(t, docs, 3, "the namespace and two NetworkPolicies; NOTES.txt and the helpers are not objects")
	assert.Equal(t, filepath.Join(tree, "charts/gateway-policy/templates/namespace.yaml"), docs[0].File)
	docs = docs[1:]
	tmpl := filepath.Join(tree, "charts/gateway-policy/templates/networkpolicies.yaml")
	assert.Equal(t, tmpl, docs[0].File)
	assert.Equal(t, 1, docs[0].Line)
	assert.Equal(t, tmpl, docs[1].File)
	assert.Equal(t, 12, docs[1].Line, "where the template's second document starts")
	assert.Contains(t, string(docs[1].Data), "namespaceSelector: {}", "the chart's default values")
	assert.Contains(t, string(docs[0].Data), "app.kubernetes.io/instance: release-name", "helm template's default release name")

	docs, err = gitops.Render(chart, gitops.RenderOptions{ValueFiles: []string{filepath.Join(tree, "charts/gateway-policy/values-prod.yaml")}, ReleaseName: "gw"})
	require.NoError(t, err)
	assert.NotContains(t, string(docs[2].Data), "namespaceSelector: {}", "--values overrides the chart's values")
	assert.Contains(t, string(docs[1].Data), "app.kubernetes.io/instance: gw")

	docs, err = gitops.Render(chart, gitops.RenderOptions{Set: []string{"extraClients={team-a,team-b}"}})
	require.NoError(t, err)
	assert.Contains(t, string(docs[2].Data), "kubernetes.io/metadata.name: team-b", "--set as helm takes it")

	_, err = gitops.Render(chart, gitops.RenderOptions{MaxBytes: 100})
	require.ErrorContains(t, err, "exceeds the budget")
}

func TestRenderRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "kustomization.yaml", "resources:\n- pipe.yaml\n")
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o600))
	_, err := gitops.Render(gitops.Root{Kind: gitops.Kustomize, Dir: dir}, gitops.RenderOptions{})
	require.ErrorContains(t, err, "not a regular file (a FIFO)")

	write(t, dir, "kustomization.yaml", "resources:\n- big.yaml\n")
	write(t, dir, "big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: "+strings.Repeat("x", 4096)+"}\n")
	_, err = gitops.Render(gitops.Root{Kind: gitops.Kustomize, Dir: dir}, gitops.RenderOptions{MaxBytes: 1024})
	require.ErrorContains(t, err, "big.yaml")
	require.ErrorContains(t, err, "file too large")
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}
