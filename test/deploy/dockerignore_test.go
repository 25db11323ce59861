package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerignoreKeepsSecretsOut: keys, kubeconfigs and environment files never enter
// the image's build context, wherever they sit in the tree.
func TestDockerignoreKeepsSecretsOut(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	require.NoError(t, err)
	patterns := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns[l] = true
			assert.False(t, strings.HasPrefix(l, "!"), "no re-inclusion: %s", l)
		}
	}
	for _, p := range []string{"**/*.key", "**/*.pem", "**/*kubeconfig*", "**/.kube", "**/.env", "**/.env.*", "**/*.env", ".git"} {
		assert.True(t, patterns[p], ".dockerignore lacks %s", p)
	}
}
