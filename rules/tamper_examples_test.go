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
// the binding that names the group and the path; without any RBAC object the tamper
// rules are silent and do not make the controls unknown (docs/rules, "Without RBAC among
// the inputs").
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
	for _, r := range []string{"budget-path-tamper", "gpu-gate-tamper", "budget-config-tamper"} {
		assert.Empty(t, base.Inconclusive[r], "the example's own grants (40-rbac.yaml) are judged")
	}
	// Without any binding among the inputs nobody is known to hold a grant, nor known to
	// hold none: the tamper rules have not judged, and say so.
	objs, err := manifests.Read([]string{"../examples/platform"}, nil)
	require.NoError(t, err)
	var noRBAC []manifests.Object
	for _, o := range objs {
		if o.GroupVersionKind().Group != "rbac.authorization.k8s.io" {
			noRBAC = append(noRBAC, o)
		}
	}
	s, err := manifests.Snapshot(noRBAC)
	require.NoError(t, err)
	blind := engine.Evaluate(All(cfg), s, cfg.Waivers.MaxDuration.Duration)
	for _, r := range []string{"budget-path-tamper", "gpu-gate-tamper", "budget-config-tamper"} {
		require.NotEmpty(t, blind.Inconclusive[r], r)
		assert.Contains(t, strings.Join(blind.Inconclusive[r], "\n"), "no RoleBinding among the inputs")
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

// TestTamperTenantOwnNamespace: a tenant starting pods in its own namespace that the gate
// does not cover (team-web is not Kueue-managed) is what the SR2 scope rules judge, not
// a door; the same rules granted cluster-wide are one, naming team-web.
func TestTamperTenantOwnNamespace(t *testing.T) {
	const own = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pods}
rules:
- {apiGroups: [""], resources: [pods], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs, namespace: team-web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pods}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-web-devs}
`
	const clusterWide = `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everywhere}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pods}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-web-devs}
`
	cfg := auditor.DefaultConfig()
	eval := func(extra string) *auditor.Evaluation {
		objs, err := manifests.Read([]string{"../examples/platform"}, nil)
		require.NoError(t, err)
		more, err := manifests.Decode("rbac.yaml", strings.NewReader(extra))
		require.NoError(t, err)
		s, err := manifests.Snapshot(append(objs, more...))
		require.NoError(t, err)
		s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		return engine.Evaluate(All(cfg), s, cfg.Waivers.MaxDuration.Duration)
	}
	tamper := func(ev *auditor.Evaluation) []auditor.Finding {
		var out []auditor.Finding
		for _, f := range ev.Findings {
			if f.Rule == "gpu-gate-tamper" || f.Rule == "budget-path-tamper" {
				out = append(out, f)
			}
		}
		return out
	}
	assert.Empty(t, tamper(eval(own)), "a tenant's pods in its own namespace are not a tamper door")
	got := tamper(eval(own + clusterWide))
	var ungated *auditor.Finding
	for i, f := range got {
		if f.Rule == "gpu-gate-tamper" && f.Object.Name == "everywhere" {
			ungated = &got[i]
		}
		assert.NotEqual(t, "devs", f.Object.Name, "the namespace's own RoleBinding: %s", f.Message)
	}
	require.NotNil(t, ungated, "%v", got)
	assert.Contains(t, ungated.Message, "Group team-web-devs (tenant identity) may create pods in namespace")
	assert.Contains(t, ungated.Message, "start pods, GPU pods included, in a namespace the gate does not cover")
}

// TestAccessReviewCandidates: the questions the RBAC confirmation asks are the
// identities and requests of the tamper rules' direct findings, each once.
func TestAccessReviewCandidates(t *testing.T) {
	const binding = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: door, namespace: kyverno}
rules:
- {apiGroups: [kyverno.io], resources: [policyexceptions], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-door, namespace: kyverno}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: door}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: team-research-devs}
`
	objs, err := manifests.Read([]string{"../examples/platform"}, nil)
	require.NoError(t, err)
	more, err := manifests.Decode("rbac.yaml", strings.NewReader(binding))
	require.NoError(t, err)
	s, err := manifests.Snapshot(append(objs, more...))
	require.NoError(t, err)
	got := AccessReviewCandidates(auditor.DefaultConfig())(s.ForEvaluation())
	require.Len(t, got, 1, "%v", got)
	assert.Equal(t, auditor.AccessReview{Groups: []string{"team-research-devs", "system:authenticated"}, Verb: "create", Group: "kyverno.io",
		Resource: "policyexceptions", Namespace: "kyverno"}, got[0])
}
