package sr1

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// protectedNamespaceAbsent (protected-namespace-absent): SR1 is claimed but no
// protected namespace exists.
func protectedNamespaceAbsent(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "protected-namespace-absent", Control: auditor.SR1, Severity: auditor.SeverityHigh,
		Title: "SR1 is claimed but no protected namespace exists",
		Pass:  "the protected namespaces exist",
		Remediation: "Deploy the model servers and the inference gateway into the protected namespaces (sr1.protectedNamespaces), " +
			"correct that list if they live elsewhere, or remove SR1 from `controls` in the configuration if the platform does not claim it.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies},
	}
	what := fmt.Sprintf("no protected namespace (%s)", strings.Join(cfg.Protected(), ", "))
	return family.Scope(cfg, meta, what,
		func(s *auditor.Snapshot) bool { return s.Saw(auditor.ResourceNamespaces) || s.Offline() },
		func(v *view) []auditor.ObjectRef {
			var out []auditor.ObjectRef
			for _, ns := range v.protected {
				if v.exists(ns) {
					out = append(out, *family.NamespaceRef(ns))
				}
			}
			return out
		})
}
