package sr3

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// prodAbsent (litellm-prod-absent): SR3 is claimed but no LiteLLM proxy runs with a
// prod profile.
func prodAbsent(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "litellm-prod-absent", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "SR3 is claimed but no LiteLLM prod proxy exists",
		Pass:  "a LiteLLM prod proxy exists",
		Remediation: "Label the prod LiteLLM config, Deployment or namespace with the profile label (sr3.profileLabel) and a prod profile (sr3.prodProfiles), " +
			"or remove SR3 from `controls` in the configuration if the platform does not claim it.",
		Inputs: proxyInputs,
	}
	what := fmt.Sprintf("no LiteLLM proxy with profile %s", strings.Join(cfg.SR3.ProdProfiles, "/"))
	return family.Scope(cfg, meta, what,
		func(s *auditor.Snapshot) bool {
			return s.Offline() || s.Saw(auditor.ResourceConfigMaps) && s.Saw(auditor.ResourceDeployments)
		},
		func(v *view) []auditor.ObjectRef {
			out := make([]auditor.ObjectRef, 0, len(v.prod))
			for _, lp := range v.prod {
				if o := lp.Object(); o != nil {
					out = append(out, *o)
				}
			}
			return out
		})
}
