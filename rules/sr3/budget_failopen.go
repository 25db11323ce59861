package sr3

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// budgetFailOpenInProd: a prod LiteLLM config whose effective
// general_settings.allow_requests_on_db_unavailable is true lets requests through,
// with a synthetic identity and no budget check, whenever the database is unreachable.
func budgetFailOpenInProd(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical,
		Title: "LiteLLM prod proxy serves requests without budget checks when its database is down",
		Pass:  "every LiteLLM prod proxy refuses requests when its budget database is down",
		Remediation: "Set general_settings.allow_requests_on_db_unavailable: false in the prod LiteLLM config (or remove it: the default is false), " +
			"make sure no os.environ/ variable behind it resolves to \"true\", and roll the Deployment so the proxy reloads its config.",
		Inputs: proxyInputs,
		Needs:  []string{auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		for _, lp := range v.prod {
			if lp.Conf == nil {
				continue
			}
			r := lp.Conf.Setting(lp.Env, "general_settings", "allow_requests_on_db_unavailable")
			if on, known := r.Lenient(); known && on {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) sets general_settings.allow_requests_on_db_unavailable to %s: LiteLLM then lets requests through "+
						"without key or budget checks whenever its database is unreachable (fail-open budgets)",
					lp.describe(), lp.Profile, failOpenForm(r))))
			}
			if r := lp.Conf.Setting(lp.Env, "general_settings", "store_model_in_db"); r.Kind != litellm.Absent {
				if on, known := r.IsTrue(); on || !known {
					res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
						"%s sets general_settings.store_model_in_db: the proxy merges general_settings stored in its database over the file, which the auditor cannot read", lp.describe()))
				}
			}
			if v, ok := lp.Conf.Lookup("include"); ok && v.Truthy() {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
					"%s includes other files (include%s), which may override general_settings; only the main file was read", lp.describe(), at(v)))
			}
		}
		if len(v.prod) == 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
				"no LiteLLM config with profile %s was found (%d LiteLLM configs found): fail-closed budgets cannot be shown",
				strings.Join(cfg.SR3.ProdProfiles, "/"), len(v.proxies)))
		}
		return res
	}}
}

// failOpenForm says which form made the flag true, never another config value.
func failOpenForm(r litellm.Resolved) string {
	if r.Env != "" {
		return fmt.Sprintf("os.environ/%s%s, and %s sets %s to %q", r.Env, at(r.Value), r.EnvValue.Source, r.Env, strings.TrimSpace(r.EnvValue.Value))
	}
	how := "a string str_to_bool reads as true"
	if r.Value.Kind == litellm.KindBool {
		how = "which PyYAML (YAML 1.1) loads as the boolean true"
	}
	return fmt.Sprintf("%s%s, %s", r.Value.Describe(), at(r.Value), how)
}

// budgetFailOpenUnverifiable: the fail-open flag of a prod proxy depends on something
// the auditor must not or cannot read (a Secret, a missing ConfigMap, a bucket).
func budgetFailOpenUnverifiable(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-fail-open-unverifiable", Control: auditor.SR3, Severity: auditor.SeverityMedium,
		Title: "LiteLLM prod proxy's fail-open setting cannot be verified",
		Pass:  "every LiteLLM prod proxy's fail-open setting could be verified",
		Remediation: "Write general_settings.allow_requests_on_db_unavailable: false as a literal in the prod LiteLLM ConfigMap (it is not a secret), " +
			"or take its os.environ/ variable from a ConfigMap; keep the config file itself in a ConfigMap mounted at the --config path, not in a Secret, bucket or image.",
		Inputs: proxyInputs,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		for _, lp := range v.prod {
			if lp.Unreadable != "" {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"prod LiteLLM Deployment %s/%s (profile %s) reads its config from %s: the auditor cannot tell whether allow_requests_on_db_unavailable is false",
					lp.Deploy.Namespace, lp.Deploy.Name, lp.Profile, lp.Unreadable)))
				continue
			}
			if lp.Conf == nil {
				continue
			}
			r := lp.Conf.Setting(lp.Env, "general_settings", "allow_requests_on_db_unavailable")
			if _, known := r.Lenient(); !known {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) sets general_settings.allow_requests_on_db_unavailable to os.environ/%s%s, and %s: the auditor cannot tell whether budgets fail open",
					lp.describe(), lp.Profile, r.Env, at(r.Value), r.EnvValue.Why)))
			}
		}
		return res
	}}
}
