package probe

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The guard: RBAC cannot grant "create pods, dry run only", so the probes component
// pairs the admission probe's create grant with a ValidatingAdmissionPolicy that denies
// every pod create by the auditor's account that is not a dry run. The auditor checks
// that it exists before it probes (CheckGuard).
const (
	// GuardPolicyName names the policy and its binding in deploy/ and the Helm chart.
	GuardPolicyName = "enforcement-auditor-probe-dry-run-only"
	// GuardIdentityExpression is the policy's match condition: the request comes from the
	// ServiceAccount that the binding names as its parameter (paramKind v1
	// ServiceAccount), so the guard follows the account wherever the install puts it.
	GuardIdentityExpression = `request.userInfo.username == "system:serviceaccount:" + params.metadata.namespace + ":" + params.metadata.name`
	// GuardDryRunExpression is the policy's validation: only dry runs pass.
	GuardDryRunExpression = "request.dryRun == true"
)

// ServiceAccountUsername is the user name the API server gives a ServiceAccount's tokens.
func ServiceAccountUsername(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// ParseServiceAccountUsername splits a ServiceAccount's user name into its namespace
// and name; ok is false for any other user.
func ParseServiceAccountUsername(username string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(username, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, ":")
	if !found || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

// CheckGuard returns nil when policies and bindings hold a guard for the user username:
// a policy that matches every pod CREATE (failurePolicy Fail), whose only match condition
// selects that user, and that validates request.dryRun == true, with a binding that
// denies (validationActions Deny) in every namespace. The user is selected either by the
// shipped form (GuardIdentityExpression, the binding's paramRef naming the user's
// ServiceAccount) or by a literal `request.userInfo.username == "<user>"`. Otherwise the
// error says what is missing, naming the policies it looked at.
func CheckGuard(username string, policies []*admissionv1.ValidatingAdmissionPolicy, bindings []*admissionv1.ValidatingAdmissionPolicyBinding) error {
	byName := map[string]*admissionv1.ValidatingAdmissionPolicy{}
	for _, p := range policies {
		if p != nil && p.DeletionTimestamp == nil {
			byName[p.Name] = p
		}
	}
	var reasons []string
	bs := slices.Clone(bindings)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
	for _, b := range bs {
		if b == nil || b.DeletionTimestamp != nil {
			continue
		}
		p := byName[b.Spec.PolicyName]
		if p == nil || !guardPolicy(p) {
			continue
		}
		if why := guardBinding(b, p, username); why != "" {
			reasons = append(reasons, fmt.Sprintf("binding %s of ValidatingAdmissionPolicy %s %s", b.Name, p.Name, why))
			continue
		}
		return nil
	}
	if len(reasons) > 0 {
		return fmt.Errorf("no guard ValidatingAdmissionPolicy denies non-dry-run pod creates by %s: %s", username, strings.Join(reasons, "; "))
	}
	p, ok := byName[GuardPolicyName]
	switch {
	case !ok:
		return fmt.Errorf("guard ValidatingAdmissionPolicy %s not found (with a binding that denies): pod creates by %s are not limited to dry runs", GuardPolicyName, username)
	case guardPolicy(p):
		return fmt.Errorf("guard ValidatingAdmissionPolicy %s has no binding (ValidatingAdmissionPolicyBinding with policyName %s): pod creates by %s are not limited to dry runs",
			GuardPolicyName, GuardPolicyName, username)
	}
	return fmt.Errorf("ValidatingAdmissionPolicy %s is not a guard for %s (it must match every pod CREATE with failurePolicy Fail, "+
		"select the auditor's account, validate %q, and be bound with validationActions [Deny] in every namespace)", GuardPolicyName, username, GuardDryRunExpression)
}

// guardPolicy reports whether p denies, for the users its match condition selects,
// every pod create that is not a dry run.
func guardPolicy(p *admissionv1.ValidatingAdmissionPolicy) bool {
	s := p.Spec
	if s.FailurePolicy != nil && *s.FailurePolicy != admissionv1.Fail {
		return false
	}
	if len(s.MatchConditions) != 1 || len(s.Variables) > 0 {
		return false
	}
	if !slices.ContainsFunc(s.Validations, func(v admissionv1.Validation) bool { return v.Expression == GuardDryRunExpression }) {
		return false
	}
	mc := s.MatchConstraints
	if mc == nil || !emptySelector(mc.NamespaceSelector) || !emptySelector(mc.ObjectSelector) || len(mc.ExcludeResourceRules) > 0 {
		return false
	}
	return slices.ContainsFunc(mc.ResourceRules, coversPodCreate)
}

// guardBinding returns "" when b binds p, denying, in every namespace, for username;
// else why not.
func guardBinding(b *admissionv1.ValidatingAdmissionPolicyBinding, p *admissionv1.ValidatingAdmissionPolicy, username string) string {
	if !slices.Contains(b.Spec.ValidationActions, admissionv1.Deny) {
		return "does not deny (validationActions lacks Deny)"
	}
	if mr := b.Spec.MatchResources; mr != nil && (!emptySelector(mr.NamespaceSelector) || !emptySelector(mr.ObjectSelector) ||
		len(mr.ResourceRules) > 0 || len(mr.ExcludeResourceRules) > 0) {
		return "is limited by matchResources"
	}
	expr := strings.TrimSpace(p.Spec.MatchConditions[0].Expression)
	if p.Spec.ParamKind == nil {
		for _, q := range []string{`"`, `'`} {
			if expr == "request.userInfo.username == "+q+username+q {
				return ""
			}
		}
		return fmt.Sprintf("matches another identity (%s)", expr)
	}
	if pk := p.Spec.ParamKind; pk.APIVersion != "v1" || pk.Kind != "ServiceAccount" || expr != GuardIdentityExpression {
		return fmt.Sprintf("takes an unknown parameter or condition (paramKind %s %s, %s)", pk.APIVersion, pk.Kind, expr)
	}
	ns, name, ok := ParseServiceAccountUsername(username)
	if !ok {
		return "selects a ServiceAccount, and the auditor runs as another user"
	}
	pr := b.Spec.ParamRef
	if pr == nil || pr.Selector != nil || pr.Name != name || pr.Namespace != ns {
		got := "no paramRef"
		if pr != nil {
			got = fmt.Sprintf("paramRef %s/%s", pr.Namespace, pr.Name)
		}
		return fmt.Sprintf("names another ServiceAccount (%s, the auditor is %s/%s)", got, ns, name)
	}
	return ""
}

func coversPodCreate(r admissionv1.NamedRuleWithOperations) bool {
	if len(r.ResourceNames) > 0 || (r.Scope != nil && *r.Scope != admissionv1.AllScopes && *r.Scope != admissionv1.NamespacedScope) {
		return false
	}
	anyOf := func(list []string, want ...string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return s == "*" || slices.Contains(want, s) })
	}
	ops := make([]string, len(r.Operations))
	for i, o := range r.Operations {
		ops[i] = string(o)
	}
	return anyOf(r.APIGroups, "") && anyOf(r.APIVersions, "v1") && anyOf(r.Resources, "pods") && anyOf(ops, string(admissionv1.Create))
}

// emptySelector reports whether s selects everything.
func emptySelector(s *metav1.LabelSelector) bool {
	return s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0)
}
