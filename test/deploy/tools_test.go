package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// repoRoot is the repository root: go test runs in the package directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// tool returns the path of a prebuilt tool from $TOOLS_BIN. Without TOOLS_BIN the test
// is skipped, except in CI where the missing tools are a failure: a check that silently
// skips in CI is no check.
func tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("TOOLS_BIN")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("TOOLS_BIN is not set in CI: run `TOOLS_BIN=$(hack/tools.sh) go test ./test/deploy/...`")
		}
		t.Skipf("TOOLS_BIN is not set: run `TOOLS_BIN=$(hack/tools.sh) go test ./test/deploy/...` to check %s", name)
	}
	p := filepath.Join(dir, name)
	_, err := os.Stat(p)
	require.NoError(t, err, "TOOLS_BIN=%s has no %s: rebuild with hack/tools.sh", dir, name)
	return p
}

// run executes a tool from the repository root and returns its stdout; a failure fails
// the test with the tool's output.
func run(t *testing.T, stdin io.Reader, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Dir = repoRoot(t)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "%s %s:\n%s%s", name, strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.Bytes()
}

// variants reads deploy/variants.txt: one kustomization directory per line.
func variants(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "deploy", "variants.txt"))
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, out)
	return out
}

// render builds a kustomization with the pinned kustomize and decodes every object.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	return decodeObjects(t, run(t, nil, "kustomize", "build", dir))
}

func decodeObjects(t *testing.T, b []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if m == nil {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// readYAML reads a YAML file of the repository into v, refusing fields v does not have.
func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(b, v), rel)
}

// readYAMLPart reads the part of a YAML file that v describes.
func readYAMLPart(t *testing.T, rel string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v), rel)
}
