package kyverno

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// gateYAML is a well-formed gate: Enforce, Pods in managed namespaces, the queue check.
const gateYAML = `
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
      message: GPU pods need the label kueue.x-k8s.io/queue-name.
      deny:
        conditions:
          all:
          - key: "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}"
            operator: Equals
            value: ""
`

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
	return &unstructured.Unstructured{Object: m}
}

type mut func(u *unstructured.Unstructured)

// set sets value at path in the object, numeric elements indexing lists; nil deletes.
func set(value any, path ...string) mut {
	return func(u *unstructured.Unstructured) {
		var cur any = u.Object
		for i, k := range path {
			last := i == len(path)-1
			switch o := cur.(type) {
			case map[string]any:
				if last {
					if value == nil {
						delete(o, k)
					} else {
						o[k] = value
					}
					return
				}
				if _, ok := o[k]; !ok {
					o[k] = map[string]any{}
				}
				cur = o[k]
			case []any:
				n, _ := strconv.Atoi(k)
				if last {
					o[n] = value
					return
				}
				cur = o[n]
			}
		}
	}
}

func setRule(value any, path ...string) mut {
	return set(value, append([]string{"spec", "rules", "0"}, path...)...)
}

func gatePolicy(t *testing.T, muts ...mut) *unstructured.Unstructured {
	u := obj(t, gateYAML)
	for _, m := range muts {
		m(u)
	}
	return u
}

func managed(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
		Labels: map[string]string{corev1.LabelMetadataName: name, "llm-platform/kueue-managed": "true"}}}
}

func TestNewClusterPolicy(t *testing.T) {
	cases := map[string]struct {
		muts  []mut
		check func(t *testing.T, p *ClusterPolicy)
	}{
		"well-formed gate": {check: func(t *testing.T, p *ClusterPolicy) {
			assert.Empty(t, p.Problems)
			assert.Equal(t, "require-kueue-queue-name", p.Name)
			assert.Equal(t, "kyverno.io/v1", p.APIVersion)
			assert.True(t, p.Admission, "admission defaults to true")
			assert.Equal(t, "Fail", p.FailurePolicy)
			assert.Empty(t, p.FailurePolicyFrom, "defaulted")
			assert.False(t, p.Ready.Known, "a manifest has no status to judge")
			require.Len(t, p.Rules, 1)
			r := p.Rules[0]
			assert.Equal(t, "gpu-pods-need-a-queue", r.Name)
			assert.True(t, r.Validate)
			assert.Equal(t, "Enforce", r.FailureAction)
			assert.Equal(t, "spec.rules[0]", r.Path())
			require.Len(t, r.Match.Any, 1)
			assert.Equal(t, "spec.rules[0].match.any[0]", r.Match.Any[0].Path)
			assert.Equal(t, []string{"Pod"}, r.Match.Any[0].Kinds)
			assert.False(t, r.Exclude.Set)
			assert.Contains(t, r.Text, "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}")
			assert.NotContains(t, r.Text, "GPU pods need the label kueue.x-k8s.io/queue-name.", "messages are not checks")
		}},
		"webhookConfiguration failurePolicy wins": {
			muts: []mut{set("Ignore", "spec", "failurePolicy"), set(map[string]any{"failurePolicy": "Ignore"}, "spec", "webhookConfiguration")},
			check: func(t *testing.T, p *ClusterPolicy) {
				assert.Equal(t, "Ignore", p.FailurePolicy)
				assert.Equal(t, "spec.webhookConfiguration.failurePolicy", p.FailurePolicyFrom)
			}},
		"spec failurePolicy": {muts: []mut{set("Ignore", "spec", "failurePolicy")}, check: func(t *testing.T, p *ClusterPolicy) {
			assert.Equal(t, "Ignore", p.FailurePolicy)
			assert.Equal(t, "spec.failurePolicy", p.FailurePolicyFrom)
		}},
		"admission off": {muts: []mut{set(false, "spec", "admission")}, check: func(t *testing.T, p *ClusterPolicy) { assert.False(t, p.Admission) }},
		"rule without validate": {muts: []mut{setRule(nil, "validate")}, check: func(t *testing.T, p *ClusterPolicy) {
			assert.False(t, p.Rules[0].Validate)
			assert.Empty(t, p.Rules[0].Text)
		}},
		"legacy match reads as all": {muts: []mut{setRule(map[string]any{"resources": map[string]any{"kinds": []any{"Pod"}, "name": "x"}}, "match")},
			check: func(t *testing.T, p *ClusterPolicy) {
				m := p.Rules[0].Match
				assert.True(t, m.Set)
				assert.Empty(t, m.Any)
				require.Len(t, m.All, 1)
				assert.Equal(t, "spec.rules[0].match", m.All[0].Path)
				assert.Equal(t, []string{"x"}, m.All[0].Names, "the deprecated name joins names")
			}},
		"user info": {muts: []mut{setRule([]any{map[string]any{"subjects": []any{map[string]any{"kind": "User", "name": "x"}}, "clusterRoles": []any{"admin"}}}, "exclude", "any")},
			check: func(t *testing.T, p *ClusterPolicy) {
				assert.Equal(t, []string{"subjects", "clusterRoles"}, p.Rules[0].Exclude.Any[0].UserInfo)
			}},
		"Ready condition": {muts: []mut{set(map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "Failed", "message": "bad  rule"}}}, "status")},
			check: func(t *testing.T, p *ClusterPolicy) {
				assert.Equal(t, Readiness{Known: true, Ready: false, Detail: "Ready condition False, reason Failed: bad rule"}, p.Ready)
			}},
		"legacy status.ready": {muts: []mut{set(map[string]any{"ready": true}, "status")}, check: func(t *testing.T, p *ClusterPolicy) {
			assert.Equal(t, Readiness{Known: true, Ready: true, Detail: "status.ready is true"}, p.Ready)
		}},
		"from an API server without status": {muts: []mut{set("uid-1", "metadata", "uid")}, check: func(t *testing.T, p *ClusterPolicy) {
			assert.True(t, p.Ready.Known)
			assert.False(t, p.Ready.Ready)
			assert.Contains(t, p.Ready.Detail, "Kyverno has not processed the policy")
		}},
		"generated VAP": {muts: []mut{set(map[string]any{"validatingadmissionpolicy": map[string]any{"generated": true}}, "status")},
			check: func(t *testing.T, p *ClusterPolicy) { assert.True(t, p.GeneratedVAP) }},
		"overrides read with their paths": {muts: []mut{set([]any{map[string]any{"action": "Audit", "namespaces": []any{"dev"},
			"namespaceSelector": map[string]any{"matchLabels": map[string]any{"a": "b"}}}}, "spec", "validationFailureActionOverrides")},
			check: func(t *testing.T, p *ClusterPolicy) {
				require.Len(t, p.Overrides, 1)
				o := p.Overrides[0]
				assert.Equal(t, "spec.validationFailureActionOverrides[0]", o.Path)
				assert.Equal(t, "Audit", o.Action)
				assert.Equal(t, []string{"dev"}, o.Namespaces)
				assert.Equal(t, map[string]string{"a": "b"}, o.NamespaceSelector.MatchLabels)
			}},
		"wrong types are problems": {muts: []mut{set("x", "spec", "rules", "0", "match", "any"), set("yes", "spec", "admission")},
			check: func(t *testing.T, p *ClusterPolicy) {
				assert.Equal(t, []string{
					"ClusterPolicy require-kueue-queue-name: spec.admission is a string, want a boolean",
					"ClusterPolicy require-kueue-queue-name: spec.rules[0].match.any is a string, want a list",
				}, p.Problems)
				assert.True(t, p.Admission, "a malformed field reads as absent")
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.check(t, NewClusterPolicy(gatePolicy(t, tc.muts...)))
		})
	}
}

func TestNewValidatingPolicy(t *testing.T) {
	const vpol = `
apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: {name: require-kueue-queue-name}
spec:
  validationActions: [Deny]
  failurePolicy: Ignore
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  evaluation: {admission: {enabled: false}}
  validations:
  - expression: "has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels"
    message: needs a queue
status:
  generated: true
  conditionStatus:
    conditions: [{type: Ready, status: "True"}]
`
	p := NewValidatingPolicy(obj(t, vpol))
	assert.Empty(t, p.Problems)
	assert.Equal(t, []string{"Deny"}, p.ValidationActions)
	assert.Equal(t, "Ignore", p.FailurePolicy)
	require.NotNil(t, p.MatchConstraints)
	assert.Equal(t, []string{"pods"}, p.MatchConstraints.ResourceRules[0].Resources)
	assert.False(t, p.Admission)
	assert.True(t, p.GeneratedVAP)
	assert.Equal(t, Readiness{Known: true, Ready: true, Detail: "Ready condition True"}, p.Ready)
	assert.Contains(t, p.Text, "has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels")
	assert.NotContains(t, p.Text, "needs a queue")

	bare := NewValidatingPolicy(obj(t, `{apiVersion: policies.kyverno.io/v1, kind: ValidatingPolicy, metadata: {name: v}, spec: {matchConstraints: {resourceRules: 3}}}`))
	assert.True(t, bare.Admission, "admission defaults to true")
	assert.Nil(t, bare.MatchConstraints)
	require.Len(t, bare.Problems, 1)
	assert.Contains(t, bare.Problems[0], "ValidatingPolicy v: spec.matchConstraints is not a MatchResources")
}

func TestGatherStrings(t *testing.T) {
	var out []string
	gatherStrings(map[string]any{"b": []any{"x", 1, map[string]any{"message": "m", "messageExpression": "e", "k": "v"}}, "a": "y"}, &out)
	assert.Equal(t, []string{"a", "y", "b", "x", "k", "v"}, out)
}
