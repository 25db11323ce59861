package sr1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// TestAdminPolicyViewsTolerateOddShapes: cluster-scoped policies arrive as unstructured
// objects, from manifests too; wrong types must become problems naming the field, never
// a panic, and never a silent pass.
func TestAdminPolicyViewsTolerateOddShapes(t *testing.T) {
	cases := map[string]struct {
		spec        any
		wantProblem string // substring of one problem; empty: none expected
	}{
		"spec is a string":                 {spec: "x", wantProblem: "spec.subject is missing"},
		"subject sets neither field":       {spec: map[string]any{"subject": map[string]any{}}, wantProblem: "sets neither namespaces nor pods"},
		"subject namespaces not a map":     {spec: map[string]any{"subject": map[string]any{"namespaces": []any{"a"}}}, wantProblem: "spec.subject: namespaces is not a label selector"},
		"matchLabels value not a string":   {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{"matchLabels": map[string]any{"a": 1}}}}, wantProblem: "matchLabels[a] is not a string"},
		"matchExpressions bad operator":    {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{"matchExpressions": []any{map[string]any{"key": "a", "operator": "Near"}}}}}, wantProblem: "spec.subject: "},
		"pods namespaceSelector a string":  {spec: map[string]any{"subject": map[string]any{"pods": map[string]any{"namespaceSelector": "all"}}}, wantProblem: "pods.namespaceSelector is not a label selector"},
		"pods without selectors (v1beta1)": {spec: map[string]any{"subject": map[string]any{"pods": map[string]any{}}}},
		"ingress is a map":                 {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{}}, "ingress": map[string]any{}}, wantProblem: "spec.ingress is not a list"},
		"rule is a number":                 {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{}}, "ingress": []any{7}}, wantProblem: "spec.ingress[0] is not an object"},
		"from is a string":                 {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{}}, "ingress": []any{map[string]any{"action": "Allow", "from": "all"}}}, wantProblem: "spec.ingress[0].from is not a list"},
		"peer networks not a list":         {spec: map[string]any{"subject": map[string]any{"namespaces": map[string]any{}}, "ingress": []any{map[string]any{"action": "Allow", "from": []any{map[string]any{"networks": "0.0.0.0/0"}}}}}, wantProblem: "networks is not a list"},
		"Go int priority (not JSON int64)": {spec: map[string]any{"priority": 5, "subject": map[string]any{"namespaces": map[string]any{}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := adminNetPol("AdminNetworkPolicy", "odd", nil)
			u.Object["spec"] = tc.spec
			var p adminPolicy
			require.NotPanics(t, func() { p = readAdminPolicy(u) })
			if tc.wantProblem == "" {
				assert.Empty(t, p.problems)
				return
			}
			assert.Contains(t, strings.Join(p.problems, "\n"), tc.wantProblem)
			res := ruleFor(ingressOutsideAllowlist)(auditor.DefaultConfig()).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), u))
			require.NotEmpty(t, res.Inconclusive, "a policy the auditor cannot read must not pass silently")
			assert.Contains(t, res.Inconclusive[0], "AdminNetworkPolicy/odd")
		})
	}
}

func TestAdminPolicyNetworksAndUnknownPeers(t *testing.T) {
	subject := map[string]any{"namespaces": selectorMap(corev1.LabelMetadataName, "inference")}
	cases := map[string]struct {
		peer     map[string]any
		contains string
	}{
		"networks peer admits CIDRs":                                 {peer: map[string]any{"networks": []any{"10.0.0.0/8"}}, contains: "into inference from CIDRs 10.0.0.0/8 (from[0].networks)"},
		"unknown peer field is named":                                {peer: map[string]any{"nodes": map[string]any{}}, contains: `from[0] (field "nodes" not understood by the auditor)`},
		"pods peer in an untrusted namespace":                        {peer: map[string]any{"pods": map[string]any{"namespaceSelector": selectorMap("llm-platform/team", "web"), "podSelector": map[string]any{}}}, contains: "namespaces team-web"},
		"pods peer without namespaceSelector admits every namespace": {peer: map[string]any{"pods": map[string]any{"podSelector": selectorMap("app", "x")}}, contains: "into inference from every namespace"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := adminNetPol("AdminNetworkPolicy", "p", adminNetPolSpec("Allow", subject, tc.peer))
			res := ruleFor(ingressOutsideAllowlist)(auditor.DefaultConfig()).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), u))
			require.Len(t, res.Findings, 1)
			assert.Contains(t, res.Findings[0].Message, tc.contains)
		})
	}
}
