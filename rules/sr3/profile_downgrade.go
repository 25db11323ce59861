package sr3

import (
	"fmt"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// budgetProfileDowngrade: a LiteLLM proxy in a prod namespace (or run by a prod
// Deployment) whose own object carries a non-prod profile is read with that profile,
// so no prod rule judges it. Running dev or cost inside prod is a decision that needs a
// waiver with a reason; an unwaived downgrade is a finding.
func budgetProfileDowngrade(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "budget-profile-downgrade", Control: auditor.SR3, Severity: auditor.SeverityMedium,
		Title: "LiteLLM proxy's own profile label downgrades a prod namespace or Deployment",
		Pass:  "no LiteLLM proxy's own profile label downgrades a prod namespace or Deployment",
		Remediation: "Remove the non-prod profile label (sr3.profileLabel) from the LiteLLM ConfigMap or Deployment so the prod profile of its namespace applies, " +
			"or move the proxy to a namespace with that profile; if it must run with a lower profile inside prod, waive this finding on that object with a reason.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		res := v.result()
		seen := map[string]bool{}
		for _, lp := range v.proxies {
			d := lp.Downgrade
			if d == nil {
				continue
			}
			key := fmt.Sprintf("%s/%s/%s|%s", d.By.Ref.Kind, d.By.Ref.Namespace, d.By.Ref.Name, lp.Discriminator(lp.Shared))
			if seen[key] {
				continue
			}
			seen[key] = true
			msg := fmt.Sprintf("%s overrides the prod profile of %s: %s is read with profile %s, so no prod rule judges it (the most specific label wins)",
				d.By.describe(cfg.SR3.ProfileLabel), d.Over.describe(cfg.SR3.ProfileLabel), lp.describe(), d.By.Value)
			if lp.Conf != nil {
				r := lp.Conf.Setting(lp.Env, "general_settings", "allow_requests_on_db_unavailable")
				if on, known := r.Lenient(); known && on {
					msg += fmt.Sprintf("; its general_settings.allow_requests_on_db_unavailable is %s, which prod forbids", failOpenForm(r))
				}
			}
			ref := d.By.Ref
			f := meta.NewFinding(&ref, msg)
			f.Discriminator = lp.Discriminator(lp.Shared)
			res.Findings = append(res.Findings, f)
		}
		return res
	}}
}
