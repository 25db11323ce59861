package sr3

import (
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "busybox": true}

// How the LiteLLM proxy picks the config file it loads, as its CLI and its startup read
// it (BerriAI/litellm main, 2025-2026; click's option parser). One table; configPath
// follows it and docs/rules/sr3.md repeats it.
//
//	| # | What                                   | LiteLLM loads                                     | Source |
//	|---|----------------------------------------|---------------------------------------------------|--------|
//	| 1 | env LITELLM_CONFIG_BUCKET_NAME set     | the object in S3/GCS, not a file                  | proxy_server.py ProxyConfig.get_config |
//	| 2 | env CONFIG_FILE_PATH set (any value)   | that file, and --config is not consulted          | proxy_server.py startup: `env_config_yaml = get_secret_str("CONFIG_FILE_PATH")`; `if env_config_yaml is not None: ... elif worker_config is not None:` |
//	| 2a| ... and it is no file ending .yaml/.yml| no config file at all (empty value included)     | same branch: `os.path.isfile(...) and proxy_config.is_yaml(...)`; ProxyConfig.is_yaml tests the extension |
//	| 3 | otherwise `--config`/`-c`              | the value of the LAST occurrence                  | proxy_cli.py `@click.option("--config", "-c", default=None)` (no multiple=True: click stores each occurrence over the last); save_worker_config(config=...) -> WORKER_CONFIG |
//	| 3a| `--config PATH`, `--config=PATH`       | PATH                                              | click parser.py _match_long_opt (splits at the first "=") |
//	| 3b| `-c PATH`, `-cPATH`                    | PATH                                              | click parser.py _match_short_opt ("characters left in arg" are the value) |
//	| 3c| `-c=PATH`                              | the path "=PATH" (the "=" is kept)               | same: the rest of the token, "=" included |
//	| 3d| after a bare `--`                      | no option: positional arguments                   | click parser.py: "--" ends option processing |
//	| 4 | none of these                          | no config file                                    | proxy_server.py startup (both branches skipped) |
//
// A relative path resolves against the container's workingDir, else the image's /app.

// configChoice is the file LiteLLM loads, chosen by the table above.
type configChoice struct {
	file string // the winning path; "" when none is known
	from string // what named it, for messages ("env CONFIG_FILE_PATH", "the last of 2 --config options")
	how  string // when file is "": why no file can be judged, naming the candidates ("" when there is no config at all)
	// doubt: an envFrom source the auditor cannot read may define CONFIG_FILE_PATH and so
	// replace file (reported as inconclusive, the file still judged).
	doubt string
}

// cliConfig is one --config/-c occurrence on the command line.
type cliConfig struct{ value, form string }

// cliConfigs lists the --config/-c occurrences of a container's command and args, in order
// (a shell script string is split into words; a bare -c after a shell is the shell's).
func cliConfigs(c *corev1.Container) []cliConfig {
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
	var out []cliConfig
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			return out
		case strings.HasPrefix(w, "--config="):
			out = append(out, cliConfig{strings.TrimPrefix(w, "--config="), "--config=PATH"})
		case w == "--config" && i+1 < len(words):
			out = append(out, cliConfig{words[i+1], "--config PATH"})
			i++
		case w == "-c" && !shell && i+1 < len(words):
			out = append(out, cliConfig{words[i+1], "-c PATH"})
			i++
		case strings.HasPrefix(w, "-c") && len(w) > 2 && !strings.HasPrefix(w, "--"):
			// click: the rest of the token is the value, "=" included.
			out = append(out, cliConfig{w[2:], "-cPATH"})
		}
	}
	return out
}

// configPath finds the file LiteLLM loads (the table above): env CONFIG_FILE_PATH when
// set, else the last --config. When the file cannot be known, how says why and names the
// candidates.
func configPath(c *corev1.Container, env *containerEnv) configChoice {
	cli := cliConfigs(c)
	cliDesc := "no --config"
	if n := len(cli); n > 0 {
		cliDesc = fmt.Sprintf("--config %q", cli[n-1].value)
		if n > 1 {
			cliDesc = fmt.Sprintf("the last of %d --config options, %q", n, cli[n-1].value)
		}
	}
	v := env.Lookup("CONFIG_FILE_PATH")
	switch v.State {
	case litellm.EnvUnknown:
		if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "CONFIG_FILE_PATH" }) && len(cli) > 0 {
			// Only an envFrom source might define it: judge --config, say what could replace it.
			ch := cliChoice(cli, env)
			if ch.file != "" {
				ch.doubt = fmt.Sprintf("%s: if it defines CONFIG_FILE_PATH, LiteLLM's startup loads that file instead of %s", v.Why, cliDesc)
			}
			return ch
		}
		return configChoice{how: fmt.Sprintf("a file the auditor cannot determine: env CONFIG_FILE_PATH, which LiteLLM's startup prefers over --config, "+
			"comes from something the auditor cannot read (%s); candidates: the file CONFIG_FILE_PATH names, else %s", v.Why, cliDesc)}
	case litellm.EnvSet:
		ignored := ""
		if len(cli) > 0 {
			ignored = ", and " + cliDesc + " is ignored"
		}
		ext := strings.ToLower(path.Ext(v.Value))
		if v.Value == "" || (ext != ".yaml" && ext != ".yml") {
			return configChoice{how: fmt.Sprintf("no file: env CONFIG_FILE_PATH (%s) is %s, so LiteLLM's startup loads no config file "+
				"(it loads CONFIG_FILE_PATH only when it names a file ending .yaml or .yml)%s", v.Source, describePath(v.Value), ignored)}
		}
		from := "env CONFIG_FILE_PATH (" + v.Source + ")"
		if len(cli) > 0 {
			from += ", which LiteLLM's startup prefers over " + cliDesc
		}
		return configChoice{file: v.Value, from: from}
	}
	return cliChoice(cli, env)
}

// cliChoice is the file the last --config names.
func cliChoice(cli []cliConfig, env *containerEnv) configChoice {
	if len(cli) == 0 {
		return configChoice{}
	}
	last := cli[len(cli)-1]
	file, how := expandArg(last.value, env)
	if how != "" {
		return configChoice{how: how}
	}
	from := "--config"
	if len(cli) > 1 {
		from = fmt.Sprintf("the last of %d --config options (LiteLLM's CLI keeps the last)", len(cli))
	}
	if last.form == "-cPATH" && strings.HasPrefix(last.value, "=") {
		from += ", written -c=PATH, whose value keeps the \"=\""
	}
	return configChoice{file: file, from: from}
}

// describePath names a path from the environment for a message: empty, or quoted.
func describePath(p string) string {
	if p == "" {
		return "empty"
	}
	return fmt.Sprintf("%q, which does not end in .yaml or .yml", p)
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
