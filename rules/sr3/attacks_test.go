package sr3

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
)

// examplePlatform reads the example platform's SR3 objects with the deliberate defect
// removed (the budget database gets its 3 instances), then applies attack to them.
func examplePlatform(t *testing.T, attack func(objs []manifests.Object) []manifests.Object) *auditor.Snapshot {
	t.Helper()
	objs, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml", "../../examples/platform/30-sr3-litellm.yaml"}, nil)
	require.NoError(t, err)
	for _, o := range objs {
		if u, ok := o.Value.(*unstructured.Unstructured); ok && o.GVK.Kind == "Cluster" {
			require.NoError(t, unstructured.SetNestedField(u.Object, int64(3), "spec", "instances"))
		}
	}
	if attack != nil {
		objs = attack(objs)
	}
	s, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	return s
}

// exampleObject returns the typed value of one example object.
func exampleObject[T any](t *testing.T, objs []manifests.Object, kind, ns, name string) T {
	t.Helper()
	for _, o := range objs {
		if o.GVK.Kind == kind && o.Namespace == ns && o.Name == name {
			v, ok := o.Value.(T)
			require.True(t, ok, "%s %s/%s is a %T", kind, ns, name, o.Value)
			return v
		}
	}
	require.FailNow(t, "no such example object", "%s %s/%s", kind, ns, name)
	var zero T
	return zero
}

// exampleConfigMap adds a ConfigMap to the example objects.
func exampleConfigMap(objs []manifests.Object, cm *corev1.ConfigMap) []manifests.Object {
	return append(objs, manifests.Object{GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Namespace: cm.Namespace, Name: cm.Name, Value: cm})
}

// sr3All evaluates every SR3 rule: findings, and the control's state.
func sr3All(s *auditor.Snapshot) ([]auditor.Finding, auditor.ControlState) {
	rules := Rules(auditor.DefaultConfig())
	var fs []auditor.Finding
	inc := map[string][]string{}
	for _, r := range rules {
		res := r.Evaluate(s)
		fs = append(fs, res.Findings...)
		inc[r.Meta().ID] = res.Inconclusive
	}
	return fs, auditor.ControlStatus(rules, fs, inc, nil)[auditor.SR3]
}

// TestExampleWithoutDefectsIsQuiet: with its defect removed, the example platform has no
// SR3 finding above low.
func TestExampleWithoutDefectsIsQuiet(t *testing.T) {
	fs, state := sr3All(examplePlatform(t, nil))
	for _, f := range fs {
		assert.LessOrEqual(t, f.Severity, auditor.SeverityLow, "%s: %s", f.Rule, f.Message)
	}
	assert.Equal(t, auditor.Enforced, state)
}

// failOpenConfig is the example's prod config with the fail-open flag on.
const failOpenConfig = "general_settings:\n  allow_requests_on_db_unavailable: true\n" +
	"litellm_settings:\n  cache: true\n  cache_params: {type: redis, host: os.environ/REDIS_HOST, port: os.environ/REDIS_PORT}\n"

// TestExampleAttacks: each side door, added alone to the example platform without its
// defect, makes SR3 violated with a finding of medium or worse naming the object and the
// reason.
func TestExampleAttacks(t *testing.T) {
	prodDeploy := func(t *testing.T, objs []manifests.Object) *appsv1.Deployment {
		return exampleObject[*appsv1.Deployment](t, objs, "Deployment", "litellm", "litellm")
	}
	// withShadowConfig mounts a second, fail-open ConfigMap at /etc/litellm/shadow.yaml.
	withShadowConfig := func(t *testing.T, objs []manifests.Object) []manifests.Object {
		d := prodDeploy(t, objs)
		d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "shadow", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "litellm-shadow"}}}})
		c := &d.Spec.Template.Spec.Containers[0]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "shadow", MountPath: "/etc/litellm/shadow.yaml", SubPath: "shadow.yaml"})
		return exampleConfigMap(objs, sr3CM("litellm", "litellm-shadow", map[string]string{"shadow.yaml": failOpenConfig}))
	}
	cases := map[string]struct {
		attack func(t *testing.T, objs []manifests.Object) []manifests.Object
		rule   string
		object string // Kind/namespace/name
		reason []string
	}{
		"CONFIG_FILE_PATH names another file than --config": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				objs = withShadowConfig(t, objs)
				c := &prodDeploy(t, objs).Spec.Template.Spec.Containers[0]
				c.Env = append(c.Env, corev1.EnvVar{Name: "CONFIG_FILE_PATH", Value: "/etc/litellm/shadow.yaml"})
				return objs
			},
			rule: "budget-fail-open-in-prod", object: "ConfigMap/litellm/litellm-shadow",
			reason: []string{"env CONFIG_FILE_PATH", "which LiteLLM's startup prefers over --config", "allow_requests_on_db_unavailable"},
		},
		"a second --config after the first": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				objs = withShadowConfig(t, objs)
				c := &prodDeploy(t, objs).Spec.Template.Spec.Containers[0]
				c.Args = append(c.Args, "--config", "/etc/litellm/shadow.yaml")
				return objs
			},
			rule: "budget-fail-open-in-prod", object: "ConfigMap/litellm/litellm-shadow",
			reason: []string{"the last of 2 --config options", "allow_requests_on_db_unavailable"},
		},
		"an attached -c after the first --config": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				objs = withShadowConfig(t, objs)
				c := &prodDeploy(t, objs).Spec.Template.Spec.Containers[0]
				c.Args = append(c.Args, "-c/etc/litellm/shadow.yaml")
				return objs
			},
			rule: "budget-fail-open-in-prod", object: "ConfigMap/litellm/litellm-shadow",
			reason: []string{"the last of 2 --config options"},
		},
		"a dev label on the prod proxy's ConfigMap": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				cm := exampleObject[*corev1.ConfigMap](t, objs, "ConfigMap", "litellm", "litellm-config")
				cm.Labels["llm-platform/profile"] = "dev"
				cm.Data["config.yaml"] = strings.Replace(cm.Data["config.yaml"], "allow_requests_on_db_unavailable: false", "allow_requests_on_db_unavailable: true", 1)
				return objs
			},
			rule: "budget-profile-downgrade", object: "ConfigMap/litellm/litellm-config",
			reason: []string{"(llm-platform/profile=dev) overrides the prod profile of namespace litellm", "which prod forbids"},
		},
		"a cost label on the prod proxy's Deployment": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				prodDeploy(t, objs).Labels["llm-platform/profile"] = "cost"
				return objs
			},
			rule: "budget-profile-downgrade", object: "Deployment/litellm/litellm",
			reason: []string{"Deployment litellm/litellm (llm-platform/profile=cost) overrides the prod profile of namespace litellm"},
		},
		"the flag behind the non-specific tag: ! 'yes'": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				cm := exampleObject[*corev1.ConfigMap](t, objs, "ConfigMap", "litellm", "litellm-config")
				cm.Data["config.yaml"] = strings.Replace(cm.Data["config.yaml"], "allow_requests_on_db_unavailable: false", "allow_requests_on_db_unavailable: ! 'yes'", 1)
				return objs
			},
			rule: "budget-fail-open-in-prod", object: "ConfigMap/litellm/litellm-config",
			reason: []string{`! single-quoted "yes"`, "PyYAML (YAML 1.1) loads as the boolean true"},
		},
		"a tab after the flag's colon": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				cm := exampleObject[*corev1.ConfigMap](t, objs, "ConfigMap", "litellm", "litellm-config")
				cm.Data["config.yaml"] = strings.Replace(cm.Data["config.yaml"], "allow_requests_on_db_unavailable: false", "allow_requests_on_db_unavailable:\tfalse", 1)
				return objs
			},
			rule: "litellm-config-unparseable", object: "ConfigMap/litellm/litellm-config",
			reason: []string{"found character '\\t' that cannot start any token"},
		},
		"CONFIG_FILE_PATH from a Secret": {
			attack: func(t *testing.T, objs []manifests.Object) []manifests.Object {
				c := &prodDeploy(t, objs).Spec.Template.Spec.Containers[0]
				c.Env = append(c.Env, sr3FromSecret("CONFIG_FILE_PATH", "litellm-paths", "config"))
				return objs
			},
			rule: "budget-fail-open-unverifiable", object: "Deployment/litellm/litellm",
			reason: []string{"Secret litellm/litellm-paths key config", "candidates: the file CONFIG_FILE_PATH names, else --config \"/etc/litellm/config.yaml\""},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fs, state := sr3All(examplePlatform(t, func(objs []manifests.Object) []manifests.Object { return tc.attack(t, objs) }))
			assert.Equal(t, auditor.Violated, state)
			var hit *auditor.Finding
			for i, f := range fs {
				if f.Rule == tc.rule && fmt.Sprintf("%s/%s/%s", f.Object.Kind, f.Object.Namespace, f.Object.Name) == tc.object {
					hit = &fs[i]
				}
			}
			require.NotNil(t, hit, "no %s on %s among %v", tc.rule, tc.object, fs)
			assert.GreaterOrEqual(t, hit.Severity, auditor.SeverityMedium)
			for _, r := range tc.reason {
				assert.Contains(t, hit.Message, r)
			}
		})
	}
}
