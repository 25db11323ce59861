package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// TestConfigFileResolution: from a LiteLLM container to the ConfigMap key it reads —
// the --config argument forms, the mount (subPath, items, directories, projected
// volumes) and what cannot be read.
func TestConfigFileResolution(t *testing.T) {
	cmVol := func(name string, items ...corev1.KeyToPath) corev1.VolumeSource {
		return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Items: items}}
	}
	setup := func(command, args []string, mounts []corev1.VolumeMount, vol corev1.VolumeSource, env ...corev1.EnvVar) sr3DeployOpt {
		return func(d *appsv1.Deployment) {
			c := sr3Container(d)
			c.Command, c.Args, c.VolumeMounts = command, args, mounts
			c.Env = append(c.Env, env...)
			d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: vol}}
		}
	}
	mount := func(path, sub string) []corev1.VolumeMount {
		return []corev1.VolumeMount{{Name: "cfg", MountPath: path, SubPath: sub}}
	}
	cases := map[string]struct {
		opt        sr3DeployOpt
		cm, key    string // expected ConfigMap key
		unreadable string // or expected Unreadable substring
		chosen     string // what named the file, when not a single --config
		doubt      string // what may replace the file
	}{
		"chart shape: subPath + items": {opt: setup(nil, []string{"--config", "/etc/litellm/config.yaml"}, mount("/etc/litellm/config.yaml", "config.yaml"),
			cmVol("proxy", corev1.KeyToPath{Key: "proxy-config", Path: "config.yaml"})), cm: "proxy", key: "proxy-config"},
		"--config= and a directory mount": {opt: setup(nil, []string{"--config=/etc/litellm/prod.yaml"}, mount("/etc/litellm", ""), cmVol("proxy")), cm: "proxy", key: "prod.yaml"},
		"-c short flag":                   {opt: setup([]string{"litellm"}, []string{"-c", "/cfg/c.yaml"}, mount("/cfg", ""), cmVol("proxy")), cm: "proxy", key: "c.yaml"},
		"shell script": {opt: setup([]string{"/bin/sh", "-c"}, []string{"exec litellm --port 4000 --config /cfg/c.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			cm: "proxy", key: "c.yaml"},
		"relative path against the image WORKDIR": {opt: setup(nil, []string{"--config", "config.yaml"}, mount("/app/config.yaml", "config.yaml"), cmVol("proxy")), cm: "proxy", key: "config.yaml"},
		"$(VAR) in the argument": {opt: setup(nil, []string{"--config", "$(CFG_DIR)/x.yaml"}, mount("/cfg", ""), cmVol("proxy"), sr3Literal("CFG_DIR", "/cfg")),
			cm: "proxy", key: "x.yaml"},
		"CONFIG_FILE_PATH": {opt: setup(nil, []string{"--port", "4000"}, mount("/cfg", ""), cmVol("proxy"), sr3Literal("CONFIG_FILE_PATH", "/cfg/y.yaml")), cm: "proxy", key: "y.yaml", chosen: "env CONFIG_FILE_PATH"},
		"most specific mount wins": {opt: func(d *appsv1.Deployment) {
			setup(nil, []string{"--config", "/etc/litellm/config.yaml"}, nil, cmVol("other"))(d)
			c := sr3Container(d)
			c.VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: "/etc"}, {Name: "real", MountPath: "/etc/litellm"}}
			d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, corev1.Volume{Name: "real", VolumeSource: cmVol("proxy")})
		}, cm: "proxy", key: "config.yaml"},
		"subPath directory": {opt: setup(nil, []string{"--config", "/etc/litellm/config.yaml"}, mount("/etc/litellm", "prod"), cmVol("proxy",
			corev1.KeyToPath{Key: "cfg", Path: "prod/config.yaml"})), cm: "proxy", key: "cfg"},
		"projected ConfigMap": {opt: setup(nil, []string{"--config", "/cfg/config.yaml"}, mount("/cfg", ""), corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proxy"}}}}}}),
			cm: "proxy", key: "config.yaml"},
		"items do not project the file": {opt: setup(nil, []string{"--config", "/cfg/config.yaml"}, mount("/cfg", ""), cmVol("proxy", corev1.KeyToPath{Key: "a", Path: "a.yaml"})),
			unreadable: "which ConfigMap volume cfg (ConfigMap proxy) does not project"},
		"Secret volume": {opt: setup(nil, []string{"--config", "/cfg/config.yaml"}, mount("/cfg", ""), corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "proxy-cfg"}}),
			unreadable: "Secret litellm/proxy-cfg key config.yaml"},
		"emptyDir filled by an init container": {opt: setup(nil, []string{"--config", "/cfg/config.yaml"}, mount("/cfg", ""), corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}),
			unreadable: "from volume cfg, which is not a ConfigMap"},
		"file baked into the image": {opt: setup(nil, []string{"--config", "/app/proxy.yaml"}, nil, cmVol("proxy")),
			unreadable: "/app/proxy.yaml, which no volume provides"},
		"path from a Secret variable": {opt: setup(nil, nil, mount("/cfg", ""), cmVol("proxy"), sr3FromSecret("CONFIG_FILE_PATH", "paths", "p")),
			unreadable: "Secret litellm/paths key p"},

		// Which file wins (the table in litellm_mounts.go).
		"CONFIG_FILE_PATH wins over --config": {opt: setup(nil, []string{"--config", "/cfg/a.yaml"}, mount("/cfg", ""), cmVol("proxy"), sr3Literal("CONFIG_FILE_PATH", "/cfg/b.yaml")),
			cm: "proxy", key: "b.yaml", chosen: `env CONFIG_FILE_PATH (env CONFIG_FILE_PATH of container litellm), which LiteLLM's startup prefers over --config "/cfg/a.yaml"`},
		"CONFIG_FILE_PATH relative to the image WORKDIR": {opt: setup(nil, nil, mount("/app", ""), cmVol("proxy"), sr3Literal("CONFIG_FILE_PATH", "p.yml")), cm: "proxy", key: "p.yml", chosen: "env CONFIG_FILE_PATH"},
		"CONFIG_FILE_PATH not .yaml: no config at all, --config ignored": {opt: setup(nil, []string{"--config", "/cfg/a.yaml"}, mount("/cfg", ""), cmVol("proxy"), sr3Literal("CONFIG_FILE_PATH", "/cfg/b.json")),
			unreadable: `env CONFIG_FILE_PATH (env CONFIG_FILE_PATH of container litellm) is "/cfg/b.json", which does not end in .yaml or .yml, so LiteLLM's startup loads no config file`},
		"CONFIG_FILE_PATH empty: no config at all": {opt: setup(nil, []string{"--config", "/cfg/a.yaml"}, mount("/cfg", ""), cmVol("proxy"), sr3Literal("CONFIG_FILE_PATH", "")),
			unreadable: `is empty, so LiteLLM's startup loads no config file`},
		"CONFIG_FILE_PATH from a Secret beside --config: both candidates named": {opt: setup(nil, []string{"--config", "/cfg/a.yaml"}, mount("/cfg", ""), cmVol("proxy"), sr3FromSecret("CONFIG_FILE_PATH", "paths", "p")),
			unreadable: `Secret litellm/paths key p, which the auditor does not read); candidates: the file CONFIG_FILE_PATH names, else --config "/cfg/a.yaml"`},
		"envFrom Secret may define CONFIG_FILE_PATH: --config judged, doubt said": {opt: func(d *appsv1.Deployment) {
			setup(nil, []string{"--config", "/cfg/a.yaml"}, mount("/cfg", ""), cmVol("proxy"))(d)
			sr3WithEnvFrom(corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env"}}})(d)
		}, cm: "proxy", key: "a.yaml", doubt: `Secret litellm/env (envFrom), which the auditor does not read: if it defines CONFIG_FILE_PATH, LiteLLM's startup loads that file instead of --config "/cfg/a.yaml"`},
		"repeated --config: the last wins": {opt: setup(nil, []string{"--config", "/cfg/a.yaml", "--port", "4000", "--config", "/cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			cm: "proxy", key: "b.yaml", chosen: "the last of 2 --config options (LiteLLM's CLI keeps the last)"},
		"--config= then -c: the last wins": {opt: setup([]string{"litellm"}, []string{"--config=/cfg/a.yaml", "-c", "/cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			cm: "proxy", key: "b.yaml", chosen: "the last of 2"},
		"attached -cPATH": {opt: setup(nil, []string{"-c/cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")), cm: "proxy", key: "b.yaml"},
		"-c=PATH keeps the =": {opt: setup(nil, []string{"-c=/cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			unreadable: "/app/=/cfg/b.yaml, which no volume provides", chosen: `--config, written -c=PATH, whose value keeps the "="`},
		"--config after -- is an argument, not an option": {opt: setup(nil, []string{"--config", "/cfg/a.yaml", "--", "--config", "/cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			cm: "proxy", key: "a.yaml"},
		"shell script with two --config": {opt: setup([]string{"/bin/sh", "-c"}, []string{"exec litellm --config /cfg/a.yaml --config /cfg/b.yaml"}, mount("/cfg", ""), cmVol("proxy")),
			cm: "proxy", key: "b.yaml", chosen: "the last of 2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := sr3Deploy("litellm", "litellm", tc.opt)
			s := snapshottest.New(append(sr3Namespaces(), d)...)
			sc := newSR3Scope(auditor.DefaultConfig())
			p, why := sc.fromDeployment(s, d, sr3Container(d))
			assert.Empty(t, why)
			if !assert.NotNil(t, p) {
				return
			}
			assert.Contains(t, p.Chosen, tc.chosen)
			if tc.chosen == "" {
				assert.Empty(t, p.Chosen)
			}
			if tc.doubt != "" {
				assert.Contains(t, p.Doubt, tc.doubt)
			} else {
				assert.Empty(t, p.Doubt)
			}
			if tc.unreadable != "" {
				assert.Contains(t, p.Unreadable, tc.unreadable)
				return
			}
			// The ConfigMap is not in the snapshot: the key is resolved, the object missing.
			assert.Equal(t, tc.key, p.Key)
			assert.True(t, p.Strict)
			assert.Contains(t, p.Unreadable, "ConfigMap litellm/"+tc.cm+" key "+tc.key)
		})
	}
}
