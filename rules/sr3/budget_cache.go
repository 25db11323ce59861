package sr3

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// redisVerdict says whether budgets and rate limits share a Redis across proxy replicas.
type redisVerdict struct {
	Redis bool
	// Known is false when the answer depends on something the auditor cannot read.
	Known bool
	// Why explains a missing Redis (what each place says) or the unknown.
	Why string
}

// redisEnvVars are the variables LiteLLM's Redis client falls back to when the config
// names no host (litellm/_redis.py; REDIS_CLUSTER_NODES in caching.Cache).
var redisEnvVars = []string{"REDIS_HOST", "REDIS_URL", "REDIS_CLUSTER_NODES"}

// budgetRedis follows ProxyConfig.load_config: with litellm_settings.cache True (a
// boolean: `value is True`), an empty cache_params means type redis from env REDIS_*,
// otherwise Cache(**cache_params) whose type defaults to local; only a RedisCache or
// RedisClusterCache becomes redis_usage_cache, the store the proxy's rate-limit and
// spend counters share (redis-semantic does not). router_settings.redis_url, or
// redis_host with redis_port, give the Router a Redis for tpm/rpm tracking.
func budgetRedis(conf *litellm.Config, env litellm.Env) redisVerdict {
	r := &redisReader{conf: conf, env: env}
	if r.routerRedis() || r.cacheRedis() {
		return redisVerdict{Redis: true, Known: true}
	}
	if len(r.unknown) > 0 {
		return redisVerdict{Why: strings.Join(r.unknown, "; ")}
	}
	return redisVerdict{Known: true, Why: strings.Join(r.missing, "; ")}
}

// redisReader reads one config's Redis settings, collecting what is missing and what
// cannot be known.
type redisReader struct {
	conf             *litellm.Config
	env              litellm.Env
	missing, unknown []string
}

// set reports whether a setting is set (what names it for messages).
func (r *redisReader) set(v litellm.Resolved, what string) bool {
	on, known := v.IsSet()
	if !known {
		r.unknown = append(r.unknown, what+": "+v.EnvValue.Why)
	}
	return on
}

// envSet reports whether a Redis variable is set, by environment_variables in the
// config or in the container's environment.
func (r *redisReader) envSet(name string) bool {
	if v, ok := r.conf.Lookup("environment_variables", name); ok {
		if on, _ := litellm.Resolve(v, r.env).IsSet(); on {
			return true
		}
	}
	v := r.env.Lookup(name)
	switch v.State {
	case litellm.EnvSet:
		return strings.TrimSpace(v.Value) != ""
	case litellm.EnvUnknown:
		r.unknown = append(r.unknown, "env "+name+": "+v.Why)
	}
	return false
}

// anyRedisEnv reports whether one of redisEnvVars is set.
func (r *redisReader) anyRedisEnv() bool {
	for _, name := range redisEnvVars {
		if r.envSet(name) {
			return true
		}
	}
	return false
}

// routerRedis: the Router's Redis (router_settings).
func (r *redisReader) routerRedis() bool {
	url := r.conf.Setting(r.env, "router_settings", "redis_url")
	host := r.conf.Setting(r.env, "router_settings", "redis_host")
	port := r.conf.Setting(r.env, "router_settings", "redis_port")
	if r.set(url, "router_settings.redis_url") {
		return true
	}
	hostSet, portSet := r.set(host, "router_settings.redis_host"), r.set(port, "router_settings.redis_port")
	switch {
	case hostSet && portSet:
		return true
	case hostSet:
		r.missing = append(r.missing, "router_settings.redis_host is set without redis_port, so the Router keeps its counters in memory")
	default:
		r.missing = append(r.missing, "router_settings sets neither redis_url nor redis_host and redis_port")
	}
	return false
}

// cacheRedis: the proxy cache (litellm_settings.cache and cache_params).
func (r *redisReader) cacheRedis() bool {
	cache := r.conf.Setting(r.env, "litellm_settings", "cache")
	on, known := cache.IsTrue()
	switch {
	case !known:
		r.unknown = append(r.unknown, "litellm_settings.cache: "+cache.EnvValue.Why)
		return false
	case !on:
		r.missing = append(r.missing, "litellm_settings.cache is "+cacheOffForm(cache))
		return false
	}
	params, ok := r.conf.Lookup("litellm_settings", "cache_params")
	switch {
	case !ok || params.Kind == litellm.KindNull || (params.Kind == litellm.KindMapping && params.Len() == 0):
		if r.anyRedisEnv() {
			return true
		}
		r.missing = append(r.missing, "litellm_settings.cache is true with no cache_params, so LiteLLM uses type redis from env REDIS_HOST / REDIS_URL, and the container sets none of them")
	case params.Kind != litellm.KindMapping:
		r.missing = append(r.missing, fmt.Sprintf("litellm_settings.cache_params is %s, not a mapping", params.Kind.Article()))
	default:
		return r.cacheParamsRedis(params)
	}
	return false
}

// cacheParamsRedis: cache_params, a mapping, make Cache(**cache_params) a Redis.
func (r *redisReader) cacheParamsRedis(params litellm.Value) bool {
	typ := litellm.Resolve(getOr(params, "type"), r.env)
	switch {
	case typ.Kind == litellm.Unknown:
		r.unknown = append(r.unknown, "litellm_settings.cache_params.type: "+typ.EnvValue.Why)
	case typ.Kind == litellm.Absent || typ.Kind == litellm.None:
		r.missing = append(r.missing, "litellm_settings.cache_params has no type, and LiteLLM's Cache then defaults to type local (in-memory, per replica)")
	case typ.Kind == litellm.Str && typ.Str == "redis":
		for _, k := range []string{"host", "url", "redis_startup_nodes", "startup_nodes", "sentinel_nodes", "service_name"} {
			if r.set(litellm.Resolve(getOr(params, k), r.env), "litellm_settings.cache_params."+k) {
				return true
			}
		}
		if r.anyRedisEnv() {
			return true
		}
		r.missing = append(r.missing, "litellm_settings.cache_params has type redis but no host, url or startup nodes, and the container sets no REDIS_HOST / REDIS_URL")
	case typ.Kind == litellm.Str && typ.Str == "redis-semantic":
		r.missing = append(r.missing, "litellm_settings.cache_params.type is redis-semantic: a semantic response cache, which the proxy does not use for its rate-limit and spend counters (only type redis does)")
	default:
		r.missing = append(r.missing, "litellm_settings.cache_params.type is "+cacheTypeName(typ)+", not redis")
	}
	return false
}

// getOr returns a mapping's value or an absent Value (Resolve reads it as None).
func getOr(m litellm.Value, key string) litellm.Value {
	v, _ := m.Get(key)
	return v
}

func cacheOffForm(r litellm.Resolved) string {
	switch {
	case r.Kind == litellm.Absent:
		return "not set"
	case r.Env != "":
		return "os.environ/" + r.Env + ", which is not \"true\" in the container"
	case r.Kind == litellm.Str:
		if _, isBool := litellm.StrToBool(r.Value.Str); isBool {
			return fmt.Sprintf("the string %q: LiteLLM requires the boolean true (`cache is True`)", r.Value.Str)
		}
		return "a string, not the boolean true (`cache is True`)"
	case r.Kind == litellm.Bool:
		return "false"
	}
	return r.Value.Kind.Article() + ", not the boolean true"
}

// cacheTypeName prints a known cache type; anything else is not echoed.
func cacheTypeName(r litellm.Resolved) string {
	if r.Kind == litellm.Str {
		switch r.Str {
		case "local", "s3", "gcs", "disk", "qdrant-semantic", "valkey-semantic", "azure-blob":
			return r.Str
		}
	}
	return "another type"
}

// budgetCacheNotRedisInProd: without a shared Redis every proxy replica keeps its own
// rate-limit and spend counters, so limits multiply with replicas between DB writes.
func budgetCacheNotRedisInProd(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-cache-not-redis-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM prod proxy keeps budget and rate-limit state per replica (no Redis)",
		Pass:  "every LiteLLM prod proxy keeps budgets and rate limits in Redis",
		Remediation: "Give the prod proxy a shared Redis: litellm_settings: {cache: true, cache_params: {type: redis, host: os.environ/REDIS_HOST, " +
			"port: os.environ/REDIS_PORT, password: os.environ/REDIS_PASSWORD}} and router_settings: {redis_host: os.environ/REDIS_HOST, " +
			"redis_port: os.environ/REDIS_PORT, redis_password: os.environ/REDIS_PASSWORD}, with REDIS_HOST/REDIS_PORT set in the container.",
		Inputs: proxyInputs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		for _, lp := range v.prod {
			if lp.Conf == nil {
				continue
			}
			v := budgetRedis(lp.Conf, lp.Env)
			switch {
			case !v.Known:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s: whether budgets share a Redis depends on %s", lp.describe(), v.Why))
			case !v.Redis:
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) has no Redis behind budgets and rate limits: %s. Each replica counts spend and requests on its own",
					lp.describe(), lp.Profile, v.Why)))
			}
		}
		return res
	}}
}
