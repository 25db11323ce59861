package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestGPUGatePolicyMissing(t *testing.T) {
	vap := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "require-kueue-queue-name"}}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "require-kueue-queue-name", ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
	tests := map[string]struct {
		objs         []any
		noPlatform   bool
		want         []string
		contains     []string
		inconclusive bool
	}{
		"no gate": {
			want:     []string{"(cluster) critical"},
			contains: []string{"no admission gate named require-kueue-queue-name", "namespaces team-research, team-search exist"},
		},
		"ClusterPolicy gate":                       {objs: []any{sr2Policy(t)}},
		"ValidatingPolicy gate":                    {objs: []any{sr2Obj(t, "apiVersion: policies.kyverno.io/v1beta1\nkind: ValidatingPolicy\nmetadata: {name: require-kueue-queue-name}\n")}},
		"ValidatingAdmissionPolicy with a binding": {objs: []any{vap, binding}},
		"ValidatingAdmissionPolicy without a binding": {
			objs:     []any{vap},
			want:     []string{"(cluster) critical"},
			contains: []string{"ValidatingAdmissionPolicy require-kueue-queue-name exists but no ValidatingAdmissionPolicyBinding references it"},
		},
		"a policy of another name": {
			objs: []any{sr2Policy(t, sr2Set("require-labels", "metadata", "name"))},
			want: []string{"(cluster) critical"},
		},
		"no Kueue-managed namespace": {noPlatform: true, objs: []any{sr2NS("team-web", nil)}},
		"ClusterPolicies forbidden: inconclusive": {
			objs:         []any{sr2Unavailable(auditor.ResourceKyvernoClusterPolicies, auditor.Forbidden)},
			inconclusive: true,
		},
		"Kyverno not installed is no excuse": {
			objs: []any{sr2Unavailable(auditor.ResourceKyvernoClusterPolicies, auditor.NotServed)},
			want: []string{"(cluster) critical"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := tc.objs
			if !tc.noPlatform {
				objs = append(sr2Platform(), objs...)
			}
			res := sr2Eval(t, GPUGatePolicyMissing, snapshottest.New(snapshottest.At(sr2Now), objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
}
