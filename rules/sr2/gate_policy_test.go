package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestGPUGatePolicyMissing(t *testing.T) {
	vap, binding := sr2VAP(), sr2Binding(sr2Deny, nil)
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
			res := sr2Eval(t, ruleFor(gatePolicyMissing), snapshottest.New(snapshottest.At(sr2Now), objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
}
