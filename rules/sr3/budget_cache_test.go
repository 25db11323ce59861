package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

const noRedis = "budget-cache-not-redis-in-prod|ConfigMap|litellm/litellm-config|high"

// TestBudgetCacheNotRedisInProd: which config forms give the prod proxy a shared Redis,
// following ProxyConfig.load_config and Router.__init__.
func TestBudgetCacheNotRedisInProd(t *testing.T) {
	const gs = "general_settings:\n  master_key: os.environ/PROXY_MASTER_KEY\n"
	cases := map[string]struct {
		config string
		env    []string // literal name/value pairs on the container (REDIS_HOST/PORT are set by default)
		noEnv  bool     // drop the default REDIS_* variables
		ns     string

		want []string
		msg  string
		inc  string
	}{
		"cache redis and router redis (the example)": {config: sr3Config("")},
		"cache redis only":                           {config: gs + "litellm_settings:\n  cache: true\n  cache_params: {type: redis, host: os.environ/REDIS_HOST, port: os.environ/REDIS_PORT}\n"},
		"router redis_url only":                      {config: gs + "router_settings:\n  redis_url: os.environ/REDIS_URL\n", env: []string{"REDIS_URL", "redis://redis:6379"}},
		"router host and port only":                  {config: gs + "router_settings:\n  redis_host: redis.litellm.svc\n  redis_port: 6379\n"},
		"cache with Sentinel":                        {config: gs + "litellm_settings:\n  cache: yes\n  cache_params:\n    type: redis\n    service_name: mymaster\n    sentinel_nodes: [[sentinel, 26379]]\n", noEnv: true},
		"cache with cluster startup nodes":           {config: gs + "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    redis_startup_nodes: [{host: redis-0, port: 6379}]\n", noEnv: true},
		"cache true, empty params, REDIS_HOST set":   {config: gs + "litellm_settings:\n  cache: true\n"},
		"cache true, empty params, REDIS_HOST from config environment_variables": {
			config: gs + "environment_variables:\n  REDIS_HOST: redis.litellm.svc\nlitellm_settings:\n  cache: true\n  cache_params: {}\n", noEnv: true},
		"cache true, empty params, no REDIS_*": {config: gs + "litellm_settings:\n  cache: true\n", noEnv: true,
			want: []string{noRedis}, msg: "no cache_params, so LiteLLM uses type redis from env REDIS_HOST / REDIS_URL, and the container sets none of them"},
		"nothing": {config: gs, want: []string{noRedis},
			msg: "router_settings sets neither redis_url nor redis_host and redis_port; litellm_settings.cache is not set"},
		"router host without port": {config: gs + "router_settings:\n  redis_host: redis.litellm.svc\n", want: []string{noRedis},
			msg: "redis_host is set without redis_port"},
		"cache quoted \"true\" is off": {config: gs + "litellm_settings:\n  cache: \"true\"\n  cache_params: {type: redis, host: redis}\n", want: []string{noRedis},
			msg: `litellm_settings.cache is the string "true": LiteLLM requires the boolean true`},
		"cache_params without type is local": {config: gs + "litellm_settings:\n  cache: true\n  cache_params: {host: redis, port: 6379}\n", want: []string{noRedis},
			msg: "cache_params has no type, and LiteLLM's Cache then defaults to type local"},
		"redis-semantic does not share counters": {config: gs + "litellm_settings:\n  cache: true\n  cache_params: {type: redis-semantic, host: redis}\n", want: []string{noRedis},
			msg: "redis-semantic"},
		"type local": {config: gs + "litellm_settings:\n  cache: true\n  cache_params: {type: local}\n", want: []string{noRedis}, msg: "type is local, not redis"},
		"type redis, no host anywhere": {config: gs + "litellm_settings:\n  cache: true\n  cache_params: {type: redis}\n", noEnv: true, want: []string{noRedis},
			msg: "type redis but no host"},
		"cache from env true": {config: gs + "litellm_settings:\n  cache: os.environ/CACHE_ON\n  cache_params: {type: redis, host: redis}\n", env: []string{"CACHE_ON", "True"}},
		"cache from env yes is off": {config: gs + "litellm_settings:\n  cache: os.environ/CACHE_ON\n  cache_params: {type: redis, host: redis}\n", env: []string{"CACHE_ON", "yes"},
			want: []string{noRedis}, msg: "os.environ/CACHE_ON, which is not \"true\" in the container"},
		"router host from a Secret: unknown": {config: gs + "router_settings:\n  redis_host: os.environ/SECRET_HOST\n  redis_port: 6379\n",
			inc: "Secret litellm/redis key host"},
		"dev proxy is not checked": {config: gs, ns: "litellm-dev"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := tc.ns
			if ns == "" {
				ns = "litellm"
			}
			d := sr3Deploy(ns, "litellm", sr3WithEnv(sr3FromSecret("SECRET_HOST", "redis", "host")))
			if tc.noEnv {
				c := sr3Container(d)
				c.Env = c.Env[:1]
			}
			for i := 0; i+1 < len(tc.env); i += 2 {
				sr3Container(d).Env = append(sr3Container(d).Env, sr3Literal(tc.env[i], tc.env[i+1]))
			}
			s := snapshottest.New(append(sr3Namespaces(), sr3CM(ns, "litellm-config", map[string]string{"config.yaml": tc.config}), d)...)
			keys, fs, inc := sr3Eval(ruleFor(budgetCacheNotRedisInProd)(auditor.DefaultConfig()), s)
			assert.Equal(t, tc.want, keys)
			if tc.msg != "" {
				assert.Contains(t, sr3Messages(fs), tc.msg)
			}
			if tc.inc != "" {
				assert.Len(t, inc, 1)
				assert.Contains(t, inc[0], tc.inc)
			} else {
				assert.Empty(t, inc)
			}
		})
	}
}
