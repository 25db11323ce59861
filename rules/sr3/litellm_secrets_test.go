package sr3

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// sr3SecretMark is in every secret-looking value below; no SR3 output may contain it.
const sr3SecretMark = "xyzzy"

// TestSR3NeverPrintsSecrets: master keys, database URLs with passwords, Redis passwords
// and PASSWORD/KEY variables, from the config or the environment, never reach a finding's
// message or remediation, or an inconclusive reason — whichever rule fires and whatever
// breaks (invalid YAML next to a secret, a malformed URL, a secret in an unknown tag).
func TestSR3NeverPrintsSecrets(t *testing.T) {
	secretConfig := func(general string) string {
		return "model_list:\n" +
			"  - model_name: gpt\n" +
			"    litellm_params: {model: openai/gpt-4o, api_key: sk-proj-xyzzy0123456789}\n" +
			"general_settings:\n" +
			"  master_key: sk-xyzzyMasterKey0123456789\n" +
			general +
			"environment_variables:\n" +
			"  OPENAI_API_KEY: sk-xyzzy-environment-variables\n" +
			"litellm_settings:\n" +
			"  cache: true\n" +
			"  cache_params: {host: redis, password: RedisPass-xyzzy}\n" +
			"router_settings:\n" +
			"  redis_host: redis.litellm.svc\n" +
			"  redis_password: RouterPass-xyzzy\n"
	}
	secretEnv := sr3WithEnv(
		sr3Literal("PROXY_MASTER_KEY", "sk-xyzzy-env-master-key"),
		sr3Literal("DATABASE_PASSWORD", "DbPass-xyzzy"),
		sr3Literal("REDIS_PASSWORD", "EnvRedis-xyzzy"),
		sr3Literal("LITELLM_SALT_KEY", "salt-xyzzy"),
		sr3Literal("ALLOW", "sk-xyzzy-not-a-bool"),
	)
	cases := map[string]struct {
		general string
		env     []sr3DeployOpt
		config  string // overrides the whole config
		objs    []any
	}{
		"fail-open with a literal database URL": {
			general: "  database_url: postgresql://litellm:PgPass-xyzzy@litellm-pg-rw.litellm.svc:5432/litellm\n  allow_requests_on_db_unavailable: yes\n",
			objs:    []any{sr3CNPG("litellm", "litellm-pg", int64(1), int64(0))},
		},
		"fail-open from env, URL in env": {
			general: "  allow_requests_on_db_unavailable: os.environ/FAIL_OPEN\n",
			env: []sr3DeployOpt{sr3WithEnv(sr3Literal("FAIL_OPEN", "true"),
				sr3Literal("DATABASE_URL", "postgresql://litellm:EnvPgPass-xyzzy@db.example.com/litellm"))},
		},
		"flag reads a key variable": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n"},
		"flag and URL from Secrets, URL built with $(VAR)": {
			general: "  allow_requests_on_db_unavailable: os.environ/SECRET_FLAG\n",
			env: []sr3DeployOpt{sr3WithEnv(sr3FromSecret("SECRET_FLAG", "flags", "k"),
				sr3Literal("DATABASE_URL", "postgresql://litellm:$(DATABASE_PASSWORD)@$(SECRET_FLAG)/db"))},
		},
		"malformed database URL": {
			general: "  database_url: postgresql://litellm:NoHostPass-xyzzy/litellm\n",
			objs:    []any{sr3CNPG("db", "other", int64(3), nil)},
		},
		"password-looking port": {general: "  database_url: pg-rw:xyzzy\n"},
		"invalid YAML next to a secret": {
			config: "general_settings:\n  master_key: sk-xyzzyMasterKey0123456789\n   database_url: postgresql://u:PgPass-xyzzy@pg/db\n",
		},
		"unknown tag on a secret":     {config: "general_settings:\n  master_key: !vault sk-xyzzyMasterKey\n"},
		"bad !!int on a secret":       {config: "general_settings:\n  master_key: !!int sk-xyzzyMasterKey\n"},
		"unclosed quote in secret":    {config: "general_settings:\n  master_key: \"sk-xyzzyMasterKey\n"},
		"cache type is a secret":      {config: "general_settings: {}\nlitellm_settings:\n  cache: true\n  cache_params: {type: sk-xyzzy}\n"},
		"cache flag is a secret":      {config: "general_settings: {}\nlitellm_settings:\n  cache: sk-xyzzy\n"},
		"store_model_in_db + include": {general: "  store_model_in_db: true\n", config: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			config := tc.config
			if config == "" {
				config = secretConfig(tc.general)
			}
			opts := append([]sr3DeployOpt{secretEnv}, tc.env...)
			objs := append(sr3Namespaces(), sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": config}), sr3Deploy("litellm", "litellm", opts...))
			objs = append(objs, tc.objs...)
			s := snapshottest.New(objs)
			var out []string
			findings := 0
			for _, r := range Rules(auditor.DefaultConfig()) {
				res := r.Evaluate(s)
				findings += len(res.Findings)
				for _, f := range res.Findings {
					out = append(out, f.Message, f.Remediation, f.Discriminator)
				}
				out = append(out, res.Inconclusive...)
			}
			require.NotZero(t, findings+len(out), "the case must make the rules say something")
			for _, o := range out {
				assert.NotContains(t, strings.ToLower(o), sr3SecretMark)
			}
		})
	}
}

// TestSR3SecretsCasesFire guards the test above against vacuity: its main cases do
// produce findings that carry the parts of the config around the secrets.
func TestSR3SecretsCasesFire(t *testing.T) {
	config := "general_settings:\n  master_key: sk-xyzzy\n  database_url: postgresql://u:PgPass-xyzzy@litellm-pg-rw/db\n  allow_requests_on_db_unavailable: on\n"
	s := snapshottest.New(append(sr3Namespaces(), sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": config}),
		sr3Deploy("litellm", "litellm", func(*appsv1.Deployment) {}), sr3CNPG("litellm", "litellm-pg", int64(1), nil))...)
	var keys []string
	var msgs string
	for _, r := range Rules(auditor.DefaultConfig()) {
		k, fs, _ := sr3Eval(r, s)
		keys = append(keys, k...)
		msgs += sr3Messages(fs)
	}
	assert.ElementsMatch(t, []string{
		"budget-fail-open-in-prod|ConfigMap|litellm/litellm-config|critical",
		"budget-db-not-ha-in-prod|Cluster|litellm/litellm-pg|high",
		"budget-cache-not-redis-in-prod|ConfigMap|litellm/litellm-config|high",
	}, keys)
	assert.Contains(t, msgs, "database host litellm-pg-rw from general_settings.database_url")
	assert.NotContains(t, strings.ToLower(msgs), sr3SecretMark)
}
