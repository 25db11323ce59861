package sr2

import (
	"fmt"
	"sort"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Helpers for the SR2 tests, prefixed sr2 because the package's other test files share
// the namespace.

var sr2Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func sr2NS(name string, lbls map[string]string) *corev1.Namespace {
	l := map[string]string{corev1.LabelMetadataName: name}
	for k, v := range lbls {
		l[k] = v
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

func sr2Managed(name string) *corev1.Namespace {
	return sr2NS(name, map[string]string{"llm-platform/kueue-managed": "true"})
}

// sr2Platform is the usual namespace set: two managed tenants, serving (labelled managed
// but excluded by default) and an unmanaged tenant.
func sr2Platform() []any {
	return []any{sr2Managed("team-research"), sr2Managed("team-search"), sr2Managed("serving"), sr2NS("team-web", nil)}
}

type sr2PodOpt func(*corev1.Pod)

func sr2Pod(ns, name string, opts ...sr2PodOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func sr2Qty(n int64) resource.Quantity { return *resource.NewQuantity(n, resource.DecimalSI) }

// sr2Requests sets requests (and equal limits) of the first container.
func sr2Requests(res string, n int64) sr2PodOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceName(res): sr2Qty(n)}
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceName(res): sr2Qty(n)}
	}
}

func sr2GPU(n int64) sr2PodOpt { return sr2Requests("nvidia.com/gpu", n) }

func sr2Labels(kv ...string) sr2PodOpt {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func sr2Queue(q string) sr2PodOpt { return sr2Labels("kueue.x-k8s.io/queue-name", q) }

func sr2OwnedBy(kind, name string, uid types.UID) sr2PodOpt {
	return func(p *corev1.Pod) {
		t := true
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: sr2OwnerAPIVersion(kind), Kind: kind, Name: name, UID: uid, Controller: &t})
	}
}

// sr2PlainOwnedBy adds an owner reference without controller: true, as any client may
// put on its own pod.
func sr2PlainOwnedBy(kind, name string, uid types.UID, controller *bool) sr2PodOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: sr2OwnerAPIVersion(kind), Kind: kind, Name: name, UID: uid, Controller: controller})
	}
}

func sr2Phase(ph corev1.PodPhase) sr2PodOpt {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}

func sr2Gated() sr2PodOpt {
	return func(p *corev1.Pod) {
		p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "kueue.x-k8s.io/admission"})
	}
}

func sr2OwnerAPIVersion(kind string) string {
	switch kind {
	case "Job":
		return "batch/v1"
	case "JobSet":
		return "jobset.x-k8s.io/v1alpha2"
	case "ReplicaSet", "StatefulSet", "Deployment":
		return "apps/v1"
	case "RayCluster":
		return "ray.io/v1"
	case "Pod":
		return "v1"
	}
	return "example.com/v1"
}

// sr2Owner is a pod owner; ownerOf links it to its own controller.
func sr2Owner(ns, kind, name string, uid types.UID, lbls map[string]string, ownerOf ...metav1.OwnerReference) *auditor.Owner {
	return &auditor.Owner{APIVersion: sr2OwnerAPIVersion(kind), Kind: kind, Namespace: ns, Name: name, UID: uid, Labels: lbls, OwnerReferences: ownerOf}
}

func sr2Ctrl(kind, name string, uid types.UID) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: sr2OwnerAPIVersion(kind), Kind: kind, Name: name, UID: uid, Controller: &t}
}

// sr2Obj parses a YAML literal into an unstructured object.
func sr2Obj(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(doc), &m))
	return &unstructured.Unstructured{Object: m}
}

func sr2Unavailable(id string, st auditor.AvailabilityState) map[string]auditor.Availability {
	return map[string]auditor.Availability{id: {State: st, Message: "test"}}
}

// sr2Keys renders findings as "discriminator-or-object severity" strings, sorted.
// sr2AssertFindings checks the result's findings as sr2Keys (none when want is nil) and
// that their messages hold each of contains.
func sr2AssertFindings(t *testing.T, res auditor.Result, want, contains []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	assert.Equal(t, want, sr2Keys(res.Findings), "%s", sr2Messages(res.Findings))
	for _, c := range contains {
		assert.Contains(t, sr2Messages(res.Findings), c)
	}
}

func sr2Keys(fs []auditor.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		k := f.Object.String()
		if f.Discriminator != "" {
			k += "#" + f.Discriminator
		}
		out = append(out, fmt.Sprintf("%s %s", k, f.Severity))
	}
	sort.Strings(out)
	return out
}

func sr2Messages(fs []auditor.Finding) string {
	var s string
	for _, f := range fs {
		s += f.Message + "\n"
	}
	return s
}

// sr2Eval runs one rule with the default configuration, requiring that it never panics.
func sr2Eval(t testing.TB, mk func(auditor.Config) auditor.Rule, s *auditor.Snapshot) auditor.Result {
	t.Helper()
	r := mk(auditor.DefaultConfig())
	var res auditor.Result
	require.NotPanics(t, func() { res = r.Evaluate(s) })
	for _, f := range res.Findings {
		require.Equal(t, r.Meta().ID, f.Rule)
		require.Equal(t, auditor.SR2, f.Control)
		require.NotEmpty(t, f.Remediation)
	}
	return res
}

// sr2VAP is the gate as a ValidatingAdmissionPolicy, as it should be: Pod creates in
// the managed namespaces, a check naming the GPU resources and the queue label; muts
// adjust it.
func sr2VAP(muts ...func(*admissionv1.ValidatingAdmissionPolicy)) *admissionv1.ValidatingAdmissionPolicy {
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
			Validations: []admissionv1.Validation{{Expression: "!((object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])).exists(c, has(c.resources.limits) && " +
				"c.resources.limits.exists(r, r.startsWith('nvidia.com/') || r == 'amd.com/gpu')) || " +
				"(has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0)) || (has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels)"}},
		},
	}
	for _, m := range muts {
		m(p)
	}
	return p
}

// sr2Deny are the binding actions that make the ValidatingAdmissionPolicy gate deny.
var sr2Deny = []admissionv1.ValidationAction{admissionv1.Deny}

// sr2Binding binds the ValidatingAdmissionPolicy gate with actions, scoped by mr (nil:
// the policy's own match).
func sr2Binding(actions []admissionv1.ValidationAction, mr *admissionv1.MatchResources) *admissionv1.ValidatingAdmissionPolicyBinding {
	return &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "require-kueue-queue-name"},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "require-kueue-queue-name", ValidationActions: actions, MatchResources: mr}}
}
