package sr3

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// configUnparseable: a config the proxy cannot load (invalid YAML, not a mapping,
// a missing key) is never skipped: the auditor says where it breaks.
func configUnparseable(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "litellm-config-unparseable", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM config cannot be loaded",
		Pass:  "every LiteLLM config loads",
		Remediation: "Fix the config at the line and column given (check it with `python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' config.yaml`, " +
			"the loader LiteLLM uses), make sure the key the Deployment's --config path selects exists in the ConfigMap, and roll the Deployment.",
		Inputs: proxyInputs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		seen := map[string]bool{}
		for _, lp := range v.proxies {
			if lp.CM == nil {
				continue
			}
			k := nsKeyOf(lp.CM.Namespace, lp.CM.Name) + "/" + lp.Key
			if seen[k] {
				continue
			}
			seen[k] = true
			profile := lp.Profile
			if profile == "" {
				profile = "none"
			}
			var msg string
			switch {
			case lp.MissingKey && lp.Strict:
				msg = fmt.Sprintf("ConfigMap %s/%s has no key %s, which is %s (keys present: %s): the proxy cannot load its config",
					lp.CM.Namespace, lp.CM.Name, lp.Key, lp.Via, keyList(lp))
			case lp.MissingKey:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("ConfigMap %s/%s looks like a LiteLLM config (%s) but has no key %s (keys present: %s): not audited",
					lp.CM.Namespace, lp.CM.Name, lp.Via, lp.Key, keyList(lp)))
				continue
			case lp.Err != nil:
				msg = fmt.Sprintf("%s (profile %s) cannot be loaded as LiteLLM loads it (PyYAML safe_load): %s", lp.Where(), profile, lp.Err.Error())
			default:
				continue
			}
			f := meta.NewFinding(lp.Object(), msg)
			if lp.Key != cfg.SR3.ConfigKey {
				f.Discriminator = lp.Key
			}
			res.Findings = append(res.Findings, f)
		}
		return res
	}}
}

func keyList(lp *loadedProxy) string {
	var keys []string
	for k := range lp.CM.Data {
		keys = append(keys, k)
	}
	for k := range lp.CM.BinaryData {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return "none"
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
