package sr2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

const sr2Exception = `
apiVersion: kyverno.io/v2
kind: PolicyException
metadata: {name: ml-team-debug, namespace: kyverno}
spec:
  exceptions:
  - policyName: require-kueue-queue-name
    ruleNames: [gpu-pods-need-a-queue]
  match:
    any:
    - resources:
        kinds: [Pod]
        namespaces: [team-search]
`

const sr2ValidatingPolicy = `
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: require-kueue-queue-name}
spec:
  validationActions: [Deny]
  matchConstraints:
    namespaceSelector: {matchLabels: {llm-platform/kueue-managed: "true"}}
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], resources: [pods], operations: [CREATE]}
  validations:
  - expression: >-
      !((object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])).exists(c, has(c.resources.limits) && c.resources.limits.exists(r, r.startsWith('nvidia.com/') || r == 'amd.com/gpu'))
      || (has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0))
      || (has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels)
`

const sr2CELException = `
apiVersion: policies.kyverno.io/v1
kind: PolicyException
metadata: {name: skip-queue, namespace: team-search}
spec:
  policyRefs:
  - {name: require-kueue-queue-name, kind: ValidatingPolicy}
`

func TestGPUGatePolicyException(t *testing.T) {
	const polex = "PolicyException/kyverno/ml-team-debug"
	exc := func(muts ...sr2Mut) *unstructured.Unstructured {
		u := sr2Obj(t, sr2Exception)
		for _, m := range muts {
			m(u)
		}
		return u
	}
	celExc := func(muts ...sr2Mut) *unstructured.Unstructured {
		u := sr2Obj(t, sr2CELException)
		for _, m := range muts {
			m(u)
		}
		return u
	}
	enabled := sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.15.2", "--enablePolicyException=true", "--exceptionNamespace=kyverno")
	tests := map[string]struct {
		objs         []any
		want         []string
		contains     []string
		inconclusive bool
	}{
		"enabled, in the exception namespace: a bypass": {
			objs: []any{sr2Policy(t), exc(), enabled},
			want: []string{polex + " critical"},
			contains: []string{"PolicyException kyverno/ml-team-debug exempts GPU pods in Kueue-managed namespaces team-search (rules gpu-pods-need-a-queue; spec.match.any[0]) from ClusterPolicy require-kueue-queue-name",
				"Deployment kyverno/kyverno-admission-controller sets --enablePolicyException=true and --exceptionNamespace=kyverno",
				"who may create more PolicyExceptions in kyverno: see gpu-gate-tamper"},
		},
		"v1.15 default: exceptions off": {objs: []any{sr2Policy(t), exc(), sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.15.2")}},
		// Up to v1.12 only the spec's action counts (the rule's failureAction is ignored).
		"v1.12 default: on, from every namespace": {
			objs: []any{sr2Policy(t, sr2Set("Enforce", "spec", "validationFailureAction")), exc(), sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.12.5")},
			want: []string{polex + " critical"}, contains: []string{"defaults to true in Kyverno v1.12.5"},
		},
		"exception outside the exception namespace is not read": {
			objs: []any{sr2Policy(t), exc(), sr2KyvernoDeployment("k/kyverno:v1.15.2", "--enablePolicyException=true", "--exceptionNamespace=policy-exceptions")},
		},
		"every namespace": {
			objs: []any{sr2Policy(t), exc(), sr2KyvernoDeployment("k/kyverno:v1.15.2", "--enablePolicyException=true", "--exceptionNamespace=*")},
			want: []string{polex + " critical"},
		},
		"admission controller not among the inputs: cannot judge": {objs: []any{sr2Policy(t), exc()}, inconclusive: true},
		"another rule of the gate":                                {objs: []any{sr2Policy(t), exc(sr2Set([]any{"gpu-jobs"}, "spec", "exceptions", "0", "ruleNames")), enabled}},
		"rule name wildcard": {
			objs: []any{sr2Policy(t), exc(sr2Set([]any{"*"}, "spec", "exceptions", "0", "ruleNames")), enabled},
			want: []string{polex + " critical"},
		},
		"another policy":                      {objs: []any{sr2Policy(t), exc(sr2Set("other", "spec", "exceptions", "0", "policyName")), enabled}},
		"matches Deployments only":            {objs: []any{sr2Policy(t), exc(sr2Set([]any{"Deployment"}, "spec", "match", "any", "0", "resources", "kinds")), enabled}},
		"matches an unmanaged namespace only": {objs: []any{sr2Policy(t), exc(sr2Set([]any{"team-web"}, "spec", "match", "any", "0", "resources", "namespaces")), enabled}},
		"matches every namespace by selector": {
			objs: []any{sr2Policy(t), exc(sr2Set(map[string]any{"kinds": []any{"Pod"}, "namespaceSelector": map[string]any{}}, "spec", "match", "any", "0", "resources")), enabled},
			want: []string{polex + " critical"}, contains: []string{"namespaces team-research (rules gpu-pods-need-a-queue; spec.match.any[0]), team-search"},
		},
		"pod names a tenant chooses": {
			objs: []any{sr2Policy(t), exc(sr2Set([]any{"debug-*"}, "spec", "match", "any", "0", "resources", "names")), enabled},
			want: []string{polex + " critical"}, contains: []string{"pods named [debug-*], which any tenant can choose"},
		},
		// spec.conditions evaluated on the battery: a label a tenant sets satisfies them.
		"conditions on a label a tenant sets: critical": {
			objs: []any{sr2Policy(t), exc(sr2Set(map[string]any{"any": []any{map[string]any{"key": "{{ request.object.metadata.labels.debug }}", "operator": "Equals", "value": "true"}}}, "spec", "conditions")), enabled},
			want: []string{polex + " critical"},
			contains: []string{"its spec.conditions hold for a pod with nvidia.com/gpu in requests and limits with label debug=true, annotation debug=true and no queue label",
				"`{{ request.object.metadata.labels.debug }}` (= `true`) Equals `true` is true"},
		},
		"conditions on the requester, which no tenant is": {
			objs: []any{sr2Policy(t), exc(sr2Set(map[string]any{"all": []any{map[string]any{"key": "{{ request.userInfo.username }}", "operator": "Equals", "value": "ops-admin"}}}, "spec", "conditions")), enabled},
		},
		"conditions inverted: hold for every pod": {
			objs: []any{sr2Policy(t), exc(sr2Set(map[string]any{"all": []any{map[string]any{"key": "{{ request.userInfo.username }}", "operator": "NotEquals", "value": "ops-admin"}}}, "spec", "conditions")), enabled},
			want: []string{polex + " critical"}, contains: []string{"NotEquals `ops-admin` is true"},
		},
		"conditions with a context variable: inconclusive": {
			objs:         []any{sr2Policy(t), exc(sr2Set(map[string]any{"all": []any{map[string]any{"key": "{{ cm.data.allowed }}", "operator": "Equals", "value": "true"}}}, "spec", "conditions")), enabled},
			inconclusive: true,
		},
		"the gate does not deny there anyway": {
			objs: []any{sr2Policy(t, sr2SetRule("Audit", "validate", "failureAction")), exc(), enabled},
		},
		"CEL exception without conditions, enabled": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(), enabled},
			want: []string{"PolicyException/team-search/skip-queue critical"},
			contains: []string{"PolicyException team-search/skip-queue exempts GPU pods in Kueue-managed namespaces team-research (a pod with nvidia.com/gpu in requests and limits and no queue label), team-search (",
				"Kyverno v1.15.2 reads CEL exceptions from every namespace (--exceptionNamespace=kyverno applies to them only from v1.17.2)"},
		},
		// FactCELExceptionNamespace: from v1.17.2 only --exceptionNamespace is read.
		"CEL exception outside the exception namespace, v1.17.2": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(), sr2KyvernoDeployment("k/kyverno:v1.17.2", "--enablePolicyException=true", "--exceptionNamespace=kyverno")},
		},
		"CEL exception outside the exception namespace, v1.18.0": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(), sr2KyvernoDeployment("k/kyverno:v1.18.0", "--enablePolicyException=true", "--exceptionNamespace=kyverno")},
		},
		"CEL exception outside the exception namespace, v1.17.1: read": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(), sr2KyvernoDeployment("k/kyverno:v1.17.1", "--enablePolicyException=true", "--exceptionNamespace=kyverno")},
			want: []string{"PolicyException/team-search/skip-queue critical"},
		},
		"CEL exception in the exception namespace, v1.18.0": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(sr2Set("kyverno", "metadata", "namespace")), sr2KyvernoDeployment("k/kyverno:v1.18.0", "--enablePolicyException=true", "--exceptionNamespace=kyverno")},
			want: []string{"PolicyException/kyverno/skip-queue critical"}, contains: []string{"--exceptionNamespace=kyverno, from which Kyverno v1.18.0 reads CEL exceptions"},
		},
		// The case: matchConditions on a pod label any tenant can set.
		"CEL exception on a label a tenant sets": {
			objs:     []any{sr2Obj(t, sr2ValidatingPolicy), celExc(sr2Set([]any{map[string]any{"name": "debug", "expression": "has(object.metadata.labels) && 'debug.example.com/skip' in object.metadata.labels"}}, "spec", "matchConditions")), enabled},
			want:     []string{"PolicyException/team-search/skip-queue critical"},
			contains: []string{"with label debug.example.com/skip=true, annotation debug.example.com/skip=true and no queue label", "its matchConditions hold for the pod named"},
		},
		"CEL exception whose matchConditions hold in one namespace": {
			objs:     []any{sr2Obj(t, sr2ValidatingPolicy), celExc(sr2Set([]any{map[string]any{"name": "search", "expression": "request.namespace == 'team-search'"}}, "spec", "matchConditions")), enabled},
			want:     []string{"PolicyException/team-search/skip-queue critical"},
			contains: []string{"namespaces team-search (a pod with nvidia.com/gpu in requests and limits and no queue label) from ValidatingPolicy", "its matchConditions hold for the pod named"},
		},
		"CEL exception for system users only": {
			objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(sr2Set([]any{map[string]any{"name": "ops", "expression": "request.userInfo.username == 'ops-admin'"}}, "spec", "matchConditions")), enabled},
		},
		"CEL exception, exceptions off":  {objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(), sr2KyvernoDeployment("k/kyverno:v1.16.0")}},
		"CEL exception for another kind": {objs: []any{sr2Obj(t, sr2ValidatingPolicy), celExc(sr2Set("ImageValidatingPolicy", "spec", "policyRefs", "0", "kind")), enabled}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, ruleFor(gatePolicyException), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
	// No managed namespace: nothing to exempt.
	res := sr2Eval(t, ruleFor(gatePolicyException), snapshottest.New(snapshottest.At(sr2Now), sr2NS("team-web", nil), sr2Policy(t), exc(), enabled))
	assert.Empty(t, res.Findings)
}
