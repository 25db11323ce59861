package sr2

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
	tests := map[string]struct {
		objs     []any
		want     []string
		contains []string
	}{
		"enforcing": {objs: []any{sr2VAP(), sr2Binding(sr2Deny, nil)}},
		"binding audits only": {
			objs:     []any{sr2VAP(), sr2Binding([]admissionv1.ValidationAction{admissionv1.Audit, admissionv1.Warn}, nil)},
			want:     []string{vap + "#binding-actions critical"},
			contains: []string{"require-kueue-queue-name [Audit Warn]"},
		},
		"binding narrows to one namespace": {
			objs: []any{sr2VAP(), sr2Binding(sr2Deny, &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{corev1.LabelMetadataName: "team-research"}}})},
			want:     []string{vap + "#match critical"},
			contains: []string{"team-search (ValidatingAdmissionPolicyBinding require-kueue-queue-name spec.matchResources.namespaceSelector"},
		},
		"excludeResourceRules by name": {
			objs: []any{sr2VAP(func(p *admissionv1.ValidatingAdmissionPolicy) {
				p.Spec.MatchConstraints.ExcludeResourceRules = []admissionv1.NamedRuleWithOperations{{ResourceNames: []string{"debug"}, RuleWithOperations: p.Spec.MatchConstraints.ResourceRules[0].RuleWithOperations}}
			}), sr2Binding(sr2Deny, nil)},
			want:     []string{vap + "#match critical"},
			contains: []string{"excludes pods named [debug], which any tenant can choose"},
		},
		"failurePolicy Ignore": {
			objs: []any{sr2VAP(func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.FailurePolicy = &ignore }), sr2Binding(sr2Deny, nil)},
			want: []string{vap + "#failure-policy high"},
		},
		"expression names only nvidia.com/gpu": {
			objs: []any{sr2VAP(func(p *admissionv1.ValidatingAdmissionPolicy) {
				p.Spec.Validations[0].Expression = "!object.spec.containers.exists(c, 'nvidia.com/gpu' in c.resources.limits) || 'kueue.x-k8s.io/queue-name' in object.metadata.labels"
			}), sr2Binding(sr2Deny, nil), sr2Node("gpu-amd-1", "amd.com/gpu", 8)},
			want:     []string{vap + "#gpu-resources critical"},
			contains: []string{"that ask for nvidia.com/gpu.shared, nvidia.com/mig-*, amd.com/gpu"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Empty(t, res.Inconclusive, "a VAP gate needs no Kyverno runtime")
		})
	}
}

func TestRuleCoversPodCreate(t *testing.T) {
	rule := func(ops []admissionv1.OperationType, groups, versions, resources []string, scope *admissionv1.ScopeType) admissionv1.RuleWithOperations {
		return admissionv1.RuleWithOperations{Operations: ops, Rule: admissionv1.Rule{APIGroups: groups, APIVersions: versions, Resources: resources, Scope: scope}}
	}
	create := []admissionv1.OperationType{admissionv1.Create}
	core, v1, pods := []string{""}, []string{"v1"}, []string{"pods"}
	cluster, namespaced, all := admissionv1.ClusterScope, admissionv1.NamespacedScope, admissionv1.AllScopes
	cases := map[string]struct {
		r    admissionv1.RuleWithOperations
		want bool
	}{
		"pods create":        {rule(create, core, v1, pods, nil), true},
		"every operation":    {rule([]admissionv1.OperationType{admissionv1.OperationAll}, core, v1, pods, nil), true},
		"update only":        {rule([]admissionv1.OperationType{admissionv1.Update}, core, v1, pods, nil), false},
		"no operation":       {rule(nil, core, v1, pods, nil), false},
		"any group":          {rule(create, []string{"*"}, v1, pods, nil), true},
		"apps group":         {rule(create, []string{"apps"}, v1, pods, nil), false},
		"any version":        {rule(create, core, []string{"*"}, pods, nil), true},
		"v2":                 {rule(create, core, []string{"v2"}, pods, nil), false},
		"every resource":     {rule(create, core, v1, []string{"*"}, nil), true},
		"every subresource":  {rule(create, core, v1, []string{"*/*"}, nil), true},
		"a subresource only": {rule(create, core, v1, []string{"pods/ephemeralcontainers"}, nil), false},
		"namespaced scope":   {rule(create, core, v1, pods, &namespaced), true},
		"all scopes":         {rule(create, core, v1, pods, &all), true},
		"cluster scope only": {rule(create, core, v1, pods, &cluster), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, ruleCoversPodCreate(tc.r)) })
	}
}

func TestMatchResourcesCover(t *testing.T) {
	podRule := admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
		Operations: []admissionv1.OperationType{admissionv1.Create},
		Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
	}}
	named := podRule
	named.ResourceNames = []string{"trainer"}
	deployRule := admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
		Operations: []admissionv1.OperationType{admissionv1.Create},
		Rule:       admissionv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
	}}
	ns := sr2Managed("team-search")
	cases := map[string]struct {
		mr        *admissionv1.MatchResources
		needRules bool
		why       string // "" covers
	}{
		"unset, rules needed":       {needRules: true, why: "m is not set"},
		"unset, from the binding":   {},
		"every pod":                 {mr: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{podRule}}, needRules: true},
		"empty rules needed":        {mr: &admissionv1.MatchResources{}, needRules: true, why: "m.resourceRules is empty"},
		"empty rules, from binding": {mr: &admissionv1.MatchResources{}},
		"namespaceSelector misses":  {mr: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}, why: "m.namespaceSelector (x=y) does not select it"},
		"objectSelector narrows":    {mr: &admissionv1.MatchResources{ObjectSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"x": "y"}}}, why: "m.objectSelector (x=y) covers only pods carrying those labels"},
		"empty objectSelector":      {mr: &admissionv1.MatchResources{ObjectSelector: &metav1.LabelSelector{}}},
		"rules without pods":        {mr: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{deployRule}}, why: "m.resourceRules do not select the CREATE of every pod"},
		"pods by name only":         {mr: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{named}}, why: "m.resourceRules do not select the CREATE of every pod"},
		"exclude pods by name":      {mr: &admissionv1.MatchResources{ExcludeResourceRules: []admissionv1.NamedRuleWithOperations{deployRule, named}}, why: "m.excludeResourceRules[1] excludes pods named [trainer], which any tenant can choose"},
		"exclude every pod":         {mr: &admissionv1.MatchResources{ExcludeResourceRules: []admissionv1.NamedRuleWithOperations{podRule}}, why: "m.excludeResourceRules[0] excludes pods"},
		"exclude other kinds":       {mr: &admissionv1.MatchResources{ExcludeResourceRules: []admissionv1.NamedRuleWithOperations{deployRule}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, why := matchResourcesCover(tc.mr, ns, "m", tc.needRules)
			assert.Equal(t, tc.why == "", ok)
			assert.Equal(t, tc.why, why)
		})
	}
}
