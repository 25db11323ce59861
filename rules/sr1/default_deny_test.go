package sr1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

const (
	ingressT = networkingv1.PolicyTypeIngress
	egressT  = networkingv1.PolicyTypeEgress
)

// sr1DefaultDenies isolates both protected namespaces, so tests of other rules start clean.
func sr1DefaultDenies() []any {
	return []any{netPol("serving", "default-deny", withTypes(ingressT)), netPol("inference", "default-deny", withTypes(ingressT))}
}

func TestDefaultDenyMissing(t *testing.T) {
	cases := map[string]struct {
		objs         []any
		want         []string
		contains     []string
		inconclusive bool
	}{
		"canonical default deny in both namespaces": {
			objs: append([]any{sr1Platform()}, sr1DefaultDenies()...),
		},
		"empty podSelector with policyTypes omitted isolates": {
			objs: []any{sr1Platform(), netPol("serving", "x"), netPol("inference", "y")},
		},
		"one allow-list policy selecting all pods isolates as well": {
			objs: []any{sr1Platform(),
				netPol("serving", "allow-litellm", ingressRule(fromNamespaces(pinnedNS("litellm")))),
				netPol("inference", "allow-gw", withTypes(ingressT, egressT), ingressRule(fromNamespaces(pinnedNS("agentgateway-system"))))},
		},
		"egress-only deny-all does not isolate ingress": {
			objs: []any{sr1Platform(), netPol("serving", "deny-all", withTypes(egressT)), netPol("inference", "default-deny")},
			want: []string{"netpol-default-deny-missing|Namespace||serving high"},
			contains: []string{"protected namespace serving is not isolated for ingress",
				"deny-all (podSelector {}, policyTypes [Egress])"},
		},
		"a policy named default-deny with a podSelector covers only some pods": {
			objs: []any{sr1Platform(), netPol("serving", "default-deny", withPodSel("app", "vllm")), netPol("inference", "d"),
				sr1Pod("serving", "vllm-0", "app", "vllm"), sr1Pod("serving", "debug-shell", "app", "debug")},
			want:     []string{"netpol-default-deny-missing|Namespace||serving high"},
			contains: []string{"default-deny (podSelector {app=vllm}, policyTypes [Ingress])", "pods not isolated now: debug-shell"},
		},
		"a default deny in another namespace does not count": {
			objs:     []any{sr1Platform(), netPol("litellm", "default-deny"), netPol("inference", "d")},
			want:     []string{"netpol-default-deny-missing|Namespace||serving high"},
			contains: []string{"the namespace has no NetworkPolicy at all"},
		},
		"missing protected namespace is reported as info": {
			objs:     []any{sr1NS("inference"), netPol("inference", "d")},
			want:     []string{"netpol-default-deny-missing|Namespace||serving info"},
			contains: []string{"protected namespace serving does not exist"},
		},
		"namespace object absent but its policies scanned: judged on the policies": {
			objs: []any{sr1NS("inference"), netPol("inference", "d"), netPol("serving", "only-vllm", withPodSel("app", "vllm"))},
			want: []string{"netpol-default-deny-missing|Namespace||serving high"},
		},
		"offline, no Namespace among the inputs: absence is not reported": {
			objs: []any{snapshottest.Offline(), netPol("inference", "d")},
		},
		"offline, a Namespace among the inputs: a missing protected one is reported": {
			objs:     []any{snapshottest.Offline(), sr1NS("inference"), netPol("inference", "d")},
			want:     []string{"netpol-default-deny-missing|Namespace||serving info"},
			contains: []string{"protected namespace serving does not exist"},
		},
		"namespaces forbidden: absence is not reported": {
			objs: []any{sr1Forbidden(auditor.ResourceNamespaces), netPol("inference", "d")},
		},
		"networkpolicies forbidden: inconclusive, no finding": {
			objs:         []any{sr1Platform(), sr1Forbidden(auditor.ResourceNetworkPolicies)},
			inconclusive: true,
		},
		"a baseline admin policy is named but not counted": {
			objs: []any{sr1Platform(), netPol("inference", "d"), &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
				"metadata": map[string]any{"name": "default"},
				"spec": map[string]any{
					"subject": map[string]any{"namespaces": map[string]any{}},
					"ingress": []any{map[string]any{"action": "Deny", "from": []any{map[string]any{"namespaces": map[string]any{}}}}},
				},
			}}},
			want:     []string{"netpol-default-deny-missing|Namespace||serving high"},
			contains: []string{"BaselineAdminNetworkPolicy default (Baseline tier)", "not counted as isolation"},
		},
	}
	r := ruleFor(defaultDenyMissing)(auditor.DefaultConfig())
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := r.Evaluate(snapshottest.New(snapshottest.At(sr1Now), tc.objs))
			assert.Equal(t, tc.want, sr1NilIfEmpty(sr1FindingKeys(res.Findings)))
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
			for _, c := range tc.contains {
				require.NotEmpty(t, res.Findings)
				assert.Contains(t, res.Findings[0].Message, c)
			}
		})
	}
}

func sr1NilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
