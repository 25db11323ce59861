package sr2

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// managedNamespaceAbsent (kueue-managed-namespace-absent): SR2 is claimed but no
// namespace is Kueue-managed.
func managedNamespaceAbsent(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "kueue-managed-namespace-absent", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "SR2 is claimed but no namespace is Kueue-managed",
		Pass:  "Kueue-managed namespaces exist",
		Remediation: "Label the namespaces whose GPU pods must go through Kueue so that sr2.kueueManagedNamespaceSelector selects them, " +
			"correct the selector, or remove SR2 from `controls` in the configuration if the platform does not claim it.",
		Inputs: []string{auditor.ResourceNamespaces},
	}
	what := fmt.Sprintf("no Kueue-managed namespace (selector %s, excluding %s)", cfg.KueueManagedSelector(), strings.Join(cfg.SR2.ExcludedNamespaces, ", "))
	return family.Scope(cfg, meta, what,
		func(s *auditor.Snapshot) bool { return s.Saw(auditor.ResourceNamespaces) || s.Offline() },
		func(v *view) []auditor.ObjectRef {
			out := make([]auditor.ObjectRef, 0, len(v.managed))
			for _, ns := range v.managed {
				out = append(out, *family.NamespaceRef(ns.Name))
			}
			return out
		})
}
