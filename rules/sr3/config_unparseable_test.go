package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// TestLiteLLMConfigUnparseable: a config the proxy cannot load is a finding with line and
// column, in every profile; a key the --config path needs is a finding; a key missing
// from a ConfigMap found only by name is inconclusive.
func TestLiteLLMConfigUnparseable(t *testing.T) {
	const bad = "general_settings:\n  master_key: os.environ/PROXY_MASTER_KEY\n   allow_requests_on_db_unavailable: false\n"
	cases := map[string]struct {
		objs []any
		want []string
		msg  []string
		inc  string
	}{
		"valid config": {objs: []any{sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("")}), sr3Deploy("litellm", "litellm")}},
		"invalid YAML in prod": {
			objs: []any{sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": bad}), sr3Deploy("litellm", "litellm")},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm/litellm-config|high"},
			msg:  []string{"ConfigMap litellm/litellm-config key config.yaml (profile prod)", "line 3, column 36: mapping values are not allowed in this context"},
		},
		"invalid YAML in dev is reported too": {
			objs: []any{sr3CM("litellm-dev", "litellm-config", map[string]string{"config.yaml": "general_settings: [\n"}), sr3Deploy("litellm-dev", "litellm")},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm-dev/litellm-config|high"},
			msg:  []string{"(profile dev)", "line 1, column 19: did not find expected node content"},
		},
		"not a mapping": {
			objs: []any{sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": "- model_list\n"}), sr3Deploy("litellm", "litellm")},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm/litellm-config|high"},
			msg:  []string{"line 1, column 1: the top level is a sequence, not a mapping"},
		},
		"unknown tag": {
			objs: []any{sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": "general_settings:\n  master_key: !vault secret/litellm\n"}), sr3Deploy("litellm", "litellm")},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm/litellm-config|high"},
			msg:  []string{"line 2, column 15", "could not determine a constructor"},
		},
		"key the --config path selects is missing": {
			objs: []any{sr3CM("litellm", "litellm-config", map[string]string{"proxy.yaml": sr3Config("")}), sr3Deploy("litellm", "litellm")},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm/litellm-config|high"},
			msg:  []string{"has no key config.yaml, which is read by Deployment litellm/litellm (container litellm) from /etc/litellm/config.yaml (keys present: proxy.yaml)"},
		},
		"directory mount selects a non-default key": {
			objs: []any{
				sr3CM("litellm", "litellm-config", map[string]string{"proxy.yaml": bad}),
				sr3Deploy("litellm", "litellm", func(d *appsv1.Deployment) {
					c := sr3Container(d)
					c.Args = []string{"--config=/etc/litellm/proxy.yaml"}
					c.VolumeMounts = []corev1.VolumeMount{{Name: "litellm-config", MountPath: "/etc/litellm"}}
					d.Spec.Template.Spec.Volumes[0].ConfigMap.Items = nil
				}),
			},
			want: []string{"litellm-config-unparseable|ConfigMap|litellm/litellm-config|high"},
			msg:  []string{"key proxy.yaml"},
		},
		"ConfigMap found by name without the key": {
			objs: []any{sr3CM("litellm", "team-litellm-config", map[string]string{"env": "x"})},
			inc:  "team-litellm-config looks like a LiteLLM config (identified by its name (no Deployment mounts it)) but has no key config.yaml (keys present: env)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			keys, fs, inc := sr3Eval(ruleFor(configUnparseable)(auditor.DefaultConfig()), snapshottest.New(append(sr3Namespaces(), tc.objs...)...))
			assert.Equal(t, tc.want, keys)
			for _, m := range tc.msg {
				assert.Contains(t, sr3Messages(fs), m)
			}
			if tc.inc != "" {
				assert.Len(t, inc, 1)
				assert.Contains(t, inc[0], tc.inc)
			} else {
				assert.Empty(t, inc)
			}
			if len(fs) == 1 && tc.msg[0] == "key proxy.yaml" {
				assert.Equal(t, "proxy.yaml", fs[0].Discriminator)
			}
		})
	}
}

// TestSR3OtherRulesSkipBrokenConfigs: a config that does not load is reported once, by
// litellm-config-unparseable, not guessed at by the other rules.
func TestSR3OtherRulesSkipBrokenConfigs(t *testing.T) {
	s := snapshottest.New(append(sr3Namespaces(),
		sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": "general_settings: {allow_requests_on_db_unavailable: yes\n"}),
		sr3Deploy("litellm", "litellm"))...)
	for _, r := range Rules(auditor.DefaultConfig()) {
		keys, _, _ := sr3Eval(r, s)
		if r.Meta().ID == "litellm-config-unparseable" {
			assert.Len(t, keys, 1)
		} else {
			assert.Empty(t, keys, r.Meta().ID)
		}
	}
}
