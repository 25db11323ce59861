package litellm

import (
	"errors"
	"testing"
)

// maxFuzzInput bounds one input (a ConfigMap holds at most 1 MiB; the locator re-parses
// prefixes, so very large inputs only slow the fuzzer down).
const maxFuzzInput = 16 << 10

// fuzzSeeds are FuzzParseConfig's seeds; the PyYAML differential test runs them too.
// They hold every line break PyYAML knows (CR, CRLF, NEL, LS, PS) and the %YAML and
// %TAG directives, where they change what LiteLLM reads.
var fuzzSeeds = []string{
	"general_settings:\n  allow_requests_on_db_unavailable:\tfalse\n  x: 'a\tb' # c\td\n",
	"general_settings:\n  allow_requests_on_db_unavailable: ! 'yes'\n  x: !!binary yes=\n",
	"general_settings:\n  allow_requests_on_db_unavailable: yes\n",
	"general_settings: {allow_requests_on_db_unavailable: \"True\"}\n",
	"a: &a {allow_requests_on_db_unavailable: on}\ngeneral_settings: {<<: [*a]}\n",
	"litellm_settings:\n  cache: true\n  cache_params: {type: redis, host: os.environ/REDIS_HOST}\n",
	"a: &x [*x]\n",
	"? [a]\n: 1\n",
	"a: !!binary aGVsbG8=\nb: 2024-02-30\n",
	"general_settings:\n  allow_requests_on_db_unavailable: false # fail closed\u0085  allow_requests_on_db_unavailable: true\n",
	"general_settings:\r  allow_requests_on_db_unavailable: false\u2028  allow_requests_on_db_unavailable: true\u2029",
	"general_settings:\r\n  allow_requests_on_db_unavailable: \"fa\u0085lse\"\r\n",
	"%YAML 1.2\n%TAG !e! tag:example.com,2000:\n---\ngeneral_settings: {allow_requests_on_db_unavailable: !e!x yes}\n",
	"%FOO bar\n---\ngeneral_settings:\n  allow_requests_on_db_unavailable: On\n",
}

// FuzzParseConfig: no input panics or hangs the reader; an error is always an *Error
// with a sane position; a parsed config answers every lookup the rules make. The seed
// corpus (testdata/fuzz/FuzzParseConfig) holds tricky YAML: merges, aliases, tags,
// YAML 1.1 booleans, bad indentation.
func FuzzParseConfig(f *testing.F) {
	for _, seed := range fuzzSeeds {
		f.Add([]byte(seed))
	}
	env := mapEnv{"ALLOW": "true", "REDIS_HOST": "?"}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		c, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, not *Error: %v", err, err)
			}
			starts, _ := lineBounds(data)
			lines := len(starts) + 1
			if e.Line < 0 || e.Line > lines || e.Column < 0 || e.Msg == "" {
				t.Fatalf("bad error position or message: %+v (input has %d lines)", e, lines)
			}
			return
		}
		for _, path := range [][]string{
			{"general_settings", "allow_requests_on_db_unavailable"},
			{"general_settings", "database_url"},
			{"general_settings", "store_model_in_db"},
			{"litellm_settings", "cache"},
			{"litellm_settings", "cache_params", "type"},
			{"router_settings", "redis_host"},
			{"environment_variables", "REDIS_HOST"},
			{"include"},
		} {
			r := c.Setting(env, path...)
			r.Lenient()
			r.IsTrue()
			r.IsSet()
			r.Value.Describe()
			r.Value.Truthy()
			r.Value.Items()
		}
	})
}
