package sr1

import (
	"testing"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/internal/ruletest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestScopeAbsent(t *testing.T) {
	claimAll, claimNone := ruletest.Claims(true), ruletest.Claims(false)
	ruletest.RunScope(t, ruleFor(protectedNamespaceAbsent), map[string]ruletest.ScopeCase{
		"SR1 live, claimed, a protected namespace exists": {
			Cfg: claimAll, Objs: []any{sr1NS("serving")},
		},
		"SR1 live, claimed, none exists: a finding, never vacuously enforced": {
			Cfg: claimAll, Objs: []any{sr1NS("team-a")},
			Finding: "SR1 is claimed (config controls) but the cluster has no protected namespace (inference, serving): nothing it covers exists, so nothing is enforced",
		},
		"SR1 live, claimed, namespaces not synced: the engine reports the input": {
			Cfg: claimAll, Objs: []any{sr1Forbidden(auditor.ResourceNamespaces)},
		},
		"SR1 live, not claimed, none exists: not-applicable": {
			Cfg: claimNone, Objs: []any{sr1NS("team-a")},
			NotApplicable: "SR1 is not claimed (config controls) and the cluster has no protected namespace (inference, serving)",
		},
		"SR1 live, not claimed, but in scope: judged as usual": {
			Cfg: claimNone, Objs: []any{sr1NS("inference")},
		},
		"SR1 offline, claimed, nothing among the inputs: unknown": {
			Cfg: claimAll, Objs: []any{snapshottest.Offline(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "x"}}},
			Inconclusive: "SR1 is claimed (config controls) but the inputs hold no protected namespace (inference, serving): a scan cannot know the cluster's other objects",
		},
		"SR1 offline, a protected namespace's policies without its Namespace: in scope": {
			Cfg: claimAll, Objs: []any{snapshottest.Offline(), netPol("serving", "default-deny")},
		},
		"SR1 offline, not claimed, nothing among the inputs: not-applicable": {
			Cfg: claimNone, Objs: []any{snapshottest.Offline()},
			NotApplicable: "SR1 is not claimed (config controls) and the inputs hold no protected namespace (inference, serving)",
		},
	})
}
