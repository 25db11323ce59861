package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestScopeAbsent(t *testing.T) {
	claimAll := auditor.DefaultConfig()
	claimNone := auditor.DefaultConfig()
	claimNone.Controls = nil
	prodLiteLLM := []any{sr3Namespaces(), sr3Deploy("litellm", "litellm"), sr3CM("litellm", "litellm-config", map[string]string{"config.yaml": sr3Config("")})}
	devLiteLLM := []any{sr3Namespaces(), sr3Deploy("litellm-dev", "litellm"), sr3CM("litellm-dev", "litellm-config", map[string]string{"config.yaml": sr3Config("")})}
	cases := map[string]struct {
		rule          func(auditor.Config) auditor.Rule
		cfg           auditor.Config
		objs          []any
		finding       string // the message, when a finding is expected
		inconclusive  string
		notApplicable string
	}{
		"SR1 live, claimed, a protected namespace exists": {
			rule: ProtectedNamespaceAbsent, cfg: claimAll, objs: []any{sr1NS("serving")},
		},
		"SR1 live, claimed, none exists: a finding, never vacuously enforced": {
			rule: ProtectedNamespaceAbsent, cfg: claimAll, objs: []any{sr1NS("team-a")},
			finding: "SR1 is claimed (config controls) but the cluster has no protected namespace (inference, serving): nothing it covers exists, so nothing is enforced",
		},
		"SR1 live, claimed, namespaces not synced: the engine reports the input": {
			rule: ProtectedNamespaceAbsent, cfg: claimAll, objs: []any{sr1Forbidden(auditor.ResourceNamespaces)},
		},
		"SR1 live, not claimed, none exists: not-applicable": {
			rule: ProtectedNamespaceAbsent, cfg: claimNone, objs: []any{sr1NS("team-a")},
			notApplicable: "SR1 is not claimed (config controls) and the cluster has no protected namespace (inference, serving)",
		},
		"SR1 live, not claimed, but in scope: judged as usual": {
			rule: ProtectedNamespaceAbsent, cfg: claimNone, objs: []any{sr1NS("inference")},
		},
		"SR1 offline, claimed, nothing among the inputs: unknown": {
			rule: ProtectedNamespaceAbsent, cfg: claimAll, objs: []any{snapshottest.Offline(), sr3CM("web", "x", nil)},
			inconclusive: "SR1 is claimed (config controls) but the inputs hold no protected namespace (inference, serving): a scan cannot know the cluster's other objects",
		},
		"SR1 offline, a protected namespace's policies without its Namespace: in scope": {
			rule: ProtectedNamespaceAbsent, cfg: claimAll, objs: []any{snapshottest.Offline(), netPol("serving", "default-deny")},
		},
		"SR1 offline, not claimed, nothing among the inputs: not-applicable": {
			rule: ProtectedNamespaceAbsent, cfg: claimNone, objs: []any{snapshottest.Offline()},
			notApplicable: "SR1 is not claimed (config controls) and the inputs hold no protected namespace (inference, serving)",
		},
		"SR2 live, claimed, a managed namespace": {
			rule: KueueManagedNamespaceAbsent, cfg: claimAll, objs: []any{sr2Managed("team-a")},
		},
		"SR2 live, claimed, only an excluded namespace carries the label": {
			rule: KueueManagedNamespaceAbsent, cfg: claimAll, objs: []any{sr2NS("serving", map[string]string{"llm-platform/kueue-managed": "true"})},
			finding: "SR2 is claimed (config controls) but the cluster has no Kueue-managed namespace (selector llm-platform/kueue-managed=true, excluding serving): nothing it covers exists, so nothing is enforced",
		},
		"SR2 live, not claimed, none: not-applicable": {
			rule: KueueManagedNamespaceAbsent, cfg: claimNone, objs: []any{sr2NS("team-a", nil)},
			notApplicable: "SR2 is not claimed (config controls) and the cluster has no Kueue-managed namespace",
		},
		"SR2 offline, claimed, no managed namespace among the inputs: unknown": {
			rule: KueueManagedNamespaceAbsent, cfg: claimAll, objs: []any{snapshottest.Offline(), sr2NS("team-a", nil)},
			inconclusive: "SR2 is claimed (config controls) but the inputs hold no Kueue-managed namespace",
		},
		"SR3 live, claimed, a prod proxy": {
			rule: LiteLLMProdAbsent, cfg: claimAll, objs: prodLiteLLM,
		},
		"SR3 live, claimed, only a dev proxy: a finding": {
			rule: LiteLLMProdAbsent, cfg: claimAll, objs: devLiteLLM,
			finding: "SR3 is claimed (config controls) but the cluster has no LiteLLM proxy with profile prod: nothing it covers exists, so nothing is enforced",
		},
		"SR3 live, claimed, deployments forbidden: the engine reports the input": {
			rule: LiteLLMProdAbsent, cfg: claimAll, objs: []any{sr2Unavailable(auditor.ResourceDeployments, auditor.Forbidden)},
		},
		"SR3 live, not claimed, no LiteLLM: not-applicable": {
			rule: LiteLLMProdAbsent, cfg: claimNone, objs: []any{sr3Namespaces()},
			notApplicable: "SR3 is not claimed (config controls) and the cluster has no LiteLLM proxy with profile prod",
		},
		"SR3 offline, claimed, no LiteLLM among the inputs: unknown": {
			rule: LiteLLMProdAbsent, cfg: claimAll, objs: []any{snapshottest.Offline(), sr3Namespaces()},
			inconclusive: "SR3 is claimed (config controls) but the inputs hold no LiteLLM proxy with profile prod",
		},
		"SR3 offline, claimed, a prod proxy among the inputs": {
			rule: LiteLLMProdAbsent, cfg: claimAll, objs: []any{snapshottest.Offline(), prodLiteLLM},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := tc.rule(tc.cfg)
			res := r.Evaluate(snapshottest.New(tc.objs...))
			if tc.finding == "" {
				assert.Empty(t, res.Findings)
			} else if assert.Len(t, res.Findings, 1) {
				f := res.Findings[0]
				assert.Equal(t, tc.finding, f.Message)
				assert.Equal(t, auditor.SeverityHigh, f.Severity)
				assert.Equal(t, r.Meta().Control, f.Control)
				assert.Nil(t, f.Object, "a cluster-wide finding")
			}
			if tc.inconclusive == "" {
				assert.Empty(t, res.Inconclusive)
			} else if assert.Len(t, res.Inconclusive, 1) {
				assert.Contains(t, res.Inconclusive[0], tc.inconclusive)
			}
			if tc.notApplicable == "" {
				assert.Empty(t, res.NotApplicable)
			} else {
				assert.Contains(t, res.NotApplicable, tc.notApplicable)
			}
		})
	}
}
