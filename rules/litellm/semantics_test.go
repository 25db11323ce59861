package litellm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStrToBool(t *testing.T) {
	cases := map[string]struct {
		in       string
		val, isB bool
	}{
		"true":        {"true", true, true},
		"TRUE padded": {"  TRUE\t", true, true},
		"False":       {"False", false, true},
		"yes":         {"yes", false, false},
		"1":           {"1", false, false},
		"empty":       {"", false, false},
		"unit sep":    {"\x1ftrue\x1f", true, true},
		"long s":      {"falſe", false, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, ok := StrToBool(tc.in)
			assert.Equal(t, tc.isB, ok)
			assert.Equal(t, tc.val, v)
		})
	}
}

func TestSettingKinds(t *testing.T) {
	c, err := Parse([]byte("litellm_settings:\n  cache: \"true\"\n  flag: True\nrouter_settings:\n  redis_host: os.environ/REDIS_HOST\n  redis_url: ''\n"))
	require.NoError(t, err)
	env := mapEnv{"REDIS_HOST": "redis.litellm.svc"}

	cache := c.Setting(env, "litellm_settings", "cache")
	isTrue, known := cache.IsTrue()
	assert.True(t, known)
	assert.False(t, isTrue, "a quoted \"true\" is not `is True`")

	flag, _ := c.Setting(env, "litellm_settings", "flag").IsTrue()
	assert.True(t, flag)

	host := c.Setting(env, "router_settings", "redis_host")
	set, _ := host.IsSet()
	assert.True(t, set)
	assert.Equal(t, "REDIS_HOST", host.Env)
	assert.Equal(t, "test env REDIS_HOST", host.EnvValue.Source)

	url, _ := c.Setting(env, "router_settings", "redis_url").IsSet()
	assert.False(t, url, "an empty string is no URL")

	assert.Equal(t, Absent, c.Setting(env, "router_settings", "redis_port").Kind)
	assert.Equal(t, Absent, c.Setting(env, "litellm_settings", "cache", "deeper").Kind)
}
