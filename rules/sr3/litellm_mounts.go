package sr3

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "busybox": true}

// configPath finds the file LiteLLM reads: `--config PATH`, `--config=PATH` or `-c PATH`
// in command or args (a shell script string is split into words), else env
// CONFIG_FILE_PATH. When the path itself cannot be known, how says why.
func configPath(c *corev1.Container, env *containerEnv) (file, how string) {
	tokens := append(append([]string(nil), c.Command...), c.Args...)
	shell := len(c.Command) > 0 && shells[path.Base(c.Command[0])]
	var words []string
	for _, t := range tokens {
		if strings.ContainsAny(t, " \t\n") {
			words = append(words, strings.Fields(t)...)
		} else {
			words = append(words, t)
		}
	}
	for i, w := range words {
		switch {
		case strings.HasPrefix(w, "--config="):
			return expandArg(strings.TrimPrefix(w, "--config="), env)
		case (w == "--config" || (w == "-c" && !shell)) && i+1 < len(words):
			return expandArg(words[i+1], env)
		}
	}
	v := env.Lookup("CONFIG_FILE_PATH")
	switch v.State {
	case litellm.EnvSet:
		return strings.TrimSpace(v.Value), ""
	case litellm.EnvUnknown:
		return "", "a path in env CONFIG_FILE_PATH the auditor cannot read: " + v.Why
	}
	return "", ""
}

// expandArg applies the kubelet's $(VAR) expansion to a command-line argument.
func expandArg(arg string, env *containerEnv) (string, string) {
	arg = strings.Trim(arg, `"'`)
	v := env.expand(arg, "the --config argument")
	if v.State != litellm.EnvSet {
		return "", "a --config path the auditor cannot resolve: " + v.Why
	}
	return v.Value, ""
}

// fileSource is where a file inside a container comes from.
type fileSource struct {
	cm, key  string // a ConfigMap key
	optional bool
	other    string // otherwise, a description of the source
}

// resolveFile maps a file path to its source through the container's volume mounts:
// the most specific mount wins; subPath selects inside the volume; a ConfigMap volume
// with items exposes only those items, at their paths; without items each key is a file.
func resolveFile(s *auditor.Snapshot, ns string, spec *corev1.PodSpec, c *corev1.Container, file string) fileSource {
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		mp := path.Clean(m.MountPath)
		if (file == mp || strings.HasPrefix(file, strings.TrimSuffix(mp, "/")+"/")) && (best == nil || len(mp) > len(path.Clean(best.MountPath))) {
			best = m
		}
	}
	if best == nil {
		return fileSource{other: fmt.Sprintf("%s, which no volume provides (it would have to be in the image)", file)}
	}
	if best.SubPathExpr != "" {
		return fileSource{other: fmt.Sprintf("%s, mounted with subPathExpr the auditor does not expand", file)}
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(file, path.Clean(best.MountPath)), "/")
	if best.SubPath != "" {
		rel = path.Join(best.SubPath, rel)
	}
	rel = path.Clean(rel)
	var vol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].Name == best.Name {
			vol = &spec.Volumes[i]
		}
	}
	switch {
	case vol == nil:
		return fileSource{other: fmt.Sprintf("%s, from volume %s which the pod does not define", file, best.Name)}
	case rel == "." || rel == "":
		return fileSource{other: fmt.Sprintf("%s, which is the mount point of volume %s (a directory, not a file)", file, vol.Name)}
	case vol.ConfigMap != nil:
		key, ok := projectedKey(vol.ConfigMap.Items, rel)
		if !ok {
			return fileSource{other: fmt.Sprintf("%s, which ConfigMap volume %s (ConfigMap %s) does not project", file, vol.Name, vol.ConfigMap.Name)}
		}
		return fileSource{cm: vol.ConfigMap.Name, key: key, optional: vol.ConfigMap.Optional != nil && *vol.ConfigMap.Optional}
	case vol.Secret != nil:
		key, _ := projectedKey(vol.Secret.Items, rel)
		return fileSource{other: fmt.Sprintf("Secret %s/%s key %s (mounted at %s), which the auditor does not read", ns, vol.Secret.SecretName, key, file)}
	case vol.Projected != nil:
		for _, src := range vol.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				key, ok := projectedKey(src.ConfigMap.Items, rel)
				if !ok {
					continue
				}
				if len(src.ConfigMap.Items) == 0 {
					if cm := s.ConfigMap(ns, src.ConfigMap.Name); cm != nil {
						if _, has := cm.Data[key]; !has {
							continue
						}
					}
				}
				return fileSource{cm: src.ConfigMap.Name, key: key, optional: src.ConfigMap.Optional != nil && *src.ConfigMap.Optional}
			case src.Secret != nil:
				if key, ok := projectedKey(src.Secret.Items, rel); ok {
					return fileSource{other: fmt.Sprintf("Secret %s/%s key %s (projected at %s), which the auditor does not read", ns, src.Secret.Name, key, file)}
				}
			}
		}
		return fileSource{other: fmt.Sprintf("%s, which no ConfigMap of projected volume %s provides", file, vol.Name)}
	}
	return fileSource{other: fmt.Sprintf("%s, from volume %s, which is not a ConfigMap", file, vol.Name)}
}

// projectedKey finds the key projected at rel: through items when there are any, else
// rel itself when it is a top-level file name.
func projectedKey(items []corev1.KeyToPath, rel string) (string, bool) {
	if len(items) == 0 {
		if strings.Contains(rel, "/") {
			return "", false
		}
		return rel, true
	}
	for _, it := range items {
		if path.Clean(it.Path) == rel {
			return it.Key, true
		}
	}
	return "", false
}
