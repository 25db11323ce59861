package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestKyvernoWildcard(t *testing.T) {
	tests := map[string]struct {
		pattern, s string
		want       bool
	}{
		"exact":             {"team-a", "team-a", true},
		"star suffix":       {"team-*", "team-search", true},
		"star matches none": {"team-*", "team-", true},
		"star inside":       {"t*-search", "team-search", true},
		"question mark":     {"team-?", "team-a", true},
		"question mark one": {"team-?", "team-ab", false},
		"no match":          {"team-*", "serving", false},
		"only star":         {"*", "", true},
		"empty pattern":     {"", "x", false},
		"backtracking":      {"*a*b", "xaxxb", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, kyvernoWildcard(tc.pattern, tc.s))
		})
	}
}

func TestKindSelectsPodCreate(t *testing.T) {
	tests := map[string]bool{
		"Pod":                     true,
		"v1/Pod":                  true,
		"*/Pod":                   true,  // Kyverno reads "*" as the version
		"*/exec":                  false, // and "*/<lower case>" as any kind's subresource
		"*":                       true,
		"*/*":                     true,
		"P*":                      true,
		"core/v1/Pod":             true,
		"/v1/Pod":                 true,
		"apps/v1/Deployment":      false,
		"Deployment":              false,
		"Pod/exec":                false,
		"Pod.ephemeralcontainers": false,
		"v2/Pod":                  false,
		"":                        false,
	}
	for sel, want := range tests {
		t.Run(sel, func(t *testing.T) {
			assert.Equal(t, want, kindSelectsPodCreate(sel))
		})
	}
}

func TestGPUResourcesMissed(t *testing.T) {
	resources := auditor.DefaultConfig().SR2.GPUResources // nvidia.com/gpu, nvidia.com/mig-*, amd.com/gpu
	tests := map[string]struct {
		text []string
		want []string
	}{
		"every resource named":        {text: []string{"limits['nvidia.com/gpu']", "nvidia.com/mig-*", "amd.com/gpu"}},
		"vendor prefix via CEL":       {text: []string{"r.startsWith('nvidia.com/') || r == 'amd.com/gpu'"}},
		"vendor prefix via JMESPath":  {text: []string{"[?starts_with(@, 'nvidia.com/')]", "amd.com/gpu"}},
		"vendor wildcard key":         {text: []string{"X(nvidia.com/*)", "X(amd.com/*)"}},
		"only nvidia.com/gpu":         {text: []string{"resources.limits.\"nvidia.com/gpu\""}, want: []string{"nvidia.com/mig-*", "amd.com/gpu"}},
		"a MIG profile is not all":    {text: []string{"nvidia.com/gpu", "nvidia.com/mig-1g.10gb", "amd.com/gpu"}, want: []string{"nvidia.com/mig-*"}},
		"MIG prefix literally":        {text: []string{"nvidia.com/gpu", "r.startsWith('nvidia.com/mig-')", "amd.com/gpu"}},
		"a longer name is another":    {text: []string{"nvidia.com/gpu.shared", "nvidia.com/mig-*", "amd.com/gpu"}, want: []string{"nvidia.com/gpu"}},
		"checks limits, names no GPU": {text: []string{"resources.limits.cpu"}, want: []string{"nvidia.com/gpu", "nvidia.com/mig-*", "amd.com/gpu"}},
		"resource-agnostic":           {text: []string{"metadata", "labels", "kueue.x-k8s.io/queue-name", "?*"}},
		"empty":                       {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, gpuResourcesMissed(tc.text, resources))
		})
	}
}

func TestParseKyvernoResourceFilters(t *testing.T) {
	got := parseKyvernoResourceFilters("[Event,*,*] [*/*,kube-system,*][Pod,team-*]\n[broken")
	assert.Equal(t, []kyvernoResourceFilter{
		{kind: "Event", namespace: "*", name: "*", raw: "[Event,*,*]"},
		{kind: "*/*", namespace: "kube-system", name: "*", raw: "[*/*,kube-system,*]"},
		{kind: "Pod", namespace: "team-*", name: "*", raw: "[Pod,team-*]"},
	}, got)
	assert.Empty(t, parseKyvernoResourceFilters(""))
}

func TestClusterPolicyActionIn(t *testing.T) {
	research, search := sr2Managed("team-research"), sr2Managed("team-search")
	tests := map[string]struct {
		muts          []sr2Mut
		research      string
		search        string
		researchField string
	}{
		"rule action":     {research: "Enforce", search: "Enforce", researchField: "spec.rules[0].validate.failureAction"},
		"CRD default":     {muts: []sr2Mut{sr2SetRule(nil, "validate", "failureAction")}, research: "Audit", search: "Audit", researchField: "spec.validationFailureAction (unset: the CRD defaults it to Audit)"},
		"spec action":     {muts: []sr2Mut{sr2SetRule(nil, "validate", "failureAction"), sr2Set("Enforce", "spec", "validationFailureAction")}, research: "Enforce", search: "Enforce", researchField: "spec.validationFailureAction"},
		"global override": {muts: []sr2Mut{sr2SetRule([]any{map[string]any{"action": "Audit"}}, "validate", "failureActionOverrides")}, research: "Audit", search: "Audit", researchField: "spec.rules[0].validate.failureActionOverrides[0].action"},
		"first matching override wins": {
			muts: []sr2Mut{sr2SetRule([]any{
				map[string]any{"action": "Enforce", "namespaces": []any{"team-research"}},
				map[string]any{"action": "Audit", "namespaces": []any{"team-*"}},
			}, "validate", "failureActionOverrides")},
			research: "Enforce", search: "Audit", researchField: "spec.rules[0].validate.failureActionOverrides[0].action",
		},
		"rule overrides replace the spec's": {
			muts: []sr2Mut{
				sr2Set([]any{map[string]any{"action": "Audit"}}, "spec", "validationFailureActionOverrides"),
				sr2SetRule([]any{map[string]any{"action": "Enforce", "namespaces": []any{"team-research"}}}, "validate", "failureActionOverrides"),
			},
			research: "Enforce", search: "Enforce", researchField: "spec.rules[0].validate.failureActionOverrides[0].action",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := newClusterPolicy(sr2Policy(t, tc.muts...))
			assert.Empty(t, p.Problems)
			a, from := p.actionIn(p.Rules[0], research)
			assert.Equal(t, tc.research, a)
			assert.Equal(t, tc.researchField, from)
			a, _ = p.actionIn(p.Rules[0], search)
			assert.Equal(t, tc.search, a)
		})
	}
}

// Every SR2 rule must survive objects whose fields have the wrong type: the rule names the
// object and field (inconclusive) instead of panicking.
func TestSR2RulesTolerateMalformedObjects(t *testing.T) {
	odd := []string{
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: []}`,
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: {rules: [1, "x", {match: [], exclude: 3, validate: "deny"}], validationFailureActionOverrides: {}, admission: "yes", webhookConfiguration: []}, status: {conditions: [{type: Ready, status: 7}], ready: "true"}}`,
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: {rules: [{match: {any: [{resources: {kinds: [1], namespaces: "a", namespaceSelector: "x", selector: {matchLabels: [1]}}}]}, validate: {failureAction: 1, failureActionOverrides: [{action: [], namespaceSelector: {matchExpressions: [{key: k, operator: Bogus}]}}]}}]}}`,
		`{apiVersion: policies.kyverno.io/v1alpha1, kind: ValidatingPolicy, metadata: {name: require-kueue-queue-name}, spec: {matchConstraints: [], validationActions: "Deny", evaluation: {admission: {enabled: "no"}}}, status: {conditionStatus: []}}`,
		`{apiVersion: kueue.x-k8s.io/v1beta2, kind: Workload, metadata: {name: w, namespace: team-search, ownerReferences: "x"}, spec: 1, status: {admission: [], conditions: [1, {type: 2}]}}`,
	}
	objs := append(sr2Platform(),
		sr2Pod("team-search", "p", sr2GPU(1), sr2Queue("q")),
		sr2Webhooks(), sr2Lease(1),
	)
	for _, d := range odd {
		objs = append(objs, sr2Obj(t, d))
	}
	s := sr2Snap(t, objs...)
	for _, mk := range []func(auditor.Config) auditor.Rule{GPUPodMissingQueueName, GPUPodNotAdmitted, GPUGatePolicyMissing, GPUGatePolicyNotEnforcing, GPUGateBypassed} {
		res := sr2Eval(t, mk, s)
		if mk(auditor.DefaultConfig()).Meta().ID == "gpu-gate-policy-not-enforcing" {
			assert.NotEmpty(t, res.Inconclusive, "malformed policies are named")
			all := strings.Join(res.Inconclusive, "\n")
			for _, want := range []string{
				"ClusterPolicy require-kueue-queue-name: spec is a list, want an object",
				"ClusterPolicy require-kueue-queue-name: spec.rules[0] is a number, want an object",
				"ClusterPolicy require-kueue-queue-name: spec.admission is a string, want a boolean",
				"ClusterPolicy require-kueue-queue-name: spec.rules[0].match.any[0].resources.kinds[0] is a number, want a string",
				"ValidatingPolicy require-kueue-queue-name: spec.matchConstraints is a list, want an object",
			} {
				assert.Contains(t, all, want)
			}
		}
	}
	// The views themselves never panic on a bare object either.
	assert.NotPanics(t, func() {
		newClusterPolicy(&unstructured.Unstructured{Object: map[string]any{}})
		newValidatingPolicy(&unstructured.Unstructured{Object: map[string]any{}})
		newKueueWorkload(&unstructured.Unstructured{Object: map[string]any{}})
	})
}
