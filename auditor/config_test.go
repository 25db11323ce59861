package auditor

import (
	"os"
	"path/filepath"
	"strings"
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
				assert.Equal(t, []Control{SR1, SR2, SR3}, c.Controls, "every control is claimed by default")
			},
		},
		"claimed controls replace the default list": {
			file: header + "controls: [SR1, SR3]\n",
			check: func(t *testing.T, c Config) {
				assert.True(t, c.Claims(SR1))
				assert.False(t, c.Claims(SR2))
				assert.True(t, c.Claims(SR3))
			},
		},
		"no control claimed": {
			file:  header + "controls: []\n",
			check: func(t *testing.T, c Config) { assert.False(t, c.Claims(SR1)) },
		},
		"an unknown control is named": {
			file:    header + "controls: [SR1, SR4]\n",
			wantErr: `controls[1]: "SR4" is not a control (want SR1, SR2 or SR3)`,
		},
		"a control claimed twice": {
			file:    header + "controls: [SR2, SR2]\n",
			wantErr: "controls[1]: SR2 given twice",
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
		"duplicate key, last would win": {
			file:    header + "sr1:\n  protectedNamespaces: [serving]\n  protectedNamespaces: [nothing-here]\n",
			wantErr: `line 5: duplicate key "sr1.protectedNamespaces" (first at line 4)`,
		},
		"duplicate section": {
			file:    header + "sr1: {}\nsr1: {}\n",
			wantErr: `duplicate key "sr1"`,
		},
		"invalid profile label": {
			file:    header + "sr3:\n  profileLabel: 'not a label'\n",
			wantErr: "sr3.profileLabel",
		},
		"empty prod profile": {
			file:    header + "sr3:\n  prodProfiles: ['']\n",
			wantErr: "sr3.prodProfiles[0]: must not be empty",
		},
		"invalid prod profile": {
			file:    header + "sr3:\n  prodProfiles: [prod, 'pr od']\n",
			wantErr: "sr3.prodProfiles[1]",
		},
		"GPU pattern matching everything": {
			file:    header + "sr2:\n  gpuResources: ['*']\n",
			wantErr: "sr2.gpuResources[0]",
		},
		"GPU name without domain": {
			file:    header + "sr2:\n  gpuResources: ['gpu']\n",
			wantErr: "sr2.gpuResources[0]",
		},
		"GPU domain prefix is fine": {
			file:  header + "sr2:\n  gpuResources: ['nvidia.com/*']\n",
			check: func(t *testing.T, c Config) { assert.True(t, c.SR2.IsGPUResource("nvidia.com/mig-1g.10gb")) },
		},
		"not-GPU resources: a prefix is fine": {
			file: header + "sr2:\n  notGPUResources: ['nvidia.com/rdma_shared_device_*', nvidia.com/hostdev]\n",
			check: func(t *testing.T, c Config) {
				assert.True(t, c.SR2.IsNotGPUResource("nvidia.com/rdma_shared_device_a"))
				assert.True(t, c.SR2.IsNotGPUResource("nvidia.com/hostdev"))
				assert.False(t, c.SR2.IsNotGPUResource("nvidia.com/gpu"))
			},
		},
		"not-GPU resource without domain": {
			file:    header + "sr2:\n  notGPUResources: [hostdev]\n",
			wantErr: "sr2.notGPUResources[0]",
		},
		"invalid gate policy name": {
			file:    header + "sr2:\n  gatePolicyNames: ['Not A Name']\n",
			wantErr: "sr2.gatePolicyNames[0]",
		},
		"invalid config key": {
			file:    header + "sr3:\n  configKey: 'a/b'\n",
			wantErr: "sr3.configKey",
		},
		"waiver duration of a century": {
			file:    header + "waivers:\n  maxDuration: 876000h\n",
			wantErr: "waivers.maxDuration: 876000h0m0s, must be at most 8784h0m0s",
		},
		"config that is not a regular file": {
			file:    "/dev/zero",
			wantErr: "not a regular file (a device)",
		},
		"sensitive kinds": {
			file: header + "sensitiveKinds: [Credential.vault.example.com, ConfigMap]\n",
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "Credential.vault.example.com", c.SensitiveGroupKinds()[0].String())
				assert.Equal(t, "ConfigMap", c.SensitiveGroupKinds()[1].String())
			},
		},
		"invalid sensitive kind": {
			file:    header + "sensitiveKinds: ['not a kind']\n",
			wantErr: "sensitiveKinds[0]",
		},
		"empty prod profiles": {
			file:    header + "sr3:\n  prodProfiles: []\n",
			wantErr: "sr3.prodProfiles: must not be empty",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := tc.file
			if tc.file != "" && !strings.HasPrefix(tc.file, "/dev/") {
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
		"nvidia.com/gpu":                true,
		"nvidia.com/mig-1g.10gb":        true,
		"nvidia.com/mig-3g.40gb":        true,
		"amd.com/gpu":                   true,
		"nvidia.com/gpu.shared":         true, // time-slicing with renameByDefault
		"nvidia.com/mig-1g.10gb.shared": true,
		"nvidia.com/gpu-2gb":            false,
		"cpu":                           false,
		"example.com/nvidia.com/g":      false,
	} {
		assert.Equal(t, want, c.IsGPUResource(name), name)
	}
}
