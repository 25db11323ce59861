package kyverno

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// evalPod is a pod CREATE as the API server hands it to Kyverno: labels and the GPU
// limits (and the requests defaulting copies from them) of one container.
func evalPod(labels map[string]any, limits map[string]any) AdmissionRequest {
	meta := map[string]any{"name": "p", "namespace": "team-a"}
	if labels != nil {
		meta["labels"] = labels
	}
	c := map[string]any{"name": "main", "image": "train:1"}
	if limits != nil {
		c["resources"] = map[string]any{"limits": limits, "requests": limits}
	}
	return AdmissionRequest{Namespace: "team-a", Name: "p", Operation: "CREATE", Username: "system:serviceaccount:team-a:default",
		Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": map[string]any{"containers": []any{c}}}}
}

// TestEvaluatePodCreate: each semantic edge of a validate rule's evaluation, on literal
// rules and pods: patterns and their anchors (including Kyverno's wildcard-key
// expansion, which only metadata.labels and metadata.annotations get), deny conditions
// with their operators and thresholds, preconditions, and what is left unjudged.
func TestEvaluatePodCreate(t *testing.T) {
	gpu := map[string]any{"nvidia.com/gpu": "1"}
	mig := map[string]any{"nvidia.com/mig-1g.10gb": "1"}
	queued := map[string]any{"kueue.x-k8s.io/queue-name": "q"}
	const denyGPU = `
validate:
  deny:
    conditions:
      all:
      - key: "{{ request.object.spec.containers[].resources.limits.keys(@)[] | [?starts_with(@, 'nvidia.com/')] | length(@) }}"
        operator: GreaterThan
        value: %s
      - key: "{{ request.object.metadata.labels.\"kueue.x-k8s.io/queue-name\" || '' }}"
        operator: %s
        value: ""
`
	cases := []struct {
		name   string
		rule   string
		req    AdmissionRequest
		want   RuleOutcome
		reason string // in Why
	}{
		{"deny: unlabelled GPU pod denied", sprintf(denyGPU, "0", "Equals"), evalPod(nil, gpu), RuleFail, "GreaterThan 0 is true"},
		{"deny: labelled GPU pod admitted", sprintf(denyGPU, "0", "Equals"), evalPod(queued, gpu), RulePass, "Equals `` is false"},
		{"deny: CPU pod admitted", sprintf(denyGPU, "0", "Equals"), evalPod(nil, nil), RulePass, "GreaterThan 0 is false"},
		{"deny: threshold 1000000 admits", sprintf(denyGPU, "1000000", "Equals"), evalPod(nil, gpu), RulePass, "GreaterThan 1000000 is false"},
		{"deny: NotEquals admits the unlabelled pod", sprintf(denyGPU, "0", "NotEquals"), evalPod(nil, gpu), RulePass, "NotEquals `` is false"},
		{"deny: NotEquals denies the labelled pod", sprintf(denyGPU, "0", "NotEquals"), evalPod(queued, gpu), RuleFail, ""},
		{"deny: operator names are case-insensitive", sprintf(denyGPU, "0", "equals"), evalPod(nil, gpu), RuleFail, ""},
		{"deny: unknown operator is unjudged", sprintf(denyGPU, "0", "Matches"), evalPod(nil, gpu), RuleUnjudged, ""},
		{"deny: MIG slice counted by the prefix", sprintf(denyGPU, "0", "Equals"), evalPod(nil, mig), RuleFail, ""},
		{"deny without conditions denies all", "validate: {deny: {}}", evalPod(queued, nil), RuleFail, "without conditions"},
		{"precondition false skips", `
preconditions:
  all:
  - {key: "{{ request.operation }}", operator: Equals, value: DELETE}
validate: {deny: {}}`, evalPod(nil, gpu), RuleSkip, "does not apply"},
		{"precondition inverted skips the GPU pod", `
preconditions:
  all:
  - {key: "{{ request.object.spec.containers[].resources.limits.\"nvidia.com/gpu\" | length(@) }}", operator: NotEquals, value: 0}
validate: {deny: {}}`, evalPod(nil, nil), RuleSkip, ""},
		{"precondition any: one true applies", `
preconditions:
  any:
  - {key: "{{ request.operation }}", operator: Equals, value: DELETE}
  - {key: "{{ request.operation }}", operator: AnyIn, value: [CREATE, UPDATE]}
validate: {deny: {}}`, evalPod(nil, gpu), RuleFail, ""},
		{"context entries are unjudged", `
context: [{name: cm, configMap: {name: x, namespace: y}}]
validate: {deny: {}}`, evalPod(nil, gpu), RuleUnjudged, "configMap"},
		{"pattern: label required, missing", `validate: {pattern: {metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}}}`, evalPod(nil, gpu), RuleFail, "labels"},
		{"pattern: label required, present", `validate: {pattern: {metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}}}`, evalPod(queued, gpu), RulePass, ""},
		{"pattern: empty label value fails ?*", `validate: {pattern: {metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}}}`, evalPod(map[string]any{"kueue.x-k8s.io/queue-name": ""}, gpu), RuleFail, ""},
		{"pattern: wildcard label key expanded in metadata", `validate: {pattern: {metadata: {labels: {"kueue.x-k8s.io/*": "?*"}}}}`, evalPod(queued, gpu), RulePass, ""},
		{"pattern: wildcard label key matching nothing fails", `validate: {pattern: {metadata: {labels: {"team-*": "?*"}}}}`, evalPod(queued, gpu), RuleFail, ""},
		{"pattern: negation with a wildcard key outside metadata is literal", `
validate:
  pattern:
    spec:
      containers:
      - resources:
          limits:
            X(nvidia.com/mig-*): "null"`, evalPod(nil, mig), RulePass, ""},
		{"pattern: negation with an exact key", `
validate:
  pattern:
    spec:
      containers:
      - resources:
          limits:
            X(nvidia.com/gpu): "null"`, evalPod(nil, gpu), RuleFail, "negation anchor"},
		{"pattern: condition anchor skips a CPU container", `
validate:
  pattern:
    spec:
      containers:
      - (resources):
          (limits):
            (nvidia.com/gpu): "?*"
    metadata:
      labels: {kueue.x-k8s.io/queue-name: "?*"}`, evalPod(nil, nil), RuleSkip, "conditional anchor"},
		{"pattern: condition anchor holds for a GPU container, the label is then required", `
validate:
  pattern:
    spec:
      containers:
      - (resources):
          (limits):
            (nvidia.com/gpu): "?*"
    metadata:
      labels: {kueue.x-k8s.io/queue-name: "?*"}`, evalPod(nil, gpu), RuleFail, "/metadata/labels/"},
		{"pattern: global anchor skips the whole pattern", `
validate:
  pattern:
    metadata:
      <(labels):
        kind: gpu
      labels: {kueue.x-k8s.io/queue-name: "?*"}`, evalPod(map[string]any{"kind": "cpu"}, gpu), RuleSkip, "global anchor mismatch"},
		{"pattern: equality anchor only when present", `validate: {pattern: {metadata: {=(labels): {kueue.x-k8s.io/queue-name: "?*"}}}}`, evalPod(nil, gpu), RulePass, ""},
		{"anyPattern: one matching admits", `
validate:
  anyPattern:
  - metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}
  - spec: {containers: [{resources: {limits: {X(nvidia.com/gpu): "null"}}}]}`, evalPod(nil, map[string]any{"cpu": "1"}), RulePass, "anyPattern[1] matches"},
		{"anyPattern: the path to a negation anchor must exist", `
validate:
  anyPattern:
  - metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}
  - spec: {containers: [{resources: {limits: {X(nvidia.com/gpu): "null"}}}]}`, evalPod(nil, nil), RuleFail, "different structures"},
		{"anyPattern: none matching denies", `
validate:
  anyPattern:
  - metadata: {labels: {kueue.x-k8s.io/queue-name: "?*"}}
  - spec: {containers: [{resources: {limits: {X(nvidia.com/gpu): "null"}}}]}`, evalPod(nil, gpu), RuleFail, ""},
		{"pattern with a variable is unjudged", `validate: {pattern: {metadata: {name: "{{ request.namespace }}"}}}`, evalPod(nil, gpu), RuleUnjudged, ""},
		{"pattern: quantity comparison", `validate: {pattern: {spec: {containers: [{resources: {limits: {nvidia.com/gpu: "<2"}}}]}}}`, evalPod(nil, map[string]any{"nvidia.com/gpu": "4"}), RuleFail, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(tc.rule), &raw))
			r := Rule{Name: "r", Raw: raw}
			got := r.EvaluatePodCreate(tc.req)
			assert.Equal(t, tc.want, got.Outcome, got.Why)
			assert.Contains(t, got.Why, tc.reason)
		})
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
