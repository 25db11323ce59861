package deploy

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
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
