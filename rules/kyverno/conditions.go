package kyverno

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	jmespath "github.com/kyverno/go-jmespath"

	"github.com/llm-platform/enforcement-auditor/rules/kyverno/operator"
)

// Kyverno's variables and conditions, as its engine evaluates them at admission (kyverno
// v1.15.2 pkg/engine/variables vars.go and evaluate.go, pkg/engine/context evaluate.go):
// a "{{ expr }}" in a condition's key or value is a JMESPath query over the request's
// JSON context, run by Kyverno's fork of go-jmespath (which reports a missing field as
// NotFoundError); a string that is one variable becomes the query's value, a variable
// inside a longer string is replaced by its text (JSON for a non-string). In conditions
// (preconditions and deny conditions alike) a variable that does not resolve reads as the
// empty string (newPreconditionsVariableResolver). The operators are Kyverno's own
// (package operator).

// regexVariables is kyverno pkg/engine/variables/regex RegexVariables.
var regexVariables = regexp.MustCompile(`(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})`)

// AdmissionRequest is the part of an admission request Kyverno's JSON context holds
// under request (and serviceAccountName / serviceAccountNamespace beside it).
type AdmissionRequest struct {
	Namespace, Name string
	Operation       string
	Username        string
	Groups          []string
	// Object is the pod as the API server passes it to validating webhooks (defaulted).
	Object map[string]any
}

// jsonContext builds the document Kyverno's queries run over, with JSON number types
// (float64), as Kyverno's context holds it.
func (r AdmissionRequest) jsonContext() (map[string]any, error) {
	req := map[string]any{
		"operation": r.Operation, "namespace": r.Namespace, "name": r.Name,
		"kind":     map[string]any{"group": "", "version": "v1", "kind": "Pod"},
		"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"},
		"userInfo": map[string]any{"username": r.Username, "groups": r.Groups},
		"object":   r.Object, "oldObject": nil, "dryRun": false,
	}
	sa, saNS := "", ""
	if rest, ok := strings.CutPrefix(r.Username, "system:serviceaccount:"); ok {
		saNS, sa, _ = strings.Cut(rest, ":")
	}
	doc := map[string]any{"request": req, "serviceAccountName": sa, "serviceAccountNamespace": saNS}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(b, &out)
}

// errUnjudged marks what the auditor cannot evaluate as Kyverno would.
type errUnjudged struct{ why string }

func (e errUnjudged) Error() string { return e.why }

// Unjudged reports whether err says the auditor could not evaluate something.
func Unjudged(err error) bool {
	var u errUnjudged
	return errors.As(err, &u)
}

// functions are go-jmespath's built-ins plus the Kyverno functions the auditor knows
// (kyverno pkg/engine/jmespath functions.go); a query calling another one is unjudged.
var functions = func() *jmespath.FunctionCaller {
	fc := jmespath.NewFunctionCaller()
	str := []jmespath.ArgSpec{{Types: []jmespath.JpType{jmespath.JpString}}}
	fc.Register(jmespath.FunctionEntry{Name: "to_upper", Arguments: str, Handler: func(a []any) (any, error) { return strings.ToUpper(a[0].(string)), nil }})
	fc.Register(jmespath.FunctionEntry{Name: "to_lower", Arguments: str, Handler: func(a []any) (any, error) { return strings.ToLower(a[0].(string)), nil }})
	two := []jmespath.ArgSpec{{Types: []jmespath.JpType{jmespath.JpString}}, {Types: []jmespath.JpType{jmespath.JpString}}}
	fc.Register(jmespath.FunctionEntry{Name: "equal_fold", Arguments: two, Handler: func(a []any) (any, error) { return strings.EqualFold(a[0].(string), a[1].(string)), nil }})
	fc.Register(jmespath.FunctionEntry{Name: "split", Arguments: two, Handler: func(a []any) (any, error) {
		var out []any
		for _, s := range strings.Split(a[0].(string), a[1].(string)) {
			out = append(out, s)
		}
		return out, nil
	}})
	return fc
}()

// knownRoots are the context variables the auditor builds as Kyverno does.
var knownRoots = map[string]bool{"request": true, "serviceAccountName": true, "serviceAccountNamespace": true}

// query resolves one variable. In conditions an unresolved variable reads "".
func query(expr string, ctx map[string]any) (any, error) {
	ast, err := jmespath.NewParser().Parse(expr)
	if err != nil {
		return "", nil // a query that does not parse reads "" in conditions, as any resolver error
	}
	var roots []string
	rootFields(ast, true, &roots)
	for _, root := range roots {
		if !knownRoots[root] {
			return nil, errUnjudged{fmt.Sprintf("variable {{%s}} reads %q, which the auditor does not build (context entries, images, element)", expr, root)}
		}
	}
	if strings.Contains(expr, "request.roles") || strings.Contains(expr, "request.clusterRoles") {
		return nil, errUnjudged{fmt.Sprintf("variable {{%s}} needs the requester's Roles, which the auditor does not resolve", expr)}
	}
	v, err := jmespath.Search(expr, ctx, jmespath.WithFunctionCaller(functions))
	if err != nil {
		var nf jmespath.NotFoundError
		if errors.As(err, &nf) {
			return "", nil
		}
		if strings.HasPrefix(err.Error(), "unknown function") {
			return nil, errUnjudged{fmt.Sprintf("variable {{%s}} calls a Kyverno function the auditor does not evaluate (%v)", expr, err)}
		}
		return "", nil // any other error also reads "" in conditions
	}
	return v, nil
}

// rootFields collects the fields a query reads from the context's top level: the left
// end of every path evaluated against the root (function arguments, and/or/not,
// comparisons, multi-selects at the root), not the relative parts.
func rootFields(n jmespath.ASTNode, atRoot bool, out *[]string) {
	switch n.NodeType {
	case jmespath.ASTField:
		if atRoot {
			*out = append(*out, fmt.Sprint(n.Value))
		}
	case jmespath.ASTSubexpression, jmespath.ASTIndexExpression, jmespath.ASTProjection, jmespath.ASTValueProjection,
		jmespath.ASTFilterProjection, jmespath.ASTFlatten, jmespath.ASTPipe:
		for i, c := range n.Children {
			rootFields(c, atRoot && i == 0, out)
		}
	case jmespath.ASTFunctionExpression, jmespath.ASTOrExpression, jmespath.ASTAndExpression, jmespath.ASTNotExpression,
		jmespath.ASTComparator, jmespath.ASTMultiSelectList, jmespath.ASTMultiSelectHash, jmespath.ASTKeyValPair:
		for _, c := range n.Children {
			rootFields(c, atRoot, out)
		}
	}
}

// substitute replaces the variables in a condition's key or value (JSON data).
func substitute(doc any, ctx map[string]any) (any, error) {
	switch t := doc.(type) {
	case string:
		return substituteString(t, ctx)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			v, err := substitute(e, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			nk, err := substituteString(k, ctx)
			if err != nil {
				return nil, err
			}
			v, err := substitute(e, ctx)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(nk)] = v
		}
		return out, nil
	}
	return doc, nil
}

func substituteString(value string, ctx map[string]any) (any, error) {
	for range 10 { // nested variables are substituted again, as Kyverno does
		vars := regexVariables.FindAllString(value, -1)
		if len(vars) == 0 {
			break
		}
		for _, v := range vars {
			initial := strings.HasPrefix(v, "{{")
			old := v
			if !initial {
				v = v[1:]
			}
			expr := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v[2:len(v)-2]), "-"))
			res, err := query(expr, ctx)
			if err != nil {
				return nil, err
			}
			if value == v {
				return res, nil
			}
			text, ok := res.(string)
			if !ok {
				b, err := json.Marshal(res)
				if err != nil {
					return nil, err
				}
				text = string(b)
			}
			prefix := ""
			if !initial {
				prefix = old[:1]
			}
			value = strings.Replace(value, old, prefix+text, 1)
		}
	}
	return strings.ReplaceAll(value, "\\{{", "{{"), nil
}

// toJSON round-trips policy data through JSON, as Kyverno reads conditions
// (apiextensions.JSON): numbers become float64.
func toJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// evalConditions evaluates a preconditions or deny.conditions block: {any, all} or the
// legacy list (every condition must hold). detail says which condition decided and how.
func evalConditions(block any, path string, ctx map[string]any) (bool, string, error) {
	block = toJSON(block)
	switch t := block.(type) {
	case []any:
		return evalAll(t, path, ctx)
	case map[string]any:
		result, detail := true, ""
		if anyC, ok := t["any"].([]any); ok && t["any"] != nil {
			var falses []string
			ok := false
			for i, c := range anyC {
				v, d, err := evalCondition(c, fmt.Sprintf("%s.any[%d]", path, i), ctx)
				if err != nil {
					return false, "", err
				}
				if v {
					ok, detail = true, d
					break
				}
				falses = append(falses, d)
			}
			if !ok {
				return false, "none of " + path + ".any holds: " + strings.Join(falses, "; "), nil
			}
		}
		if allC, ok := t["all"].([]any); ok {
			v, d, err := evalAll(allC, path+".all", ctx)
			if err != nil || !v {
				return v, d, err
			}
			if detail == "" {
				detail = d
			}
		}
		return result, detail, nil
	case nil:
		return true, path + " is empty", nil
	}
	return false, "", errUnjudged{fmt.Sprintf("%s is neither a list nor an any/all block", path)}
}

func evalAll(conds []any, path string, ctx map[string]any) (bool, string, error) {
	var trues []string
	for i, c := range conds {
		v, d, err := evalCondition(c, fmt.Sprintf("%s[%d]", path, i), ctx)
		if err != nil {
			return false, "", err
		}
		if !v {
			return false, d, nil
		}
		trues = append(trues, d)
	}
	return true, strings.Join(trues, "; "), nil
}

func evalCondition(c any, path string, ctx map[string]any) (bool, string, error) {
	m, ok := c.(map[string]any)
	if !ok {
		return false, "", errUnjudged{path + " is not a condition"}
	}
	op, _ := m["operator"].(string)
	key, err := substitute(m["key"], ctx)
	if err != nil {
		return false, "", err
	}
	value, err := substitute(m["value"], ctx)
	if err != nil {
		return false, "", err
	}
	res, known, perr := operator.Evaluate(op, key, value)
	if perr != nil {
		return false, "", errUnjudged{fmt.Sprintf("%s: %v", path, perr)}
	}
	if !known {
		return false, "", errUnjudged{fmt.Sprintf("%s has operator %q, which Kyverno does not know (it rejects the policy)", path, op)}
	}
	detail := fmt.Sprintf("%s %s %s %s is %t", path, describeOperand(m["key"], key), op, describeOperand(m["value"], value), res)
	return res, detail, nil
}

// describeOperand shows an operand as written and, when a variable changed it, its value.
func describeOperand(raw, subst any) string {
	w := compactJSON(raw)
	if s := compactJSON(subst); s != w {
		return fmt.Sprintf("%s (= %s)", w, s)
	}
	return w
}

func compactJSON(v any) string {
	if s, ok := v.(string); ok {
		s = strings.Join(strings.Fields(s), " ")
		if r := []rune(s); len(r) > 140 {
			s = string(r[:140]) + "..."
		}
		return "`" + s + "`"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// RuleOutcome is what one validate rule does with a request.
type RuleOutcome int

const (
	RulePass     RuleOutcome = iota // the rule admits the request
	RuleFail                        // the rule denies it (in Enforce)
	RuleSkip                        // a precondition is false: the rule does not apply
	RuleUnjudged                    // the auditor cannot evaluate the rule as Kyverno would
)

// RuleResult is a rule's outcome on a request and why.
type RuleResult struct {
	Outcome RuleOutcome
	Why     string
}

// EvaluatePodCreate evaluates a validate rule of a ClusterPolicy on a pod CREATE the rule
// matches, as Kyverno's engine does (pkg/engine/handlers/validation): the rule's context
// entries, then its preconditions (false: skipped), then its check: deny.conditions
// (true: denied) or validate.pattern / anyPattern. A rule whose context or check needs the
// API (apiCall, configMap, globalReference) or that the auditor does not evaluate
// (foreach, podSecurity, manifests, assert) is RuleUnjudged, never a denial.
func (r Rule) EvaluatePodCreate(req AdmissionRequest) RuleResult {
	ctx, err := req.jsonContext()
	if err != nil {
		return RuleResult{RuleUnjudged, err.Error()}
	}
	if entries, ok := r.Raw["context"].([]any); ok && len(entries) > 0 {
		var kinds []string
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				for k := range m {
					if k != "name" {
						kinds = append(kinds, k)
					}
				}
			}
		}
		sort.Strings(kinds)
		return RuleResult{RuleUnjudged, fmt.Sprintf("its context entries (%s) are not evaluated: apiCall, configMap and globalReference need the API", strings.Join(kinds, ", "))}
	}
	if _, ok := r.Raw["celPreconditions"]; ok {
		return RuleResult{RuleUnjudged, "its celPreconditions are not evaluated"}
	}
	if pre, ok := r.Raw["preconditions"]; ok {
		holds, detail, err := evalConditions(pre, "preconditions", ctx)
		if err != nil {
			return RuleResult{RuleUnjudged, err.Error()}
		}
		if !holds {
			return RuleResult{RuleSkip, fmt.Sprintf("rule %s does not apply: %s", r.Name, detail)}
		}
	}
	v, _ := r.Raw["validate"].(map[string]any)
	switch {
	case v["deny"] != nil:
		d, _ := v["deny"].(map[string]any)
		conds, ok := d["conditions"]
		if !ok || conds == nil {
			return RuleResult{RuleFail, fmt.Sprintf("rule %s denies every request it applies to (deny without conditions)", r.Name)}
		}
		deny, detail, err := evalConditions(conds, "validate.deny.conditions", ctx)
		switch {
		case err != nil:
			return RuleResult{RuleUnjudged, err.Error()}
		case deny:
			return RuleResult{RuleFail, fmt.Sprintf("rule %s denies it: %s", r.Name, detail)}
		}
		return RuleResult{RulePass, fmt.Sprintf("rule %s's deny conditions are false: %s", r.Name, detail)}
	case v["pattern"] != nil || v["anyPattern"] != nil:
		return r.evaluatePatterns(v, req.Object)
	case v["cel"] != nil:
		return RuleResult{RuleUnjudged, "validate.cel is evaluated by the caller"}
	}
	var kinds []string
	for k := range v {
		if k != "message" && k != "failureAction" && k != "failureActionOverrides" && k != "allowExistingViolations" {
			kinds = append(kinds, "validate."+k)
		}
	}
	sort.Strings(kinds)
	return RuleResult{RuleUnjudged, fmt.Sprintf("its check (%s) is not evaluated by the auditor", strings.Join(kinds, ", "))}
}
