package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// TestLiteLLMConfigParsedOncePerEvaluation counts the parses of LiteLLM configs while
// the engine evaluates every SR3 rule over several proxies: each config (ConfigMap key)
// is parsed once per evaluation, however many rules read it and however many
// Deployments run it, and the results are those of the real parser.
func TestLiteLLMConfigParsedOncePerEvaluation(t *testing.T) {
	canary := sr3Deploy("litellm", "litellm-canary") // runs the prod proxy's ConfigMap too
	canary.Spec.Template.Spec.Volumes[0].ConfigMap.Name = "litellm-config"
	s := snapshottest.New(sr3Namespaces(),
		// prod, run by two Deployments: one config
		sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("  allow_requests_on_db_unavailable: true\n")}),
		sr3Deploy("litellm", "litellm"), canary,
		// dev, run by one Deployment
		sr3CM("litellm-dev", "litellm-config", map[string]string{"config.yaml": sr3Config("")}),
		sr3Deploy("litellm-dev", "litellm"),
		// found by its label, no Deployment mounts it, and it does not load
		sr3CM("db", "spare", map[string]string{"config.yaml": "general_settings: [\n"}, "app.kubernetes.io/name", "litellm"),
	)
	const configs = 3
	parses := 0
	counting := func(b []byte) (*litellm.Config, error) {
		parses++
		return litellm.Parse(b)
	}
	cfg := auditor.DefaultConfig()
	rs := rules(cfg, counting)
	require.Len(t, rs, len(Rules(cfg)), "every SR3 rule")

	ev := engine.Evaluate(rs, s, 0)
	assert.Equal(t, configs, parses, "each config parsed once in one evaluation of %d rules", len(rs))
	want := engine.Evaluate(Rules(cfg), s, 0)
	assert.Equal(t, want.Findings, ev.Findings)
	assert.Equal(t, want.Inconclusive, ev.Inconclusive)
	var got []string
	for _, f := range ev.Findings {
		got = append(got, f.Key())
	}
	assert.Equal(t, []string{
		"budget-fail-open-in-prod|ConfigMap|litellm|litellm-config|Deployment/litellm",
		"budget-fail-open-in-prod|ConfigMap|litellm|litellm-config|Deployment/litellm-canary",
		"litellm-config-unparseable|ConfigMap|db|spare",
		"budget-db-not-ha-in-prod|ConfigMap|litellm|litellm-config|Deployment/litellm",
		"budget-db-not-ha-in-prod|ConfigMap|litellm|litellm-config|Deployment/litellm-canary",
	}, got, "the proxies were all found and judged")

	engine.Evaluate(rs, s, 0)
	assert.Equal(t, 2*configs, parses, "the next evaluation parses again")

	// Without the engine's evaluation memo each rule builds the view for itself: the
	// count is what the view saves.
	parses = 0
	for _, r := range rs {
		r.Evaluate(s)
	}
	assert.Equal(t, len(rs)*configs, parses)
}
