package sr3

import (
	"testing"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/internal/ruletest"
)

func TestScopeAbsent(t *testing.T) {
	claimAll, claimNone := ruletest.Claims(true), ruletest.Claims(false)
	prodLiteLLM := []any{sr3Namespaces(), sr3Deploy("litellm", "litellm"), sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("")})}
	devLiteLLM := []any{sr3Namespaces(), sr3Deploy("litellm-dev", "litellm"), sr3CM("litellm-dev", "litellm-config", map[string]string{"config.yaml": sr3Config("")})}
	ruletest.RunScope(t, ruleFor(prodAbsent), map[string]ruletest.ScopeCase{
		"SR3 live, claimed, a prod proxy": {
			Cfg: claimAll, Objs: prodLiteLLM,
		},
		"SR3 live, claimed, only a dev proxy: a finding": {
			Cfg: claimAll, Objs: devLiteLLM,
			Finding: "SR3 is claimed (config controls) but the cluster has no LiteLLM proxy with profile prod: nothing it covers exists, so nothing is enforced",
		},
		"SR3 live, claimed, deployments forbidden: the engine reports the input": {
			Cfg: claimAll, Objs: []any{map[string]auditor.Availability{auditor.ResourceDeployments: {State: auditor.Forbidden, Message: "test"}}},
		},
		"SR3 live, not claimed, no LiteLLM: not-applicable": {
			Cfg: claimNone, Objs: []any{sr3Namespaces()},
			NotApplicable: "SR3 is not claimed (config controls) and the cluster has no LiteLLM proxy with profile prod",
		},
		"SR3 offline, claimed, no LiteLLM among the inputs: unknown": {
			Cfg: claimAll, Objs: []any{snapshottest.Offline(), sr3Namespaces()},
			Inconclusive: "SR3 is claimed (config controls) but the inputs hold no LiteLLM proxy with profile prod",
		},
		"SR3 offline, claimed, a prod proxy among the inputs": {
			Cfg: claimAll, Objs: []any{snapshottest.Offline(), prodLiteLLM},
		},
	})
}
