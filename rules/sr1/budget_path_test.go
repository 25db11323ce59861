package sr1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

func TestNewBudgetPath(t *testing.T) {
	cfg := auditor.DefaultConfig()
	cfg.SR1.ProtectedNamespaces = []string{"serving", "inference", "serving"}
	cfg.SR1.TrustedNamespaces = []string{"monitoring", "litellm"}
	b := newBudgetPath(cfg)
	assert.Equal(t, []string{"inference", "serving"}, b.protected, "deduplicated and sorted")

	cases := map[string]struct {
		dst, src string
		trusted  bool
	}{
		"a trusted namespace":         {"serving", "litellm", true},
		"the namespace itself":        {"serving", "serving", true},
		"another protected one":       {"serving", "inference", false},
		"a tenant":                    {"serving", "team-web", false},
		"trust is not by name prefix": {"serving", "litellm-dev", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.trusted, cfg.TrustedFor(tc.dst, tc.src)) })
	}
	assert.Equal(t, []string{"inference", "team-web"}, b.untrusted("serving", []string{"inference", "litellm", "serving", "team-web"}))
	assert.Nil(t, b.untrusted("serving", []string{"litellm", "serving"}))
	assert.Equal(t, "serving, litellm, monitoring", b.trustedList("serving"), "the namespace first, then the rest sorted")
	assert.Equal(t, "litellm, monitoring", b.trustedList("litellm"), "listed once when itself trusted")
}

func TestIngressPolicies(t *testing.T) {
	egress := networkingv1.PolicyTypeEgress
	ingress := networkingv1.PolicyTypeIngress
	s := snapshottest.New(
		netPol("serving", "z-ingress", withTypes(ingress)),
		netPol("serving", "a-default"),
		netPol("serving", "egress-only", withTypes(egress)),
		netPol("other", "b"),
	)
	var names []string
	for _, p := range ingressPolicies(s, "serving") {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"a-default", "z-ingress"}, names)
	assert.Equal(t, &auditor.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "serving", Name: "a-default"},
		networkPolicyRef(netPol("serving", "a-default")))
}

func TestJoinBounded(t *testing.T) {
	cases := map[string]struct {
		names []string
		max   int
		want  string
	}{
		"none":         {nil, 2, ""},
		"under":        {[]string{"a"}, 2, "a"},
		"at the bound": {[]string{"a", "b"}, 2, "a, b"},
		"over":         {[]string{"a", "b", "c", "d"}, 2, "a, b and 2 more"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, family.JoinBounded(tc.names, tc.max)) })
	}
}
