package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

const (
	failOpen     = "budget-fail-open-in-prod|ConfigMap|litellm/litellm-config|critical"
	unverifiable = "budget-fail-open-unverifiable|ConfigMap|litellm/litellm-config|medium"
)

// TestBudgetFailOpen covers budget-fail-open-in-prod and budget-fail-open-unverifiable:
// every form that makes the flag true, every source it can come from, every profile source.
func TestBudgetFailOpen(t *testing.T) {
	optional := true
	cases := map[string]struct {
		general  string // lines under general_settings
		deploy   []sr3DeployOpt
		extra    []any
		cmLabels []string
		ns       string // namespace of the proxy; litellm by default

		open, unverif []string
		msg           []string // substrings of the messages
		inconclusive  string
	}{
		"default (absent) is fail-closed": {},
		"literal false":                   {general: "  allow_requests_on_db_unavailable: false\n"},
		"plain yes":                       {general: "  allow_requests_on_db_unavailable: yes\n", open: []string{failOpen}, msg: []string{`plain "yes" (line 9, column 37)`, "PyYAML (YAML 1.1)", "profile prod"}},
		"plain On":                        {general: "  allow_requests_on_db_unavailable: On\n", open: []string{failOpen}, msg: []string{`plain "On"`}},
		"plain y is a string (closed)":    {general: "  allow_requests_on_db_unavailable: y\n"},
		"quoted True":                     {general: "  allow_requests_on_db_unavailable: \"True\"\n", open: []string{failOpen}, msg: []string{`double-quoted "True"`, "str_to_bool"}},
		"quoted yes is a string (closed)": {general: "  allow_requests_on_db_unavailable: 'yes'\n"},
		"duplicate key, later true wins": {general: "  allow_requests_on_db_unavailable: false\n  allow_requests_on_db_unavailable: on\n",
			open: []string{failOpen}, msg: []string{"line 10"}},
		"through an alias: both places named": {general: "  fail: &open yes\n  allow_requests_on_db_unavailable: *open\n",
			open: []string{failOpen}, msg: []string{`plain "yes" (alias *open at line 10, column 37, of anchor &open at line 9, column 9)`}},
		"hidden after a NEL: PyYAML's line and the editor's": {general: "  allow_requests_on_db_unavailable: false # closed\u0085  allow_requests_on_db_unavailable: true\n",
			open: []string{failOpen}, msg: []string{"line 10, column 37, as PyYAML counts lines: it ends a line at each NEL (U+0085) before it", "an editor shows it on line 9, column 88"}},
		"env literal true": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW_FAIL_OPEN\n",
			deploy: []sr3DeployOpt{sr3WithEnv(sr3Literal("ALLOW_FAIL_OPEN", "True"))},
			open:   []string{failOpen}, msg: []string{"os.environ/ALLOW_FAIL_OPEN", "env ALLOW_FAIL_OPEN of container litellm", `"True"`}},
		"env yes is not true": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW_FAIL_OPEN\n",
			deploy: []sr3DeployOpt{sr3WithEnv(sr3Literal("ALLOW_FAIL_OPEN", "yes"))}},
		"env unset is fail-closed": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW_FAIL_OPEN\n"},
		"env from ConfigMap key": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW_FAIL_OPEN\n",
			deploy: []sr3DeployOpt{sr3WithEnv(sr3FromCM("ALLOW_FAIL_OPEN", "flags", "fail-open", false))},
			extra:  []any{sr3CM("litellm", "flags", map[string]string{"fail-open": "true"})},
			open:   []string{failOpen}, msg: []string{"ConfigMap litellm/flags key fail-open"}},
		"env from envFrom ConfigMap with prefix": {general: "  allow_requests_on_db_unavailable: os.environ/LL_ALLOW\n",
			deploy: []sr3DeployOpt{sr3WithEnvFrom(corev1.EnvFromSource{Prefix: "LL_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "flags"}}})},
			extra:  []any{sr3CM("litellm", "flags", map[string]string{"ALLOW": "TRUE"})},
			open:   []string{failOpen}, msg: []string{"ConfigMap litellm/flags key ALLOW (envFrom)"}},
		"env entry overrides envFrom": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n",
			deploy: []sr3DeployOpt{sr3WithEnvFrom(corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "flags"}}}),
				sr3WithEnv(sr3Literal("ALLOW", "false"))},
			extra: []any{sr3CM("litellm", "flags", map[string]string{"ALLOW": "true"})}},
		"env from Secret": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n",
			deploy:  []sr3DeployOpt{sr3WithEnv(sr3FromSecret("ALLOW", "proxy-flags", "allow"))},
			unverif: []string{unverifiable}, msg: []string{"Secret litellm/proxy-flags key allow", "os.environ/ALLOW (line 9, column 37)"}},
		"env maybe from envFrom Secret": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n",
			deploy:  []sr3DeployOpt{sr3WithEnvFrom(corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "proxy-env"}}})},
			unverif: []string{unverifiable}, msg: []string{"Secret litellm/proxy-env (envFrom)"},
			inconclusive: "if it defines CONFIG_FILE_PATH, LiteLLM's startup loads that file instead of --config \"/etc/litellm/config.yaml\""},
		"env from missing optional ConfigMap": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n",
			deploy:  []sr3DeployOpt{sr3WithEnv(sr3FromCM("ALLOW", "absent", "allow", optional))},
			unverif: []string{unverifiable}, msg: []string{"ConfigMap litellm/absent key allow", "optional", "variable is unset"}},
		"env from missing ConfigMap": {general: "  allow_requests_on_db_unavailable: os.environ/ALLOW\n",
			deploy:  []sr3DeployOpt{sr3WithEnvFrom(corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}}})},
			unverif: []string{unverifiable}, msg: []string{"ConfigMap litellm/gone", "cannot start"},
			inconclusive: "if it defines CONFIG_FILE_PATH"},
		"dev profile: no finding": {general: "  allow_requests_on_db_unavailable: true\n", ns: "litellm-dev",
			inconclusive: "no LiteLLM config with profile prod was found (1 LiteLLM configs found)"},
		"ConfigMap label overrides namespace profile": {general: "  allow_requests_on_db_unavailable: true\n", cmLabels: []string{"llm-platform/profile", "cost"},
			inconclusive: "no LiteLLM config with profile prod"},
		"Deployment label gives prod": {general: "  allow_requests_on_db_unavailable: true\n", ns: "db",
			deploy: []sr3DeployOpt{sr3WithDeployLabel("llm-platform/profile", "prod")},
			open:   []string{"budget-fail-open-in-prod|ConfigMap|db/litellm-config|critical"}},
		"store_model_in_db is inconclusive": {general: "  store_model_in_db: true\n", inconclusive: "store_model_in_db"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := tc.ns
			if ns == "" {
				ns = "litellm"
			}
			objs := append(sr3Namespaces(),
				sr3CM(ns, "litellm-config", map[string]string{"config.yaml": sr3Config(tc.general)}, tc.cmLabels...),
				sr3Deploy(ns, "litellm", tc.deploy...))
			s := snapshottest.New(append(objs, tc.extra...)...)

			open, openFs, inc := sr3Eval(ruleFor(budgetFailOpenInProd)(auditor.DefaultConfig()), s)
			unverif, unverifFs, _ := sr3Eval(ruleFor(budgetFailOpenUnverifiable)(auditor.DefaultConfig()), s)
			assert.Equal(t, tc.open, open)
			assert.Equal(t, tc.unverif, unverif)
			all := sr3Messages(openFs) + sr3Messages(unverifFs)
			for _, m := range tc.msg {
				assert.Contains(t, all, m)
			}
			if tc.inconclusive != "" {
				require.NotEmpty(t, inc)
				assert.Contains(t, inc[0], tc.inconclusive)
			} else {
				assert.Empty(t, inc)
			}
		})
	}
}

// TestBudgetFailOpenWhere covers configs that are not where the rule can read them, and
// one ConfigMap run by two Deployments.
func TestBudgetFailOpenWhere(t *testing.T) {
	secretVolume := func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "litellm-config-secret"}}
	}
	cases := map[string]struct {
		objs    []any
		open    []string
		unverif []string
		msg     string
		inc     string
	}{
		"config in a Secret volume": {
			objs:    []any{sr3Deploy("litellm", "litellm", secretVolume)},
			unverif: []string{"budget-fail-open-unverifiable|Deployment|litellm/litellm|medium"},
			msg:     "Secret litellm/litellm-config-secret key config.yaml",
		},
		"config from a bucket": {
			objs:    []any{sr3Deploy("litellm", "litellm", sr3WithEnv(sr3Literal("LITELLM_CONFIG_BUCKET_NAME", "configs")))},
			unverif: []string{"budget-fail-open-unverifiable|Deployment|litellm/litellm|medium"},
			msg:     "LITELLM_CONFIG_BUCKET_NAME",
		},
		"mounted ConfigMap not in the snapshot": {
			objs:    []any{sr3Deploy("litellm", "litellm")},
			unverif: []string{"budget-fail-open-unverifiable|Deployment|litellm/litellm|medium"},
			msg:     "ConfigMap litellm/litellm-config key config.yaml (mounted at /etc/litellm/config.yaml)",
		},
		"ConfigMap found by name, no Deployment: env unknown": {
			objs:    []any{sr3CM("litellm", "team-a-litellm-config", map[string]string{"config.yaml": sr3Config("  allow_requests_on_db_unavailable: os.environ/ALLOW\n")})},
			unverif: []string{"budget-fail-open-unverifiable|ConfigMap|litellm/team-a-litellm-config|medium"},
			msg:     "no Deployment in namespace litellm mounts ConfigMap team-a-litellm-config",
		},
		"ConfigMap found by label, literal true": {
			objs: []any{sr3CM("litellm", "proxy", map[string]string{"config.yaml": sr3Config("  allow_requests_on_db_unavailable: true\n")}, "app.kubernetes.io/name", "litellm")},
			open: []string{"budget-fail-open-in-prod|ConfigMap|litellm/proxy|critical"},
			msg:  "identified by its label app.kubernetes.io/name=litellm",
		},
		"two Deployments, one with the flag on": {
			objs: []any{
				sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("  allow_requests_on_db_unavailable: os.environ/ALLOW\n")}),
				sr3Deploy("litellm", "litellm"),
				sr3Deploy("litellm", "litellm-batch", func(d *appsv1.Deployment) {
					d.Spec.Template.Spec.Volumes[0].ConfigMap.Name = "litellm-config"
					sr3Container(d).Env = append(sr3Container(d).Env, sr3Literal("ALLOW", "true"))
				}),
			},
			open: []string{failOpen},
			msg:  "run by Deployment litellm/litellm-batch",
		},
		"LiteLLM without a config": {
			objs: []any{sr3Deploy("litellm", "litellm", func(d *appsv1.Deployment) { sr3Container(d).Args = nil })},
			inc:  "runs LiteLLM without --config",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(append(sr3Namespaces(), tc.objs...)...)
			open, openFs, inc := sr3Eval(ruleFor(budgetFailOpenInProd)(auditor.DefaultConfig()), s)
			unverif, unverifFs, _ := sr3Eval(ruleFor(budgetFailOpenUnverifiable)(auditor.DefaultConfig()), s)
			assert.Equal(t, tc.open, open)
			assert.Equal(t, tc.unverif, unverif)
			if tc.msg != "" {
				assert.Contains(t, sr3Messages(openFs)+sr3Messages(unverifFs), tc.msg)
			}
			if tc.inc != "" {
				assert.Contains(t, inc[0], tc.inc)
			}
			if len(openFs) == 1 && tc.msg == "run by Deployment litellm/litellm-batch" {
				assert.Equal(t, "Deployment/litellm-batch", openFs[0].Discriminator)
			}
		})
	}
}

// TestBudgetFailOpenVisibility: with ConfigMaps not visible, the rule says so instead of
// reporting a clean prod.
func TestBudgetFailOpenVisibility(t *testing.T) {
	s := snapshottest.New(append(sr3Namespaces(),
		map[string]auditor.Availability{auditor.ResourceConfigMaps: {State: auditor.Forbidden}})...)
	keys, _, inc := sr3Eval(ruleFor(budgetFailOpenInProd)(auditor.DefaultConfig()), s)
	assert.Empty(t, keys)
	require.Len(t, inc, 2)
	assert.Contains(t, inc[0], "configmaps are not visible (forbidden)")
	assert.Contains(t, inc[1], "no LiteLLM config with profile prod")
}
