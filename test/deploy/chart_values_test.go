package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestHelmConfigInline: config.inline is rendered into a ConfigMap the auditor's own
// loader accepts, mounted and passed as --config; a change of it rolls the pod.
func TestHelmConfigInline(t *testing.T) {
	set := []string{"config.inline.controls={SR1,SR2}", "config.inline.sr1.protectedNamespaces={model-serving}", "config.inline.sr3.prodProfiles={prod,prod-eu}"}
	objs := helmTemplate(t, set...)
	r := decodeVariant(t, objs) // the matrix's checks run on the other cases; these add volumes
	var cm *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "enforcement-auditor-config" {
			cm = o
		}
	}
	require.NotNil(t, cm, "the config's ConfigMap")
	assert.Equal(t, auditorNS, cm.GetNamespace())
	data, _, _ := unstructured.NestedString(cm.Object, "data", "auditor.yaml")
	p := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	cfg, err := auditor.LoadConfig(p)
	require.NoError(t, err, "the auditor loads the rendered configuration:\n%s", data)
	assert.Equal(t, []auditor.Control{auditor.SR1, auditor.SR2}, cfg.Controls)
	assert.Equal(t, []string{"model-serving"}, cfg.SR1.ProtectedNamespaces)
	assert.Equal(t, []string{"prod", "prod-eu"}, cfg.SR3.ProdProfiles)

	spec := r.deployment.Spec.Template.Spec
	c := spec.Containers[0]
	assert.Contains(t, c.Args, "--config=/etc/enforcement-auditor/config/auditor.yaml")
	assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "config", MountPath: "/etc/enforcement-auditor/config", ReadOnly: true})
	assert.Contains(t, spec.Volumes, configVolume("enforcement-auditor-config", "auditor.yaml"))
	sum := r.deployment.Spec.Template.Annotations["checksum/config"]
	assert.Len(t, sum, 64)

	other := decodeVariant(t, helmTemplate(t, "config.inline.controls={SR1}"))
	assert.NotEqual(t, sum, other.deployment.Spec.Template.Annotations["checksum/config"], "another configuration rolls the pod")
	none := decodeVariant(t, helmTemplate(t))
	assert.NotContains(t, none.deployment.Spec.Template.Annotations, "checksum/config")
	for _, a := range none.deployment.Spec.Template.Spec.Containers[0].Args {
		assert.NotContains(t, a, "--config", "no configuration: the built-in defaults")
	}
}

func configVolume(cm, key string) corev1.Volume {
	return corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: cm}, Items: []corev1.KeyToPath{{Key: key, Path: key}}}}}
}

// TestHelmConfigExistingAndExtraVolumes: an existing ConfigMap is mounted, not
// rendered; extra volumes and mounts are added beside the chart's own.
func TestHelmConfigExistingAndExtraVolumes(t *testing.T) {
	objs := helmTemplate(t, "config.existingConfigMap=platform-auditor", "config.key=config.yaml",
		"extraVolumes[0].name=ca", "extraVolumes[0].configMap.name=corp-ca", "extraVolumeMounts[0].name=ca", "extraVolumeMounts[0].mountPath=/etc/ssl/corp", "extraVolumeMounts[0].readOnly=true")
	for _, o := range objs {
		assert.False(t, o.GetKind() == "ConfigMap" && o.GetName() == "enforcement-auditor-config", "an existing ConfigMap is not rendered")
	}
	r := decodeVariant(t, objs)
	spec := r.deployment.Spec.Template.Spec
	c := spec.Containers[0]
	assert.Contains(t, c.Args, "--config=/etc/enforcement-auditor/config/config.yaml")
	assert.Contains(t, spec.Volumes, configVolume("platform-auditor", "config.yaml"))
	var ca *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == "ca" {
			ca = &spec.Volumes[i]
		}
	}
	if assert.NotNil(t, ca) && assert.NotNil(t, ca.ConfigMap) {
		assert.Equal(t, "corp-ca", ca.ConfigMap.Name)
	}
	assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "ca", MountPath: "/etc/ssl/corp", ReadOnly: true})

	for name, set := range map[string][]string{
		"inline and existing":           {"config.inline.controls={SR1}", "config.existingConfigMap=x"},
		"a volume named as the chart's": {"extraVolumes[0].name=config", "extraVolumes[0].emptyDir.medium=Memory"},
		"a mount without a path":        {"extraVolumeMounts[0].name=ca"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"template", "x", chart}
			for _, s := range set {
				args = append(args, "--set", s)
			}
			cmd := exec.Command(tool(t, "helm"), args...)
			cmd.Dir = repoRoot(t)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			assert.Error(t, cmd.Run(), "helm template must fail:\n%s", out.String())
		})
	}
}

// TestHelmNotes: NOTES bind and take the token of one account, and list every
// component, reports included.
func TestHelmNotes(t *testing.T) {
	notes := func(set ...string) string {
		args := []string{"install", "enforcement-auditor", chart, "--namespace", auditorNS, "--dry-run=client"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		out := string(run(t, nil, "helm", args...))
		i := strings.Index(out, "NOTES:")
		require.GreaterOrEqual(t, i, 0, out)
		return out[i:]
	}
	n := notes("reports.enabled=true")
	assert.Contains(t, n, "kubectl -n enforcement-auditor create serviceaccount metrics-reader\n")
	assert.Contains(t, n, "--clusterrole enforcement-auditor-metrics-reader --serviceaccount enforcement-auditor:metrics-reader\n")
	assert.Contains(t, n, `$(kubectl -n enforcement-auditor create token metrics-reader)`)
	assert.NotContains(t, n, "--user", "the account bound is the one whose token is used")
	assert.Contains(t, n, "reports=true (openreports)")
	assert.Contains(t, n, "kubectl get reports,clusterreports -A -l app.kubernetes.io/managed-by=enforcement-auditor")
	assert.Contains(t, notes(), "reports=false")
	assert.Contains(t, notes("config.existingConfigMap=platform-auditor"), "config=platform-auditor")
}

// TestReadmeChartValues: the README's values file renders, and the auditor loads the
// configuration it carries.
func TestReadmeChartValues(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	const open = "```yaml\n# values-platform.yaml:"
	i := bytes.Index(readme, []byte(open))
	require.GreaterOrEqual(t, i, 0, "the README's chart values")
	block := readme[i+len("```yaml\n"):]
	block = block[:bytes.Index(block, []byte("```"))]
	values := filepath.Join(t.TempDir(), "values-platform.yaml")
	require.NoError(t, os.WriteFile(values, block, 0o644))
	objs := decodeObjects(t, run(t, nil, "helm", "template", "enforcement-auditor", chart, "--namespace", auditorNS, "-f", values))
	found := false
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == "enforcement-auditor-config" {
			found = true
			data, _, _ := unstructured.NestedString(o.Object, "data", "auditor.yaml")
			p := filepath.Join(t.TempDir(), "auditor.yaml")
			require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
			cfg, err := auditor.LoadConfig(p)
			require.NoError(t, err, data)
			assert.Equal(t, []auditor.Control{auditor.SR1, auditor.SR2}, cfg.Controls)
		}
	}
	assert.True(t, found)
	r := decodeVariant(t, objs)
	assert.Contains(t, r.deployment.Spec.Template.Spec.Containers[0].Args, "--signing-key=/etc/enforcement-auditor/signing/signing-key.pem")
}
