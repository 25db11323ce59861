package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// TestContainerEnv: the kubelet's precedence and expansion rules.
func TestContainerEnv(t *testing.T) {
	f := false
	s := snapshottest.New(sr3CM("litellm", "a", map[string]string{"X": "from-a", "Y": "from-a"}), sr3CM("litellm", "b", map[string]string{"X": "from-b"}))
	c := &corev1.Container{
		Name: "litellm",
		EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "a"}}},
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "b"}}},
			{Prefix: "S_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}}},
		},
		Env: []corev1.EnvVar{
			sr3Literal("Y", "literal"),
			sr3Literal("Z", "$(Y)-$(X)-$$(Y)-$(NOPE)"),
			sr3FromSecret("PW", "db", "password"),
			sr3Literal("URL", "pg://u:$(PW)@host/db"),
			sr3FromCM("OPT", "a", "missing", true),
			sr3FromCM("REQ", "a", "missing", false),
			{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			sr3FromCM("LATE", "b", "X", f),
			sr3Literal("LATE", "override"),
		},
	}
	e := newContainerEnv(s, "litellm", c)
	cases := map[string]struct {
		name    string
		state   litellm.EnvState
		value   string
		partial string
		why     string
	}{
		"later envFrom wins":             {name: "X", state: litellm.EnvSet, value: "from-b"},
		"env wins over envFrom":          {name: "Y", state: litellm.EnvSet, value: "literal"},
		"expansion":                      {name: "Z", state: litellm.EnvSet, value: "literal-from-b-$(Y)-$(NOPE)"},
		"secret":                         {name: "PW", state: litellm.EnvUnknown, why: "Secret litellm/db key password"},
		"expansion of a secret":          {name: "URL", state: litellm.EnvUnknown, partial: "pg://u:$(PW)@host/db", why: "refers to $(PW)"},
		"optional missing key is unset":  {name: "OPT", state: litellm.EnvUnset},
		"required missing key":           {name: "REQ", state: litellm.EnvUnknown, why: "cannot start"},
		"field ref":                      {name: "POD", state: litellm.EnvUnknown, why: "metadata.name"},
		"prefixed envFrom Secret":        {name: "S_TOKEN", state: litellm.EnvUnknown, why: "Secret litellm/sec (envFrom)"},
		"not matching the Secret prefix": {name: "TOKEN", state: litellm.EnvUnset},
		"later env entry wins":           {name: "LATE", state: litellm.EnvSet, value: "override"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v := e.Lookup(tc.name)
			assert.Equal(t, tc.state, v.State)
			assert.Equal(t, tc.value, v.Value)
			assert.Equal(t, tc.partial, v.Partial)
			if tc.why != "" {
				assert.Contains(t, v.Why, tc.why)
			}
		})
	}
}
