// Package celmatch evaluates admission matchConditions (of a webhook, a
// ValidatingAdmissionPolicy or a Kyverno CEL PolicyException) with the API server's own
// CEL environment and matcher (k8s.io/apiserver admission/plugin/webhook/matchconditions),
// against the CREATE of a pod, so that a condition that skips such pods is seen without
// sending one.
package celmatch

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
)

// Result is the matcher's verdict for one request.
type Result struct {
	// Matches: the request reaches the webhook (or the exception applies).
	Matches bool
	// Failed names the condition that evaluated to false.
	Failed string
	// Err: a condition errored and the failure policy is Fail (the request is rejected).
	Err error
}

var compiler = cel.NewConditionCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion(), true))

// TenantPod is a pod a tenant could create in ns: no labels, one container requesting
// one unit of a GPU resource, created by the namespace's default ServiceAccount.
func TenantPod(ns, resource string) (*corev1.Pod, user.Info) {
	q := corev1.ResourceList{corev1.ResourceName(resource): *resourceOne()}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gpu-pod"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "registry.example/train:1",
			Resources: corev1.ResourceRequirements{Requests: q, Limits: q}}}},
	}
	u := &user.DefaultInfo{Name: fmt.Sprintf("system:serviceaccount:%s:default", ns),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	return pod, u
}

// Matcher is a compiled set of match conditions.
type Matcher struct {
	m    matchconditions.Matcher
	none bool
	// perNamespace: some condition may read the namespace or the requester (whose
	// ServiceAccount name holds the namespace); otherwise one answer holds for every
	// namespace's TenantPod.
	perNamespace bool
}

// PerNamespace reports whether the answer for a TenantPod may differ by namespace.
func (m *Matcher) PerNamespace() bool { return m.perNamespace }

// Compile compiles conditions as the API server does for a webhook or policy named name
// with the failure policy fp (nil: Fail). Compile once, match many requests.
func Compile(name string, conds []admissionv1.MatchCondition, fp *admissionv1.FailurePolicyType) *Matcher {
	if len(conds) == 0 {
		return &Matcher{none: true}
	}
	exprs := make([]cel.ExpressionAccessor, len(conds))
	perNS := false
	for i, c := range conds {
		exprs[i] = &matchconditions.MatchCondition{Name: c.Name, Expression: c.Expression}
		perNS = perNS || strings.Contains(c.Expression, "amespace") || strings.Contains(c.Expression, "userInfo") || strings.Contains(c.Expression, "authorizer")
	}
	if fp == nil {
		f := admissionv1.Fail
		fp = &f
	}
	return &Matcher{perNamespace: perNS, m: matchconditions.NewMatcher(compiler.CompileCondition(exprs, cel.OptionalVariableDeclarations{HasAuthorizer: true, StrictCost: true}, environment.StoredExpressions),
		fp, "webhook", "validating", name)}
}

// PodCreate evaluates the conditions on the CREATE of pod by requester. A condition that
// calls the authorizer errors (who may do what is not in a snapshot): the failure policy
// then decides, and Err or a non-match says it could not be judged.
func (m *Matcher) PodCreate(pod *corev1.Pod, requester user.Info) Result {
	if m.none {
		return Result{Matches: true}
	}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	attr := admission.NewAttributesRecord(pod, nil, gvk, pod.Namespace, pod.Name, schema.GroupVersionResource{Version: "v1", Resource: "pods"}, "",
		admission.Create, &metav1.CreateOptions{}, false, requester)
	va, err := admission.NewVersionedAttributes(attr, gvk, nil)
	if err != nil {
		return Result{Err: err}
	}
	r := m.m.Match(context.Background(), va, nil, nil)
	return Result{Matches: r.Matches, Failed: r.FailedConditionName, Err: r.Error}
}

// MatchPodCreate compiles and evaluates in one go (see Compile and PodCreate).
func MatchPodCreate(name string, conds []admissionv1.MatchCondition, fp *admissionv1.FailurePolicyType, pod *corev1.Pod, requester user.Info) Result {
	return Compile(name, conds, fp).PodCreate(pod, requester)
}

func resourceOne() *resource.Quantity { q := resource.MustParse("1"); return &q }
