package celmatch

import (
	"context"
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"
)

// PolicySpec is what a CEL validating policy (a ValidatingAdmissionPolicy, a Kyverno
// ValidatingPolicy or a Kyverno ClusterPolicy's validate.cel rule) evaluates.
type PolicySpec struct {
	Name            string
	Validations     []admissionv1.Validation
	Variables       []admissionv1.Variable
	MatchConditions []admissionv1.MatchCondition
	FailurePolicy   *admissionv1.FailurePolicyType
	// HasParams: the policy reads params (paramKind), which a snapshot does not resolve.
	HasParams bool
}

// Policy is a CEL validating policy compiled as the API server's ValidatingAdmissionPolicy
// plugin compiles one (k8s.io/apiserver admission/plugin/policy/validating plugin.go
// compilePolicy, strict cost): the same environment, variables composition, match
// conditions and validator.
type Policy struct {
	spec      PolicySpec
	validator validating.Validator
	// compileErr is the first expression that does not compile in the API server's
	// environment (a Kyverno CEL library function, a typo).
	compileErr error
}

var compositionEnv = func() *cel.CompositionEnv {
	env, err := cel.NewCompositionEnv(cel.VariablesTypeName, environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion(), true))
	if err != nil {
		panic(err)
	}
	return env
}()

// CompilePolicy compiles a policy; compile once, validate many requests.
func CompilePolicy(spec PolicySpec) *Policy {
	optionalVars := cel.OptionalVariableDeclarations{HasParams: spec.HasParams, HasAuthorizer: true, StrictCost: true}
	messageVars := cel.OptionalVariableDeclarations{HasParams: spec.HasParams, HasAuthorizer: false, StrictCost: true}
	compiler := cel.NewCompositedCompilerFromTemplate(compositionEnv)
	vars := make([]cel.NamedExpressionAccessor, len(spec.Variables))
	for i, v := range spec.Variables {
		vars[i] = &validating.Variable{Name: v.Name, Expression: v.Expression}
	}
	compiler.CompileAndStoreVariables(vars, optionalVars, environment.StoredExpressions)
	var matcher matchconditions.Matcher
	if len(spec.MatchConditions) > 0 {
		acc := make([]cel.ExpressionAccessor, len(spec.MatchConditions))
		for i := range spec.MatchConditions {
			acc[i] = (*matchconditions.MatchCondition)(&spec.MatchConditions[i])
		}
		matcher = matchconditions.NewMatcher(compiler.CompileCondition(acc, optionalVars, environment.StoredExpressions), spec.FailurePolicy, "policy", "validate", spec.Name)
	}
	validations := make([]cel.ExpressionAccessor, len(spec.Validations))
	messages := make([]cel.ExpressionAccessor, len(spec.Validations))
	for i, v := range spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
	}
	p := &Policy{spec: spec}
	p.compileErr = compileErrors(compiler, spec, optionalVars)
	p.validator = validating.NewValidator(
		compiler.CompileCondition(validations, optionalVars, environment.StoredExpressions), matcher,
		compiler.CompileCondition(nil, optionalVars, environment.StoredExpressions),
		compiler.CompileCondition(messages, messageVars, environment.StoredExpressions),
		spec.FailurePolicy)
	return p
}

// compileErrors compiles every expression alone to find one that does not compile: the
// validator would turn it into an error decision on every request, which says nothing
// about the policy's intent.
func compileErrors(compiler *cel.CompositedCompiler, spec PolicySpec, vars cel.OptionalVariableDeclarations) error {
	var exprs []cel.ExpressionAccessor
	for i := range spec.MatchConditions {
		exprs = append(exprs, (*matchconditions.MatchCondition)(&spec.MatchConditions[i]))
	}
	for _, v := range spec.Validations {
		exprs = append(exprs, &validating.ValidationCondition{Expression: v.Expression})
	}
	for _, v := range spec.Variables {
		exprs = append(exprs, &validating.ValidationCondition{Expression: v.Expression})
	}
	for _, e := range exprs {
		r := compiler.CompileCELExpression(e, vars, environment.StoredExpressions)
		if r.Error != nil {
			return fmt.Errorf("%q does not compile in the API server's CEL environment: %s", e.GetExpression(), r.Error.Detail)
		}
	}
	return nil
}

// Decision is a policy's answer on one request.
type Decision struct {
	// Denied: the request is rejected (a validation is false, or an expression errors
	// under failurePolicy Fail).
	Denied bool
	// Message is the denial's message, or why the request was admitted.
	Message string
	// Unjudged says why the answer is not known (params, an expression that does not
	// compile): neither Denied nor admitted counts.
	Unjudged string
}

// Validate evaluates the policy on the CREATE of pod by requester in ns, as the
// dispatcher does once the policy and a binding match.
func (p *Policy) Validate(pod *corev1.Pod, requester user.Info, ns *corev1.Namespace) Decision {
	if p.spec.HasParams {
		return Decision{Unjudged: "it reads params (paramKind), which the auditor does not resolve"}
	}
	if p.compileErr != nil {
		return Decision{Unjudged: p.compileErr.Error()}
	}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	attr := admission.NewAttributesRecord(pod, nil, gvk, pod.Namespace, pod.Name, gvr, "", admission.Create, &metav1.CreateOptions{}, false, requester)
	va, err := admission.NewVersionedAttributes(attr, gvk, nil)
	if err != nil {
		return Decision{Unjudged: err.Error()}
	}
	res := p.validator.Validate(context.Background(), gvr, va, nil, ns, celconfig.RuntimeCELCostBudget, nil)
	var admitted []string
	for i, d := range res.Decisions {
		switch {
		case d.Action == validating.ActionDeny:
			return Decision{Denied: true, Message: d.Message}
		case d.Evaluation == validating.EvalError:
			return Decision{Message: "an expression errors and failurePolicy is Ignore: " + d.Message}
		case i < len(p.spec.Validations):
			admitted = append(admitted, fmt.Sprintf("validations[%d] `%s` is true", i, oneLine(p.spec.Validations[i].Expression)))
		}
	}
	if len(res.Decisions) == 0 && len(p.spec.MatchConditions) > 0 {
		return Decision{Message: "its matchConditions are false for it"}
	}
	if len(admitted) == 0 {
		return Decision{Message: "it has no validations"}
	}
	return Decision{Message: strings.Join(admitted, ", ")}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		return string(r[:160]) + "..."
	}
	return s
}
