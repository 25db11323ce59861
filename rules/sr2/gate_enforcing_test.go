package sr2

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// sr2GatePolicy is the gate as it should be: Enforce, Pods in managed namespaces, every
// GPU resource (nvidia.com/ prefix and amd.com/gpu), the queue label.
const sr2GatePolicy = `
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-kueue-queue-name
spec:
  rules:
  - name: gpu-pods-need-a-queue
    match:
      any:
      - resources:
          kinds: [Pod]
          operations: [CREATE]
          namespaceSelector:
            matchLabels: {llm-platform/kueue-managed: "true"}
    validate:
      failureAction: Enforce
      message: GPU pods in Kueue-managed namespaces need the label kueue.x-k8s.io/queue-name.
      deny:
        conditions:
          any:
          - key: "{{ request.object.spec.[containers, initContainers][][].resources.limits.keys(@)[] | [?starts_with(@, 'nvidia.com/') || @ == 'amd.com/gpu'] | length(@) }}"
            operator: GreaterThan
            value: 0
          - key: "{{ request.object.spec.resourceClaims || ` + "`[]`" + ` | length(@) }}"
            operator: GreaterThan
            value: 0
          all:
          - key: "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}"
            operator: Equals
            value: ""
`

type sr2Mut func(u *unstructured.Unstructured)

// sr2SetAt sets value at path, where numeric elements index lists.
func sr2SetAt(obj any, value any, path ...string) {
	for i, k := range path {
		last := i == len(path)-1
		switch o := obj.(type) {
		case map[string]any:
			if last {
				o[k] = value
				return
			}
			if _, ok := o[k]; !ok {
				o[k] = map[string]any{}
			}
			obj = o[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(o) {
				panic("sr2SetAt: bad list index " + k)
			}
			if last {
				o[n] = value
				return
			}
			obj = o[n]
		default:
			panic("sr2SetAt: cannot descend into " + k)
		}
	}
}

func sr2Set(value any, path ...string) sr2Mut {
	return func(u *unstructured.Unstructured) { sr2SetAt(u.Object, value, path...) }
}

// sr2SetRule sets a field of the first rule.
func sr2SetRule(value any, path ...string) sr2Mut {
	return sr2Set(value, append([]string{"spec", "rules", "0"}, path...)...)
}

func sr2Policy(t *testing.T, muts ...sr2Mut) *unstructured.Unstructured {
	u := sr2Obj(t, sr2GatePolicy)
	for _, m := range muts {
		m(u)
	}
	return u
}

func sr2Hook(name string, fp admissionv1.FailurePolicyType, nsSel *metav1.LabelSelector) admissionv1.ValidatingWebhook {
	return admissionv1.ValidatingWebhook{
		Name:          name,
		FailurePolicy: &fp,
		Rules: []admissionv1.RuleWithOperations{{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
			Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods", "pods/ephemeralcontainers"}},
		}},
		NamespaceSelector: nsSel,
		ObjectSelector:    &metav1.LabelSelector{},
	}
}

var sr2KyvernoNSSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
	{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "kyverno"}},
}}

// sr2Webhooks is Kyverno's resource validating webhook configuration, healthy.
func sr2Webhooks(hooks ...admissionv1.ValidatingWebhook) *admissionv1.ValidatingWebhookConfiguration {
	if hooks == nil {
		hooks = []admissionv1.ValidatingWebhook{
			sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, sr2KyvernoNSSelector),
			sr2Hook("validate.kyverno.svc-ignore", admissionv1.Ignore, sr2KyvernoNSSelector),
			sr2Hook("vpol.validate.kyverno.svc-fail", admissionv1.Fail, sr2KyvernoNSSelector),
		}
	}
	return &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "kyverno-resource-validating-webhook-cfg"}, Webhooks: hooks}
}

func sr2Lease(age time.Duration) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: "kyverno-health",
		Annotations: map[string]string{"kyverno.io/last-request-time": sr2Now.Add(-age).Format(time.RFC3339)}}}
}

func TestGPUGatePolicyNotEnforcingClusterPolicy(t *testing.T) {
	const cp = "ClusterPolicy/require-kueue-queue-name"
	healthy := []any{sr2Webhooks(), sr2Lease(20 * time.Second)}
	tests := map[string]struct {
		policy       *unstructured.Unstructured
		objs         []any // nil: the healthy webhook and lease
		want         []string
		contains     []string
		inconclusive bool
	}{
		"enforcing gate, healthy Kyverno": {policy: sr2Policy(t)},
		"no failure action anywhere: the CRD default Audit": {
			policy:   sr2Policy(t, sr2SetRule("", "validate", "failureAction")),
			want:     []string{cp + "#failure-action critical"},
			contains: []string{"team-research (spec.validationFailureAction (unset: the CRD defaults it to Audit): Audit)"},
		},
		"spec Audit but rule Enforce: the rule wins": {
			policy: sr2Policy(t, sr2Set("Audit", "spec", "validationFailureAction")),
		},
		"spec Enforce but rule Audit: the rule wins": {
			policy:   sr2Policy(t, sr2Set("Enforce", "spec", "validationFailureAction"), sr2SetRule("Audit", "validate", "failureAction")),
			want:     []string{cp + "#failure-action critical"},
			contains: []string{"spec.rules[0].validate.failureAction: Audit"},
		},
		"legacy lowercase enforce on the spec": {
			policy: sr2Policy(t, sr2SetRule("", "validate", "failureAction"), sr2Set("enforce", "spec", "validationFailureAction")),
		},
		"rule override to Audit for one namespace": {
			policy:   sr2Policy(t, sr2SetRule([]any{map[string]any{"action": "Audit", "namespaces": []any{"team-se*"}}}, "validate", "failureActionOverrides")),
			want:     []string{cp + "#failure-action critical"},
			contains: []string{"only audits GPU pods without a queue name in team-search (spec.rules[0].validate.failureActionOverrides[0].action: Audit)"},
		},
		"spec override by namespace selector applies when the rule has none": {
			policy: sr2Policy(t, sr2Set([]any{map[string]any{"action": "Audit", "namespaceSelector": map[string]any{"matchLabels": map[string]any{"llm-platform/kueue-managed": "true"}}}},
				"spec", "validationFailureActionOverrides")),
			want:     []string{cp + "#failure-action critical"},
			contains: []string{"team-research (spec.validationFailureActionOverrides[0].action (Kyverno version unknown: read as Kyverno v1.17 or later, under which the rule enforces least): Audit), team-search"},
		},
		"override for another namespace falls back to the rule's action": {
			policy: sr2Policy(t, sr2SetRule([]any{map[string]any{"action": "Audit", "namespaces": []any{"dev"}}}, "validate", "failureActionOverrides")),
		},
		"Ready condition False": {
			policy:   sr2Policy(t, sr2Set([]any{map[string]any{"type": "Ready", "status": "False", "reason": "Failed", "message": "webhook not configured"}}, "status", "conditions")),
			want:     []string{cp + "#not-ready critical"},
			contains: []string{"Ready condition False, reason Failed: webhook not configured"},
		},
		"Ready condition True": {
			policy: sr2Policy(t, sr2Set([]any{map[string]any{"type": "Ready", "status": "True"}}, "status", "conditions")),
		},
		"read from a cluster without status: not processed": {
			policy:   sr2Policy(t, sr2Set("3f1c", "metadata", "uid")),
			want:     []string{cp + "#not-ready critical"},
			contains: []string{"Kyverno has not processed the policy"},
		},
		"admission disabled": {
			policy: sr2Policy(t, sr2Set(false, "spec", "admission")),
			want:   []string{cp + "#admission-disabled critical"},
		},
		"match by namespace names misses one": {
			policy:   sr2Policy(t, sr2SetRule([]any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}, "namespaces": []any{"team-research"}}}}, "match", "any")),
			want:     []string{cp + "#match critical"},
			contains: []string{"team-search (spec.rules[0].match.any[0].resources.namespaces [team-research] does not include it)"},
		},
		"legacy match block with kinds v1/Pod covers": {
			policy: sr2Policy(t, sr2SetRule(map[string]any{"resources": map[string]any{"kinds": []any{"v1/Pod"}}}, "match")),
		},
		"match on Deployments only": {
			policy:   sr2Policy(t, sr2SetRule([]any{"Deployment"}, "match", "any", "0", "resources", "kinds")),
			want:     []string{cp + "#match critical"},
			contains: []string{"no validate rule matching kind Pod"},
		},
		"match only pods with a tenant-chosen label": {
			policy:   sr2Policy(t, sr2SetRule([]any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}, "selector": map[string]any{"matchLabels": map[string]any{"gpu": "true"}}}}}, "match", "any")),
			want:     []string{cp + "#match critical"},
			contains: []string{"selector (gpu=true) covers only pods carrying those labels"},
		},
		"match only pods without the queue label still covers": {
			policy: sr2Policy(t, sr2SetRule([]any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"},
				"selector": map[string]any{"matchExpressions": []any{map[string]any{"key": "kueue.x-k8s.io/queue-name", "operator": "DoesNotExist"}}}}}}, "match", "any")),
		},
		"match limited to some requesters": {
			policy: sr2Policy(t, sr2SetRule([]any{map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}},
				"subjects": []any{map[string]any{"kind": "Group", "name": "tenants"}}}}, "match", "any")),
			want:     []string{cp + "#match critical"},
			contains: []string{"limits the rule to some requesters (subjects)"},
		},
		"exclude by pod name lets tenants through": {
			policy:   sr2Policy(t, sr2SetRule(map[string]any{"any": []any{map[string]any{"resources": map[string]any{"names": []any{"debug-*"}}}}}, "exclude")),
			want:     []string{cp + "#match critical"},
			contains: []string{"excludes pods named [debug-*], which any tenant can choose"},
		},
		"exclude of serving only": {
			policy: sr2Policy(t, sr2SetRule(map[string]any{"any": []any{map[string]any{"resources": map[string]any{"namespaces": []any{"serving"}}}}}, "exclude")),
		},
		"exclude for cluster admins is not a namespace gap": {
			policy: sr2Policy(t, sr2SetRule(map[string]any{"any": []any{map[string]any{"clusterRoles": []any{"cluster-admin"}}}}, "exclude")),
		},
		"check names only nvidia.com/gpu: MIG and AMD missed": {
			policy: sr2Policy(t, sr2SetRule("{{ request.object.spec.[containers, initContainers][][].resources.limits.\"nvidia.com/gpu\" | length(@) }}",
				"validate", "deny", "conditions", "any", "0", "key")),
			objs:     append([]any{sr2Node("gpu-amd-1", "amd.com/gpu", 8)}, healthy...),
			want:     []string{cp + "#gpu-resources critical"},
			contains: []string{"that ask for nvidia.com/gpu.shared, nvidia.com/mig-*, amd.com/gpu", "offered by amd.com/gpu (Node gpu-amd-1)"},
		},
		"check lists one MIG profile only": {
			policy: sr2Policy(t, sr2SetRule("{{ request.object.spec.[containers, initContainers][][].resources.limits.[\"nvidia.com/gpu\", \"nvidia.com/mig-1g.10gb\", \"amd.com/gpu\"][] | [?@] | length(@) }}",
				"validate", "deny", "conditions", "any", "0", "key")),
			objs:     append([]any{sr2Pod("team-web", "mig", sr2Requests("nvidia.com/mig-3g.40gb", 1))}, healthy...),
			want:     []string{cp + "#gpu-resources critical"},
			contains: []string{"that ask for nvidia.com/gpu.shared, nvidia.com/mig-*:", "requested by nvidia.com/mig-3g.40gb (pod team-web/mig)"},
		},
		// Kyverno expands wildcard keys only in metadata.labels and metadata.annotations
		// (pkg/engine/wildcards ExpandInMetadata, called by validate.validateMap); a
		// negation anchor elsewhere looks its key up literally: X(nvidia.com/mig-*) never
		// matches a MIG slice, which the second pattern then admits.
		"pattern keys with a MIG wildcard do not cover": {
			// A DRA-claim pod has no resources.limits: the second pattern does not match
			// it, so the gate denies it.
			want:     []string{cp + "#gpu-resources low"},
			contains: []string{"admits GPU pods without a queue name that ask for nvidia.com/mig-*: pods with nvidia.com/mig-1g.10gb in requests and limits and no queue label are admitted in team-research, team-search (rule gpu-pods-need-a-queue's validate.anyPattern[1] matches)"},
			policy: sr2Policy(t, sr2SetRule(map[string]any{"failureAction": "Enforce", "anyPattern": []any{
				map[string]any{"metadata": map[string]any{"labels": map[string]any{"kueue.x-k8s.io/queue-name": "?*"}}},
				map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"resources": map[string]any{"limits": map[string]any{
					"X(nvidia.com/gpu)": "null", "X(nvidia.com/gpu.shared)": "null", "X(nvidia.com/mig-*)": "null", "X(amd.com/gpu)": "null"}}}}}},
			}}, "validate")),
		},
		"resource-agnostic check gates every pod": {
			policy: sr2Policy(t, sr2SetRule(map[string]any{"failureAction": "Enforce", "pattern": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"kueue.x-k8s.io/queue-name": "?*"}}}}, "validate")),
		},
		"check never names the queue label": {
			// It denies a GPU pod without label team, whatever its queue label: a tenant
			// sets team and is admitted without a queue name (critical); a queued pod
			// without team is refused (medium).
			policy: sr2Policy(t, sr2SetRule("{{ request.object.metadata.labels.team || '' }}", "validate", "deny", "conditions", "all", "0", "key")),
			want:   []string{cp + "#admits gpu-with team=true critical", cp + "#denies-queued medium"},
			contains: []string{"admits a pod with nvidia.com/gpu in requests and limits with label team=true, annotation team=true and no queue label in team-research, team-search",
				"`{{ request.object.metadata.labels.team || '' }}` (= `true`) Equals `` is false",
				"denies pods carrying label kueue.x-k8s.io/queue-name, which it must admit: a pod with nvidia.com/gpu in requests and limits with label kueue.x-k8s.io/queue-name in team-research, team-search"},
		},
		"failurePolicy Ignore": {
			policy:   sr2Policy(t, sr2Set("Ignore", "spec", "webhookConfiguration", "failurePolicy")),
			want:     []string{cp + "#failure-policy high"},
			contains: []string{"failurePolicy Ignore (spec.webhookConfiguration.failurePolicy)"},
		},
		"webhook configuration missing": {
			policy:   sr2Policy(t),
			objs:     []any{&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, sr2Lease(time.Second)},
			want:     []string{cp + "#webhook-missing high"},
			contains: []string{"ValidatingWebhookConfiguration kyverno-resource-validating-webhook-cfg does not exist"},
		},
		"webhook configuration emptied by the watchdog": {
			policy: sr2Policy(t),
			objs:   []any{sr2Webhooks([]admissionv1.ValidatingWebhook{}...), sr2Lease(time.Second)},
			want:   []string{cp + "#webhook-missing high"},
		},
		"webhook namespaceSelector excludes a managed namespace": {
			policy: sr2Policy(t),
			objs: []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", "team-search"}}}})), sr2Lease(time.Second)},
			want:     []string{cp + "#webhook-scope high"},
			contains: []string{"team-search (validate.kyverno.svc-fail namespaceSelector kubernetes.io/metadata.name notin (kube-system,team-search))"},
		},
		"only the Ignore webhook serves pods: forceFailurePolicyIgnore": {
			policy:   sr2Policy(t),
			objs:     []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-ignore", admissionv1.Ignore, nil)), sr2Lease(time.Second)},
			want:     []string{cp + "#failure-policy high"},
			contains: []string{"forceFailurePolicyIgnore"},
		},
		"another policy's fine-grained webhook does not count": {
			policy: sr2Policy(t),
			objs:   []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-fail-finegrained-other", admissionv1.Fail, nil)), sr2Lease(time.Second)},
			want:   []string{cp + "#webhook-missing high"},
		},
		"our fine-grained webhook counts": {
			policy: sr2Policy(t),
			objs:   []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-fail-finegrained-require-kueue-queue-name", admissionv1.Fail, nil)), sr2Lease(time.Second)},
		},
		"no webhook configuration among the inputs (offline)": {
			policy:       sr2Policy(t),
			objs:         []any{snapshottest.Offline(), sr2Lease(time.Second)},
			inconclusive: true,
		},
		"live, the webhook configurations synced and empty: Kyverno's is absent": {
			policy: sr2Policy(t),
			objs:   []any{sr2Lease(time.Second)},
			want:   []string{cp + "#webhook-missing high"},
		},
		"webhook configurations forbidden": {
			policy:       sr2Policy(t),
			objs:         []any{sr2Unavailable(auditor.ResourceValidatingWebhookConfigurations, auditor.Forbidden)},
			inconclusive: true,
		},
		"stale health lease": {
			policy:   sr2Policy(t),
			objs:     []any{sr2Webhooks(), sr2Lease(5 * time.Minute)},
			want:     []string{cp + "#health-lease-stale high"},
			contains: []string{"last renewed 5m0s ago"},
		},
		"lease without the annotation": {
			policy:       sr2Policy(t),
			objs:         []any{sr2Webhooks(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: "kyverno-health"}}},
			inconclusive: true,
		},
		"no lease: not judged": {
			policy: sr2Policy(t),
			objs:   []any{sr2Webhooks()},
		},
		"resourceFilters skip a managed namespace": {
			policy: sr2Policy(t),
			objs: append([]any{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: "kyverno"},
				Data: map[string]string{"resourceFilters": "[Event,*,*][*/*,kube-system,*][Pod,team-search,*]"}}}, healthy...),
			want:     []string{cp + "#resource-filters critical"},
			contains: []string{"team-search ([Pod,team-search,*])"},
		},
		"default resourceFilters are fine": {
			policy: sr2Policy(t),
			objs: append([]any{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: "kyverno"},
				Data: map[string]string{"resourceFilters": "[Event,*,*][*/*,kube-system,*][*/*,kube-public,*][ReplicaSet,*,*]"}}}, healthy...),
		},
		"generated ValidatingAdmissionPolicy: Kyverno's webhook is not its path": {
			policy:       sr2Policy(t, sr2Set(true, "status", "validatingadmissionpolicy", "generated")),
			objs:         []any{},
			inconclusive: true,
		},
		"malformed rules: inconclusive and a match finding, no panic": {
			policy:       sr2Policy(t, sr2Set("rules", "spec", "rules")),
			want:         []string{cp + "#match critical"},
			inconclusive: true,
		},
		"malformed match fields: named": {
			policy:       sr2Policy(t, sr2SetRule("Pod", "match", "any", "0", "resources", "kinds")),
			want:         []string{cp + "#match critical"},
			contains:     []string{"no validate rule matching kind Pod"},
			inconclusive: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs := tc.objs
			if objs == nil {
				objs = healthy
			}
			objs = append(append(sr2Platform(), tc.policy), objs...)
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
		})
	}
}

func TestGPUGatePolicyNotEnforcingValidatingPolicy(t *testing.T) {
	const vp = "ValidatingPolicy/require-kueue-queue-name"
	base := sr2ValidatingPolicy
	tests := map[string]struct {
		muts     []sr2Mut
		objs     []any
		want     []string
		contains []string
	}{
		"enforcing": {},
		"audit only": {
			muts: []sr2Mut{sr2Set([]any{"Audit"}, "spec", "validationActions")},
			want: []string{vp + "#validation-actions critical"},
		},
		"admission evaluation off": {
			muts: []sr2Mut{sr2Set(false, "spec", "evaluation", "admission", "enabled")},
			want: []string{vp + "#admission-disabled critical"},
		},
		"not ready": {
			muts: []sr2Mut{sr2Set(false, "status", "conditionStatus", "ready")},
			want: []string{vp + "#not-ready critical"},
		},
		"failurePolicy Ignore": {
			muts: []sr2Mut{sr2Set("Ignore", "spec", "failurePolicy")},
			want: []string{vp + "#failure-policy high"},
		},
		"objectSelector a tenant controls": {
			muts:     []sr2Mut{sr2Set(map[string]any{"matchLabels": map[string]any{"gpu": "yes"}}, "spec", "matchConstraints", "objectSelector")},
			want:     []string{vp + "#match critical"},
			contains: []string{"spec.matchConstraints.objectSelector (gpu=yes)"},
		},
		"malformed matchConstraints": {
			muts: []sr2Mut{sr2Set("pods", "spec", "matchConstraints", "resourceRules")},
			want: []string{vp + "#match critical"},
		},
		"v1 on Kyverno v1.16: not served": {
			objs:     []any{sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.16.4")},
			want:     []string{vp + "#api-version critical"},
			contains: []string{"ValidatingPolicy require-kueue-queue-name is policies.kyverno.io/v1, which Kyverno v1.16.4 (image ghcr.io/kyverno/kyverno:v1.16.4) does not serve"},
		},
		"v1 on Kyverno v1.17: served": {objs: []any{sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.17.0")}},
		"v1beta1 on Kyverno v1.16: served": {
			muts: []sr2Mut{sr2Set("policies.kyverno.io/v1beta1", "apiVersion")},
			objs: []any{sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.16.0")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := sr2Obj(t, base)
			for _, m := range tc.muts {
				m(u)
			}
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), u, sr2Webhooks(), sr2Lease(time.Second), tc.objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
		})
	}
}

func TestGPUGatePolicyNotEnforcingRedundantGate(t *testing.T) {
	vap, binding := sr2VAP(), sr2Binding(sr2Deny, nil)
	audit := sr2Policy(t, sr2SetRule("Audit", "validate", "failureAction"))
	res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), audit, vap, binding, sr2Webhooks(), sr2Lease(time.Second)))
	require.Len(t, res.Findings, 1)
	f := res.Findings[0]
	assert.Equal(t, "failure-action", f.Discriminator)
	assert.Equal(t, auditor.SeverityLow, f.Severity, "the VAP enforces, so the audit-only ClusterPolicy opens no bypass")
	assert.Contains(t, f.Message, "ValidatingAdmissionPolicy/require-kueue-queue-name enforces")
}

func TestGPUGatePolicyNotEnforcingNoManagedNamespace(t *testing.T) {
	res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2NS("team-web", nil), sr2Policy(t, sr2Set(false, "spec", "admission"))))
	assert.Empty(t, res.Findings)
	assert.Empty(t, res.Inconclusive)
}

// When the queue-label check sits in an Audit rule beside an Enforce rule, the message
// says the rule audits; it does not say the policy never names the label.
func TestGPUGatePolicyNotEnforcingAuditRuleBesideEnforce(t *testing.T) {
	const doc = `
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: require-kueue-queue-name}
spec:
  rules:
  - name: gpu-limits
    match: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {llm-platform/kueue-managed: "true"}}}}]}
    validate:
      failureAction: Enforce
      deny:
        conditions:
          all:
          - key: "{{ request.object.spec.[containers, initContainers][][].resources.limits.keys(@)[] | [?starts_with(@, 'nvidia.com/') || @ == 'amd.com/gpu'] | length(@) }}"
            operator: GreaterThan
            value: 8
  - name: queue-label
    match: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {llm-platform/kueue-managed: "true"}}}}]}
    validate:
      failureAction: Audit
      pattern:
        metadata:
          labels: {kueue.x-k8s.io/queue-name: "?*"}
`
	res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), sr2Obj(t, doc), sr2Webhooks(), sr2Lease(time.Second)))
	assert.Equal(t, []string{
		"ClusterPolicy/require-kueue-queue-name#admits gpu critical",
		"ClusterPolicy/require-kueue-queue-name#admits gpu-init-container critical",
		"ClusterPolicy/require-kueue-queue-name#admits gpu-limits-only critical",
		"ClusterPolicy/require-kueue-queue-name#dra-claims low",
		"ClusterPolicy/require-kueue-queue-name#gpu-resources low",
	}, sr2Keys(res.Findings))
	msg := sr2Messages(res.Findings)
	assert.Contains(t, msg, "admits a pod with nvidia.com/gpu in requests and limits and no queue label in team-research, team-search: rule gpu-limits's deny conditions are false")
	assert.Contains(t, msg, "rule queue-label (spec.rules[1]) would deny it, but only in an audited rule: its failure action is Audit (spec.rules[1].validate.failureAction), so the pod is reported, not denied")
	assert.NotContains(t, msg, "never names label")

	// The same policy with the label rule enforcing: no finding.
	fixed := sr2Obj(t, doc)
	sr2SetAt(fixed.Object, "Enforce", "spec", "rules", "1", "validate", "failureAction")
	res = sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), fixed, sr2Webhooks(), sr2Lease(time.Second)))
	assert.Empty(t, res.Findings, sr2Messages(res.Findings))
}

// A gate whose only shortcoming is hardening (a GPU resource no Node offers) still
// enforces: another gate's shortcomings are then redundant, reported low.
func TestGPUGatePolicyNotEnforcingHardeningGateStillEnforces(t *testing.T) {
	nvidiaOnly := sr2Policy(t, sr2SetRule("{{ request.object.spec.[containers, initContainers][][].resources.limits.\"nvidia.com/gpu\" | length(@) }}",
		"validate", "deny", "conditions", "any", "0", "key"))
	binding := sr2Binding([]admissionv1.ValidationAction{admissionv1.Audit}, nil)
	vap := sr2VAP()
	res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), nvidiaOnly, vap, binding,
		sr2Node("gpu-1", "nvidia.com/gpu", 8), sr2Webhooks(), sr2Lease(time.Second)))
	assert.Equal(t, []string{
		"ClusterPolicy/require-kueue-queue-name#gpu-resources low",
		"ValidatingAdmissionPolicy/require-kueue-queue-name#binding-actions low",
	}, sr2Keys(res.Findings), sr2Messages(res.Findings))
}

// sr2KyvernoDeployment is Kyverno's admission controller at an image, with flags.
func sr2KyvernoDeployment(image string, args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: "kyverno-admission-controller"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "kyverno", Image: image, Args: args}}}}}}
}

// The running Kyverno version decides whether a namespaceSelector override applies.
func TestGPUGatePolicyNotEnforcingVersionAware(t *testing.T) {
	policy := sr2Policy(t, sr2SetRule([]any{map[string]any{"action": "Audit", "namespaceSelector": map[string]any{"matchLabels": map[string]any{"llm-platform/kueue-managed": "true"}}}},
		"validate", "failureActionOverrides"))
	cases := map[string]struct {
		objs     []any
		want     []string
		contains string
	}{
		"v1.16 ignores the selector override: enforced": {objs: []any{sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.16.2")}, want: []string{}},
		"v1.17 applies it: audit only": {objs: []any{sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.17.0")},
			want: []string{"ClusterPolicy/require-kueue-queue-name#failure-action critical"}, contains: "spec.rules[0].validate.failureActionOverrides[0].action: Audit"},
		"unknown version: the least enforcing reading, said": {
			want: []string{"ClusterPolicy/require-kueue-queue-name#failure-action critical"}, contains: "Kyverno version unknown: read as Kyverno v1.17 or later"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := append([]any{policy, sr2Webhooks(), sr2Lease(time.Second)}, tc.objs...)
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), objs))
			assert.Equal(t, tc.want, sr2Keys(res.Findings), sr2Messages(res.Findings))
			assert.Contains(t, sr2Messages(res.Findings), tc.contains)
		})
	}
}

// Kyverno v1.13.0-v1.13.2: a rule with overrides, none for the managed namespaces,
// neither enforces nor audits there. The message says so once, with no empty value.
func TestGPUGatePolicyNotEnforcingKyverno113Overrides(t *testing.T) {
	policy := sr2Policy(t, sr2SetRule([]any{map[string]any{"action": "Enforce", "namespaces": []any{"elsewhere"}}}, "validate", "failureActionOverrides"))
	objs := []any{policy, sr2Webhooks(), sr2Lease(time.Second), sr2KyvernoDeployment("ghcr.io/kyverno/kyverno:v1.13.1")}
	res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), objs))
	assert.Equal(t, []string{"ClusterPolicy/require-kueue-queue-name#failure-action critical"}, sr2Keys(res.Findings), sr2Messages(res.Findings))
	msg := sr2Messages(res.Findings)
	assert.Contains(t, msg, "does not deny GPU pods without a queue name in team-research (failure-action overrides, none of whose namespaces match "+
		"(Kyverno v1.13.0-v1.13.2 then neither enforces nor audits the rule))")
	assert.NotContains(t, msg, "): )")
	assert.NotContains(t, msg, "only audits")
	assert.NotContains(t, msg, "is Audit")
}
