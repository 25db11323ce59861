package probe

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

const guardUser = "system:serviceaccount:security-tools:enforcement-auditor"

// shippedGuard decodes the probes component's policy and binding, as shipped.
func shippedGuard(t *testing.T) (*admissionv1.ValidatingAdmissionPolicy, *admissionv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deploy", "components", "probes", "admission-policy.yaml"))
	require.NoError(t, err)
	docs := strings.Split(string(b), "\n---\n")
	require.Len(t, docs, 2)
	p := &admissionv1.ValidatingAdmissionPolicy{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[0]), p))
	bd := &admissionv1.ValidatingAdmissionPolicyBinding{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(docs[1]), bd))
	// Installed under security-tools (what kustomize's name reference does).
	bd.Spec.ParamRef.Namespace = "security-tools"
	return p, bd
}

func TestCheckGuardShipped(t *testing.T) {
	p, b := shippedGuard(t)
	assert.Equal(t, GuardPolicyName, p.Name)
	assert.Equal(t, GuardIdentityExpression, p.Spec.MatchConditions[0].Expression, "the component ships the expression the auditor looks for")
	vaps := []*admissionv1.ValidatingAdmissionPolicy{p}
	bindings := []*admissionv1.ValidatingAdmissionPolicyBinding{b}
	require.NoError(t, CheckGuard(guardUser, vaps, bindings))

	err := CheckGuard("system:serviceaccount:enforcement-auditor:enforcement-auditor", vaps, bindings)
	require.Error(t, err, "the binding names another namespace's account")
	assert.Contains(t, err.Error(), "names another ServiceAccount (paramRef security-tools/enforcement-auditor, the auditor is enforcement-auditor/enforcement-auditor)")

	err = CheckGuard(guardUser, nil, bindings)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "guard ValidatingAdmissionPolicy enforcement-auditor-probe-dry-run-only not found")
	err = CheckGuard(guardUser, vaps, nil)
	require.Error(t, err, "a policy without a binding does nothing")
	assert.Contains(t, err.Error(), "guard ValidatingAdmissionPolicy enforcement-auditor-probe-dry-run-only has no binding")
	weak := p.DeepCopy()
	weak.Spec.Validations[0].Expression = "true"
	err = CheckGuard(guardUser, []*admissionv1.ValidatingAdmissionPolicy{weak}, bindings)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ValidatingAdmissionPolicy enforcement-auditor-probe-dry-run-only is not a guard for "+guardUser)

	deleting := p.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	assert.Error(t, CheckGuard(guardUser, []*admissionv1.ValidatingAdmissionPolicy{deleting}, bindings), "a policy being deleted")
}

// Every weakening of the policy or the binding makes it no guard.
func TestCheckGuardWeakened(t *testing.T) {
	ignore := admissionv1.Ignore
	audit := []admissionv1.ValidationAction{admissionv1.Audit}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
	policy := map[string]func(*admissionv1.ValidatingAdmissionPolicy){
		"failurePolicy Ignore":  func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.FailurePolicy = &ignore },
		"no dry-run validation": func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.Validations[0].Expression = "true" },
		"another operation": func(p *admissionv1.ValidatingAdmissionPolicy) {
			p.Spec.MatchConstraints.ResourceRules[0].Operations[0] = admissionv1.Update
		},
		"another resource": func(p *admissionv1.ValidatingAdmissionPolicy) {
			p.Spec.MatchConstraints.ResourceRules[0].Resources = []string{"services"}
		},
		"a namespace selector": func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.MatchConstraints.NamespaceSelector = sel },
		"a second condition": func(p *admissionv1.ValidatingAdmissionPolicy) {
			p.Spec.MatchConditions = append(p.Spec.MatchConditions, p.Spec.MatchConditions[0])
		},
		"another condition":      func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.MatchConditions[0].Expression = "false" },
		"another parameter kind": func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.ParamKind.Kind = "ConfigMap" },
		"excluded pods": func(p *admissionv1.ValidatingAdmissionPolicy) {
			p.Spec.MatchConstraints.ExcludeResourceRules = p.Spec.MatchConstraints.ResourceRules
		},
		"named pods only": func(p *admissionv1.ValidatingAdmissionPolicy) {
			p.Spec.MatchConstraints.ResourceRules[0].ResourceNames = []string{"x"}
		},
	}
	for name, change := range policy {
		t.Run(name, func(t *testing.T) {
			p, b := shippedGuard(t)
			change(p)
			assert.Error(t, CheckGuard(guardUser, []*admissionv1.ValidatingAdmissionPolicy{p}, []*admissionv1.ValidatingAdmissionPolicyBinding{b}))
		})
	}
	binding := map[string]func(*admissionv1.ValidatingAdmissionPolicyBinding){
		"audit only": func(b *admissionv1.ValidatingAdmissionPolicyBinding) { b.Spec.ValidationActions = audit },
		"some namespaces": func(b *admissionv1.ValidatingAdmissionPolicyBinding) {
			b.Spec.MatchResources = &admissionv1.MatchResources{NamespaceSelector: sel}
		},
		"another account":  func(b *admissionv1.ValidatingAdmissionPolicyBinding) { b.Spec.ParamRef.Name = "other" },
		"a param selector": func(b *admissionv1.ValidatingAdmissionPolicyBinding) { b.Spec.ParamRef.Selector = sel },
		"no paramRef":      func(b *admissionv1.ValidatingAdmissionPolicyBinding) { b.Spec.ParamRef = nil },
		"another policy":   func(b *admissionv1.ValidatingAdmissionPolicyBinding) { b.Spec.PolicyName = "other" },
	}
	for name, change := range binding {
		t.Run(name, func(t *testing.T) {
			p, b := shippedGuard(t)
			change(b)
			assert.Error(t, CheckGuard(guardUser, []*admissionv1.ValidatingAdmissionPolicy{p}, []*admissionv1.ValidatingAdmissionPolicyBinding{b}))
		})
	}
	t.Run("wildcards still cover pod creates", func(t *testing.T) {
		p, b := shippedGuard(t)
		r := &p.Spec.MatchConstraints.ResourceRules[0]
		r.APIGroups, r.APIVersions, r.Resources, r.Operations = []string{"*"}, []string{"*"}, []string{"*"}, []admissionv1.OperationType{admissionv1.OperationAll}
		assert.NoError(t, CheckGuard(guardUser, []*admissionv1.ValidatingAdmissionPolicy{p}, []*admissionv1.ValidatingAdmissionPolicyBinding{b}))
	})
}

// A guard written for one user (no parameter) is recognised for that user only.
func TestCheckGuardLiteralUser(t *testing.T) {
	p, b := shippedGuard(t)
	p.Spec.ParamKind = nil
	b.Spec.ParamRef = nil
	p.Spec.MatchConditions[0].Expression = `request.userInfo.username == "` + guardUser + `"`
	vaps, bindings := []*admissionv1.ValidatingAdmissionPolicy{p}, []*admissionv1.ValidatingAdmissionPolicyBinding{b}
	assert.NoError(t, CheckGuard(guardUser, vaps, bindings))
	assert.Error(t, CheckGuard("system:serviceaccount:security-tools:other", vaps, bindings))
	p.Spec.MatchConditions[0].Expression = `request.userInfo.username == 'auditor-admin'`
	assert.NoError(t, CheckGuard("auditor-admin", vaps, bindings))
}

func TestParseServiceAccountUsername(t *testing.T) {
	ns, name, ok := ParseServiceAccountUsername(ServiceAccountUsername("a", "b"))
	assert.True(t, ok)
	assert.Equal(t, [2]string{"a", "b"}, [2]string{ns, name})
	for _, u := range []string{"admin", "system:serviceaccount:a", "system:serviceaccount::b", "system:serviceaccount:a:", "system:serviceaccount:a:b:c"} {
		_, _, ok := ParseServiceAccountUsername(u)
		assert.False(t, ok, u)
	}
}

// Without its guard the prober sends nothing and says why, for every namespace.
func TestAdmissionProbeRefusesWithoutGuard(t *testing.T) {
	c, seen := admissionClient(func(p *corev1.Pod) (runtime.Object, error) { return p, nil })
	missing := errors.New("guard ValidatingAdmissionPolicy x not found")
	var guardErr error = missing
	p, err := NewAdmissionProber(AdmissionProberOptions{Client: c, Namespaces: staticNamespaces("b", "a"),
		Now: func() time.Time { return admissionNow }, Guard: func(context.Context) error { return guardErr }})
	require.NoError(t, err)
	res, err := p.Probe(context.Background())
	require.NoError(t, err)
	require.Len(t, res, 2)
	for _, r := range res {
		assert.Equal(t, GuardRefused+missing.Error(), r.Error)
		assert.Equal(t, missing.Error(), r.Unguarded)
		assert.False(t, r.Admitted)
		assert.Equal(t, admissionNow, r.At)
	}
	assert.Empty(t, *seen, "no create sent without the guard")

	guardErr = nil
	res, err = p.Probe(context.Background())
	require.NoError(t, err)
	require.Len(t, res, 2)
	assert.True(t, res[0].Admitted)
	assert.Len(t, *seen, 2)
}
