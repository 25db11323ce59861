package deploy

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

const (
	signingSecret = "enforcement-auditor-evidence-signing"
	signingVolume = "signing-key"
	signingDir    = "/etc/enforcement-auditor/signing"
	// signingKeySet is the chart's value for the evidence-signing component.
	signingKeySet = "evidence.signingKey.secretName=" + signingSecret
)

// checkEvidenceSigning: with the component (Helm: evidence.signingKey.secretName) the
// signing key's Secret is mounted read-only, mode 0440 (the auditor refuses a key group
// or others may write), one key at a fixed path that --signing-key names; without it
// neither the flag nor the Secret (evidence is then UNSIGNED, and says so).
func checkEvidenceSigning(t *testing.T, r *rendered, on bool) {
	t.Helper()
	const flag = "--signing-key=" + signingDir + "/signing-key.pem"
	assert.Equal(t, on, slices.Contains(args(r), flag))
	for _, a := range args(r) {
		if a != flag {
			assert.NotContains(t, a, "--signing-key", "one signing key flag, the component's")
		}
	}
	spec := r.deployment.Spec.Template.Spec
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == signingVolume {
			vol = &spec.Volumes[i]
		}
	}
	var mount *corev1.VolumeMount
	for i, m := range spec.Containers[0].VolumeMounts {
		if m.Name == signingVolume {
			mount = &spec.Containers[0].VolumeMounts[i]
		}
	}
	if !on {
		assert.Nil(t, vol)
		assert.Nil(t, mount)
		return
	}
	require.NotNil(t, vol)
	require.NotNil(t, vol.Secret, "the key comes from a Secret")
	assert.Equal(t, signingSecret, vol.Secret.SecretName)
	require.NotNil(t, vol.Secret.DefaultMode)
	assert.Equal(t, int32(0o440), *vol.Secret.DefaultMode)
	assert.Zero(t, *vol.Secret.DefaultMode&0o022, "a key group or others may write is refused by the auditor")
	assert.Equal(t, []corev1.KeyToPath{{Key: "signing-key.pem", Path: "signing-key.pem"}}, vol.Secret.Items)
	assert.Nil(t, vol.Secret.Optional, "the pod waits for the key rather than writing unsigned evidence")
	require.NotNil(t, mount)
	assert.Equal(t, corev1.VolumeMount{Name: signingVolume, MountPath: signingDir, ReadOnly: true}, *mount)
	assert.Equal(t, ptr(int64(65532)), spec.SecurityContext.FSGroup, "the non-root auditor reads the key through its group")
}

// The chart's key name is the Secret's key; the file is always signing-key.pem.
func TestHelmSigningKeyOfAnotherName(t *testing.T) {
	r := decodeVariant(t, helmTemplate(t, "evidence.enabled=true", "evidence.signingKey.secretName=platform-keys", "evidence.signingKey.key=evidence-ed25519.pem"))
	var vol *corev1.Volume
	for i, v := range r.deployment.Spec.Template.Spec.Volumes {
		if v.Name == signingVolume {
			vol = &r.deployment.Spec.Template.Spec.Volumes[i]
		}
	}
	require.NotNil(t, vol)
	assert.Equal(t, "platform-keys", vol.Secret.SecretName)
	assert.Equal(t, []corev1.KeyToPath{{Key: "evidence-ed25519.pem", Path: "signing-key.pem"}}, vol.Secret.Items)
	assert.Contains(t, args(r), "--signing-key="+signingDir+"/signing-key.pem")
}
