package integration

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLiveScanNamespaceScope runs `scan --namespace` on a real API server: scoped to
// the protected namespace, its missing default-deny is a finding (its policies were all
// read); scoped to another namespace, the protected namespace was not read, so the
// absence there is unknown, said so, and the control is unknown rather than violated.
func TestLiveScanNamespaceScope(t *testing.T) {
	protected, other := "it-scope-protected", "it-scope-tenant"
	createNamespace(t, protected, nil)
	createNamespace(t, other, nil)
	cfg := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\ncontrols: [SR1]\n"+
		"sr1: {protectedNamespaces: ["+protected+"], trustedNamespaces: [litellm]}\n"), 0o644))
	type report struct {
		Findings []struct {
			Rule   string `json:"rule"`
			Object *struct {
				Name string `json:"name"`
			} `json:"object"`
		} `json:"findings"`
		Controls     map[string]string   `json:"controls"`
		Inconclusive map[string][]string `json:"inconclusive"`
	}
	scan := func(ns string) (report, string) {
		cmd := exec.Command(binary, "scan", "--kubeconfig", kubeconfig, "--config", cfg, "-n", ns, "-o", "json", "--fail-on", "none", "--progress")
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		require.NoError(t, cmd.Run(), errOut.String())
		var r report
		require.NoError(t, json.Unmarshal(out.Bytes(), &r), errOut.String())
		return r, errOut.String()
	}

	in, _ := scan(protected)
	var denyMissing bool
	for _, f := range in.Findings {
		if f.Rule == "netpol-default-deny-missing" && f.Object != nil && f.Object.Name == protected {
			denyMissing = true
		}
	}
	assert.True(t, denyMissing, "the protected namespace was read: its missing default-deny is a finding: %+v", in)
	assert.Equal(t, "violated", in.Controls["SR1"])

	out, stderr := scan(other)
	for _, f := range out.Findings {
		assert.NotEqual(t, "netpol-default-deny-missing", f.Rule, "the protected namespace was not read")
	}
	assert.Contains(t, strings.Join(out.Inconclusive["netpol-default-deny-missing"], "\n"), "scan scoped to namespaces "+other+": its finding on Namespace/"+protected)
	assert.Contains(t, strings.Join(out.Inconclusive["protected-namespace-absent"], "\n"), "the namespaces read ("+other+") hold no protected namespace")
	assert.Equal(t, "unknown", out.Controls["SR1"])
	assert.NotContains(t, stderr, "level=", "plain messages on stderr")
}
