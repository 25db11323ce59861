package auditor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
	return p
}

func TestLoadConfig(t *testing.T) {
	header := "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\n"
	cases := map[string]struct {
		file    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		"no file: the platform's design": {
			check: func(t *testing.T, c Config) {
				assert.Equal(t, []string{"serving", "inference"}, c.SR1.ProtectedNamespaces)
				assert.Equal(t, []string{"litellm", "inference", "agentgateway-system", "monitoring"}, c.SR1.TrustedNamespaces)
				assert.Equal(t, "kueue.x-k8s.io/queue-name", c.SR2.QueueNameLabel)
				assert.Equal(t, []string{"require-kueue-queue-name"}, c.SR2.GatePolicyNames)
				assert.Equal(t, "llm-platform/profile", c.SR3.ProfileLabel)
				assert.Equal(t, []string{"prod"}, c.SR3.ProdProfiles)
			},
		},
		"partial file keeps other defaults": {
			file: header + "sr1:\n  protectedNamespaces: [vllm]\n",
			check: func(t *testing.T, c Config) {
				assert.Equal(t, []string{"vllm"}, c.SR1.ProtectedNamespaces)
				assert.Equal(t, []string{"prod"}, c.SR3.ProdProfiles)
			},
		},
		"a selector replaces the default one instead of adding labels": {
			file: header + "sr2:\n  kueueManagedNamespaceSelector:\n    matchLabels: {gpu/managed: \"yes\"}\n",
			check: func(t *testing.T, c Config) {
				assert.Equal(t, map[string]string{"gpu/managed": "yes"}, c.SR2.KueueManagedNamespaceSelector.MatchLabels)
				assert.Equal(t, "gpu/managed=yes", c.KueueManagedSelector().String())
			},
		},
		"unknown field is named": {
			file:    header + "sr1:\n  protectedNamespace: [vllm]\n",
			wantErr: `unknown field "sr1.protectedNamespace"`,
		},
		"wrong apiVersion": {
			file:    "apiVersion: v1\nkind: AuditorConfig\n",
			wantErr: "apiVersion",
		},
		"invalid namespace name": {
			file:    header + "sr1:\n  trustedNamespaces: [Not_A_Name]\n",
			wantErr: "sr1.trustedNamespaces[0]",
		},
		"invalid selector": {
			file:    header + "sr2:\n  kueueManagedNamespaceSelector:\n    matchExpressions: [{key: a, operator: Bogus}]\n",
			wantErr: "sr2.kueueManagedNamespaceSelector",
		},
		"GPU pattern with a star in the middle": {
			file:    header + "sr2:\n  gpuResources: ['nvidia.com/*-gpu']\n",
			wantErr: "sr2.gpuResources[0]",
		},
		"empty prod profiles": {
			file:    header + "sr3:\n  prodProfiles: []\n",
			wantErr: "sr3.prodProfiles: must not be empty",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeConfig(t, tc.file)
			}
			c, err := LoadConfig(path)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestIsGPUResource(t *testing.T) {
	c := DefaultConfig().SR2
	for name, want := range map[string]bool{
		"nvidia.com/gpu":           true,
		"nvidia.com/mig-1g.10gb":   true,
		"nvidia.com/mig-3g.40gb":   true,
		"amd.com/gpu":              true,
		"nvidia.com/gpu.shared":    false,
		"cpu":                      false,
		"example.com/nvidia.com/g": false,
	} {
		assert.Equal(t, want, c.IsGPUResource(name), name)
	}
}
