package sr1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestSelectorUnpinned(t *testing.T) {
	inTrusted := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{"litellm", "monitoring"}}}}
	inUntrusted := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{"litellm", "team-new"}}}}
	cases := map[string]struct {
		objs     []any
		want     []string
		contains []string
	}{
		"label matching only a trusted namespace today": {
			objs:     []any{sr1Platform(), netPol("serving", "prod", ingressRule(fromNamespaces(pinnedNS("inference")), fromNamespaces(sr1Sel("llm-platform/profile", "prod"))))},
			want:     []string{"netpol-selector-unpinned|NetworkPolicy|serving|prod|ingress[0].from[1] medium"},
			contains: []string{"from[1].namespaceSelector {llm-platform/profile=prod} does not pin kubernetes.io/metadata.name: it matches only litellm today"},
		},
		"label matching nothing today": {
			objs:     []any{sr1Platform(), netPol("inference", "nothing", ingressRule(fromNamespaces(sr1Sel("team", "gateway"))))},
			want:     []string{"netpol-selector-unpinned|NetworkPolicy|inference|nothing|ingress[0].from[0] medium"},
			contains: []string{"it matches no namespace today"},
		},
		"offline without Namespace objects: left to the allow-list rule at full severity": {
			objs: []any{snapshottest.Offline(), netPol("inference", "nothing", ingressRule(fromNamespaces(sr1Sel("team", "gateway"))))},
		},
		"offline with Namespace objects: judged against them": {
			objs:     []any{snapshottest.Offline(), sr1Platform(), netPol("inference", "nothing", ingressRule(fromNamespaces(sr1Sel("team", "gateway"))))},
			want:     []string{"netpol-selector-unpinned|NetworkPolicy|inference|nothing|ingress[0].from[0] medium"},
			contains: []string{"it matches no namespace today"},
		},
		"pinned by matchLabels": {
			objs: []any{sr1Platform(), netPol("serving", "ok", ingressRule(networkingv1.NetworkPolicyPeer{NamespaceSelector: pinnedNS("litellm"), PodSelector: sr1Sel("app", "litellm")}))},
		},
		"pinned by In to trusted names": {
			objs: []any{sr1Platform(), netPol("serving", "ok", ingressRule(fromNamespaces(inTrusted)))},
		},
		"pinned to a name outside the allow-list that does not exist yet": {
			objs:     []any{sr1Platform(), netPol("serving", "future", ingressRule(fromNamespaces(inUntrusted)))},
			want:     []string{"netpol-selector-unpinned|NetworkPolicy|serving|future|ingress[0].from[0] medium"},
			contains: []string{"pins kubernetes.io/metadata.name to team-new, outside the allow-list"},
		},
		"matching an untrusted namespace today is the allow-list rule's finding": {
			objs: []any{sr1Platform(), netPol("serving", "search", ingressRule(fromNamespaces(sr1Sel("llm-platform/team", "search"))))},
		},
		"empty selector and podSelector-only peers are not selectors to pin": {
			objs: []any{sr1Platform(), netPol("serving", "x", ingressRule(fromNamespaces(sr1Sel()), fromOwnPods(sr1Sel("a", "b"))))},
		},
		"egress-only policy ignored": {
			objs: []any{sr1Platform(), netPol("serving", "e", withTypes(egressT), ingressRule(fromNamespaces(sr1Sel("team", "x"))))},
		},
	}
	r := ruleFor(selectorUnpinned)(auditor.DefaultConfig())
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := r.Evaluate(snapshottest.New(snapshottest.At(sr1Now), tc.objs))
			assert.Equal(t, tc.want, sr1NilIfEmpty(sr1FindingKeys(res.Findings)))
			for i, c := range tc.contains {
				if assert.Greater(t, len(res.Findings), 0) {
					assert.Contains(t, res.Findings[0].Message, c, "contains[%d]", i)
				}
			}
		})
	}
}
