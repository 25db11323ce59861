package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

func TestLoadParsesEachConfigOnce(t *testing.T) {
	// Two Deployments mount the ConfigMap of the first one: the config is shared.
	second := sr3Deploy("litellm", "litellm-canary")
	second.Spec.Template.Spec.Volumes[0].ConfigMap.Name = "litellm-config"
	s := snapshottest.New(sr3Namespaces(),
		sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("")}),
		sr3Deploy("litellm", "litellm"), second)
	v := newSR3Scope(auditor.DefaultConfig()).load(s, litellm.Parse)
	lps, why := v.proxies, v.why
	assert.Empty(t, why)
	require.Len(t, lps, 2)
	for _, lp := range lps {
		assert.True(t, lp.Shared, lp.describe())
		assert.False(t, lp.MissingKey)
		assert.Nil(t, lp.Err)
		require.NotNil(t, lp.Conf)
		assert.NotNil(t, lp.Env)
	}
	assert.Same(t, lps[0].Conf, lps[1].Conf, "one parse per ConfigMap key")
	assert.NotEqual(t, lps[0].describe(), lps[1].describe(), "each names the Deployment running it")

	meta := auditor.RuleMeta{ID: "x", Control: auditor.SR3, Severity: auditor.SeverityHigh}
	f0, f1 := lps[0].finding(meta, "m"), lps[1].finding(meta, "m")
	assert.Equal(t, f0.Object, f1.Object, "both name the ConfigMap")
	assert.NotEmpty(t, f0.Discriminator, "a shared config's findings are told apart")
	assert.NotEqual(t, f0.Discriminator, f1.Discriminator)
}

func TestLoadOutcomes(t *testing.T) {
	cases := map[string]struct {
		data       map[string]string
		missingKey bool
		parseErr   bool
	}{
		"valid config":     {data: map[string]string{"config.yaml": sr3Config("")}},
		"key missing":      {data: map[string]string{"other.yaml": sr3Config("")}, missingKey: true},
		"unparseable YAML": {data: map[string]string{"config.yaml": "model_list: [\n"}, parseErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(sr3Namespaces(), sr3CM("litellm", "litellm-config", tc.data), sr3Deploy("litellm", "litellm"))
			lps := newSR3Scope(auditor.DefaultConfig()).load(s, litellm.Parse).proxies
			require.Len(t, lps, 1)
			lp := lps[0]
			assert.False(t, lp.Shared)
			assert.Equal(t, tc.missingKey, lp.MissingKey)
			assert.Equal(t, tc.parseErr, lp.Err != nil)
			assert.Equal(t, !tc.missingKey && !tc.parseErr, lp.Conf != nil)
			assert.Empty(t, lp.finding(auditor.RuleMeta{ID: "x"}, "m").Discriminator, "an unshared config needs no discriminator")
		})
	}
}

func TestAt(t *testing.T) {
	assert.Equal(t, "", at(litellm.Value{}), "no position, nothing to say")
	assert.Equal(t, " (line 3, column 5)", at(litellm.Value{Line: 3, Column: 5}))
}
