package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestGPUGatePolicyNotEnforcingVAP(t *testing.T) {
	const vap = "ValidatingAdmissionPolicy/require-kueue-queue-name"
	ignore := admissionv1.Ignore
	policy := func(mut ...func(*admissionv1.ValidatingAdmissionPolicy)) *admissionv1.ValidatingAdmissionPolicy {
		p := &admissionv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "require-kueue-queue-name"},
			Spec: admissionv1.ValidatingAdmissionPolicySpec{
				MatchConstraints: &admissionv1.MatchResources{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"llm-platform/kueue-managed": "true"}},
					ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
						Operations: []admissionv1.OperationType{admissionv1.Create},
						Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
					}}},
				},
				Validations: []admissionv1.Validation{{Expression: "!object.spec.containers.exists(c, has(c.resources.limits) && " +
					"c.resources.limits.exists(r, r.startsWith('nvidia.com/') || r == 'amd.com/gpu')) || 'kueue.x-k8s.io/queue-name' in object.metadata.labels"}},
			},
		}
		for _, m := range mut {
			m(p)
		}
		return p
	}
	binding := func(actions []admissionv1.ValidationAction, mr *admissionv1.MatchResources) *admissionv1.ValidatingAdmissionPolicyBinding {
		return &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "require-kueue-queue-name"},
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "require-kueue-queue-name", ValidationActions: actions, MatchResources: mr}}
	}
	deny := []admissionv1.ValidationAction{admissionv1.Deny}
	tests := map[string]struct {
		objs     []any
		want     []string
		contains []string
	}{
		"enforcing": {objs: []any{policy(), binding(deny, nil)}},
		"binding audits only": {
			objs:     []any{policy(), binding([]admissionv1.ValidationAction{admissionv1.Audit, admissionv1.Warn}, nil)},
			want:     []string{vap + "#binding-actions critical"},
			contains: []string{"require-kueue-queue-name [Audit Warn]"},
		},
		"binding narrows to one namespace": {
			objs: []any{policy(), binding(deny, &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: "team-research"}}})},
			want:     []string{vap + "#match critical"},
			contains: []string{"team-search (ValidatingAdmissionPolicyBinding require-kueue-queue-name spec.matchResources.namespaceSelector"},
		},
		"excludeResourceRules by name": {
			objs: []any{policy(func(p *admissionv1.ValidatingAdmissionPolicy) {
				p.Spec.MatchConstraints.ExcludeResourceRules = []admissionv1.NamedRuleWithOperations{{ResourceNames: []string{"debug"}, RuleWithOperations: p.Spec.MatchConstraints.ResourceRules[0].RuleWithOperations}}
			}), binding(deny, nil)},
			want:     []string{vap + "#match critical"},
			contains: []string{"excludes pods named [debug], which any tenant can choose"},
		},
		"failurePolicy Ignore": {
			objs: []any{policy(func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.FailurePolicy = &ignore }), binding(deny, nil)},
			want: []string{vap + "#failure-policy high"},
		},
		"expression names only nvidia.com/gpu": {
			objs: []any{policy(func(p *admissionv1.ValidatingAdmissionPolicy) {
				p.Spec.Validations[0].Expression = "!object.spec.containers.exists(c, 'nvidia.com/gpu' in c.resources.limits) || 'kueue.x-k8s.io/queue-name' in object.metadata.labels"
			}), binding(deny, nil)},
			want:     []string{vap + "#gpu-resources critical"},
			contains: []string{"never names nvidia.com/mig-*, amd.com/gpu"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, GPUGatePolicyNotEnforcing, snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings), "%s", sr2Messages(res.Findings))
			for _, c := range tc.contains {
				assert.Contains(t, sr2Messages(res.Findings), c)
			}
			assert.Empty(t, res.Inconclusive, "a VAP gate needs no Kyverno runtime")
		})
	}
}
