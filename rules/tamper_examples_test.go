package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// TestTamperOnTheExamplePlatform: examples/platform plus one RoleBinding handing a tenant
// group a door turns the control violated, with a critical finding of its tamper rule on
// the binding that names the group and the path; without the binding the tamper rules
// are silent.
func TestTamperOnTheExamplePlatform(t *testing.T) {
	const binding = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: door, namespace: %[1]s}
rules:
- {apiGroups: ["%[2]s"], resources: [%[3]s], verbs: [%[4]s]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-door, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: door}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-research-devs}
`
	cases := map[string]struct {
		ns, group, resource, verb string
		control                   auditor.Control
		rule                      string
	}{
		"PolicyExceptions in the Kyverno namespace": {"kyverno", "kyverno.io", "policyexceptions", "create", auditor.SR2, "gpu-gate-tamper"},
		"pods in litellm":       {"litellm", "", "pods", "create", auditor.SR1, "budget-path-tamper"},
		"the LiteLLM ConfigMap": {"litellm", "", "configmaps", "update", auditor.SR3, "budget-config-tamper"},
	}
	cfg := auditor.DefaultConfig()
	eval := func(t *testing.T, extra string) *auditor.Evaluation {
		objs, err := manifests.Read([]string{"../examples/platform"}, nil)
		require.NoError(t, err)
		if extra != "" {
			more, err := manifests.Decode("rbac.yaml", strings.NewReader(extra))
			require.NoError(t, err)
			objs = append(objs, more...)
		}
		s, err := manifests.Snapshot(objs)
		require.NoError(t, err)
		s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		return engine.Evaluate(All(cfg), s, cfg.Waivers.MaxDuration.Duration)
	}
	base := eval(t, "")
	for _, f := range base.Findings {
		assert.NotContains(t, f.Rule, "tamper", "the example platform holds no RBAC: %s", f.Message)
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ev := eval(t, fmt.Sprintf(binding, c.ns, c.group, c.resource, c.verb))
			assert.Equal(t, auditor.Violated, ev.Controls[c.control])
			var hit *auditor.Finding
			for i, f := range ev.Findings {
				if f.Rule == c.rule && f.Object.Kind == "RoleBinding" && f.Object.Name == "tenant-door" {
					hit = &ev.Findings[i]
				}
			}
			require.NotNil(t, hit, "no %s finding on the binding", c.rule)
			assert.Equal(t, auditor.SeverityCritical, hit.Severity)
			assert.Contains(t, hit.Message, "Group team-research-devs (tenant identity)")
			assert.Contains(t, hit.Message, "RoleBinding "+c.ns+"/tenant-door (subject 0) -> Role "+c.ns+"/door rule 0")
			assert.Contains(t, hit.Message, "[rbac.yaml:1, rule 0]")
			require.NotNil(t, hit.Location)
			assert.Equal(t, "rbac.yaml", hit.Location.File)
		})
	}
}
