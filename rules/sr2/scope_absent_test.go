package sr2

import (
	"testing"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/internal/ruletest"
)

func TestScopeAbsent(t *testing.T) {
	claimAll, claimNone := ruletest.Claims(true), ruletest.Claims(false)
	ruletest.RunScope(t, ruleFor(managedNamespaceAbsent), map[string]ruletest.ScopeCase{
		"SR2 live, claimed, a managed namespace": {
			Cfg: claimAll, Objs: []any{sr2Managed("team-a")},
		},
		"SR2 live, claimed, only an excluded namespace carries the label": {
			Cfg: claimAll, Objs: []any{sr2NS("serving", map[string]string{"llm-platform/kueue-managed": "true"})},
			Finding: "SR2 is claimed (config controls) but the cluster has no Kueue-managed namespace (selector llm-platform/kueue-managed=true, excluding serving): nothing it covers exists, so nothing is enforced",
		},
		"SR2 live, not claimed, none: not-applicable": {
			Cfg: claimNone, Objs: []any{sr2NS("team-a", nil)},
			NotApplicable: "SR2 is not claimed (config controls) and the cluster has no Kueue-managed namespace",
		},
		"SR2 offline, claimed, no managed namespace among the inputs: unknown": {
			Cfg: claimAll, Objs: []any{snapshottest.Offline(), sr2NS("team-a", nil)},
			Inconclusive: "SR2 is claimed (config controls) but the inputs hold no Kueue-managed namespace",
		},
	})
}
