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

// TestDiscoveryLoadedFileOnly: a chart-named ConfigMap that the Deployment mounts but
// does not load (CONFIG_FILE_PATH names another file) is not read as run by it.
func TestDiscoveryLoadedFileOnly(t *testing.T) {
	cases := map[string]struct {
		env     []corev1.EnvVar
		runBy   map[string]bool // ConfigMap -> run by the Deployment
		viaPart map[string]string
	}{
		"--config loads litellm-config": {runBy: map[string]bool{"litellm-config": true}},
		"CONFIG_FILE_PATH loads the shadow": {env: []corev1.EnvVar{sr3Literal("CONFIG_FILE_PATH", "/etc/litellm/shadow.yaml")},
			runBy:   map[string]bool{"shadow": true, "litellm-config": false},
			viaPart: map[string]string{"litellm-config": "Deployment litellm/litellm mounts it but container litellm loads another file"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := sr3Deploy("litellm", "litellm", sr3WithEnv(tc.env...), func(d *appsv1.Deployment) {
				d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "shadow", VolumeSource: corev1.VolumeSource{
					ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "shadow"}}}})
				c := sr3Container(d)
				c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "shadow", MountPath: "/etc/litellm/shadow.yaml", SubPath: "config.yaml"})
			})
			s := snapshottest.New(append(sr3Namespaces(), d,
				sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("")}),
				sr3CM("litellm", "shadow", map[string]string{"config.yaml": sr3Config("")}))...)
			ps, why := newSR3Scope(auditor.DefaultConfig()).proxies(s)
			assert.Empty(t, why)
			got := map[string]bool{}
			for _, p := range ps {
				require.NotNil(t, p.CM)
				got[p.CM.Name] = p.Deploy != nil
				if want := tc.viaPart[p.CM.Name]; want != "" {
					assert.Contains(t, p.Via, want)
				}
			}
			assert.Equal(t, tc.runBy, got)
		})
	}
}
