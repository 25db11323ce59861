package sr2

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/kueue"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// Every SR2 rule must survive objects whose fields have the wrong type: the rule names the
// object and field (inconclusive) instead of panicking.
func TestSR2RulesTolerateMalformedObjects(t *testing.T) {
	odd := []string{
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: []}`,
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: {rules: [1, "x", {match: [], exclude: 3, validate: "deny"}], validationFailureActionOverrides: {}, admission: "yes", webhookConfiguration: []}, status: {conditions: [{type: Ready, status: 7}], ready: "true"}}`,
		`{apiVersion: kyverno.io/v1, kind: ClusterPolicy, metadata: {name: require-kueue-queue-name}, spec: {rules: [{match: {any: [{resources: {kinds: [1], namespaces: "a", namespaceSelector: "x", selector: {matchLabels: [1]}}}]}, validate: {failureAction: 1, failureActionOverrides: [{action: [], namespaceSelector: {matchExpressions: [{key: k, operator: Bogus}]}}]}}]}}`,
		`{apiVersion: policies.kyverno.io/v1alpha1, kind: ValidatingPolicy, metadata: {name: require-kueue-queue-name}, spec: {matchConstraints: [], validationActions: "Deny", evaluation: {admission: {enabled: "no"}}}, status: {conditionStatus: []}}`,
		`{apiVersion: kueue.x-k8s.io/v1beta2, kind: Workload, metadata: {name: w, namespace: team-search, ownerReferences: "x"}, spec: 1, status: {admission: [], conditions: [1, {type: 2}]}}`,
	}
	objs := append(sr2Platform(),
		sr2Pod("team-search", "p", sr2GPU(1), sr2Queue("q")),
		sr2Webhooks(), sr2Lease(1),
	)
	for _, d := range odd {
		objs = append(objs, sr2Obj(t, d))
	}
	s := snapshottest.New(snapshottest.At(sr2Now), objs)
	for _, mk := range []func(auditor.Config) auditor.Rule{ruleFor(podMissingQueueName), ruleFor(podNotAdmitted), ruleFor(gatePolicyMissing), ruleFor(gatePolicyNotEnforcing), ruleFor(gateBypassed)} {
		res := sr2Eval(t, mk, s)
		if mk(auditor.DefaultConfig()).Meta().ID == "gpu-gate-policy-not-enforcing" {
			assert.NotEmpty(t, res.Inconclusive, "malformed policies are named")
			all := strings.Join(res.Inconclusive, "\n")
			for _, want := range []string{
				"ClusterPolicy require-kueue-queue-name: spec is a list, want an object",
				"ClusterPolicy require-kueue-queue-name: spec.rules[0] is a number, want an object",
				"ClusterPolicy require-kueue-queue-name: spec.admission is a string, want a boolean",
				"ClusterPolicy require-kueue-queue-name: spec.rules[0].match.any[0].resources.kinds[0] is a number, want a string",
				"ValidatingPolicy require-kueue-queue-name: spec.matchConstraints is a list, want an object",
			} {
				assert.Contains(t, all, want)
			}
		}
	}
	// The views themselves never panic on a bare object either.
	assert.NotPanics(t, func() {
		kyverno.NewClusterPolicy(&unstructured.Unstructured{Object: map[string]any{}})
		kyverno.NewValidatingPolicy(&unstructured.Unstructured{Object: map[string]any{}})
		kueue.NewWorkload(&unstructured.Unstructured{Object: map[string]any{}})
	})
}
