package sr2

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// requestOutcome is a gate's answer on one battery request in one namespace.
type requestOutcome struct {
	Denied   bool
	Unjudged string
	Why      string // why it was denied or admitted
}

// evalFunc evaluates a gate on a request in ns; applies says whether the gate denies
// anything there at all (other checks report where it does not).
type evalFunc func(ns *corev1.Namespace, r batteryRequest, pod *corev1.Pod, requester user.Info) requestOutcome

// evalBattery runs the battery through a gate in every managed namespace where applies
// holds, and turns the answers into the verdict's conditions: a request without the queue
// label that is admitted (critical for the representative GPU resource, graded by what
// the cluster offers for the others), a request with it that is denied, and what could
// not be judged.
func (c gateChecker) evalBattery(v *gateVerdict, what string, applies func(ns *corev1.Namespace) bool, eval evalFunc) {
	type hit struct {
		r   batteryRequest
		nss []string
		why string
	}
	var admitted, denied []*hit
	index := map[string]*hit{}
	unjudged := map[string][]string{}
	var unjudgedOrder []string
	for _, ns := range c.managed {
		if !applies(ns) {
			continue
		}
		for _, r := range c.battery {
			if r.Invalid != "" {
				continue
			}
			pod, requester := r.Pod(ns.Name, c.cfg.QueueNameLabel)
			o := eval(ns, r, pod, requester)
			switch {
			case o.Unjudged != "":
				key := o.Unjudged
				if _, ok := unjudged[key]; !ok {
					unjudgedOrder = append(unjudgedOrder, key)
				}
				unjudged[key] = append(unjudged[key], r.ID+" in "+ns.Name)
				continue
			case o.Denied == r.Labelled:
				k := r.ID + "\x00" + o.Why
				if h, ok := index[k]; ok {
					h.nss = append(h.nss, ns.Name)
					continue
				}
				h := &hit{r: r, nss: []string{ns.Name}, why: o.Why}
				index[k] = h
				if r.Labelled {
					denied = append(denied, h)
				} else {
					admitted = append(admitted, h)
				}
			}
		}
	}
	// A tenant-attribute variant admitted beside the plain pod it varies adds nothing.
	plainAdmitted := slices.ContainsFunc(admitted, func(h *hit) bool {
		return h.r.Base && h.r.Shape == shapeRequestsAndLimits && len(h.r.Attrs.Labels)+len(h.r.Attrs.Annotations) == 0 && h.r.Attrs.Name == ""
	})
	type gapGroup struct {
		nss, why string
		what     []string
		notes    map[string][]string
		order    []string
	}
	var gaps []*gapGroup
	gapIndex := map[string]*gapGroup{}
	gapSev := auditor.SeverityInfo
	for _, h := range admitted {
		if plainAdmitted && (len(h.r.Attrs.Labels)+len(h.r.Attrs.Annotations) > 0 || h.r.Attrs.Name != "") {
			continue
		}
		if h.r.Shape == shapeDRAClaim {
			c.admitsClaim(v, what, h.r, h.nss, h.why)
			continue
		}
		sev, note := c.requestSeverity(h.r)
		if !h.r.Base {
			// Other GPU resources: one coverage finding, graded by the worst. Grouped by
			// where and why they pass, then by how grave each one is.
			what := h.r.Resource
			k := strings.Join(h.nss, ", ") + "\x00" + h.why
			g, ok := gapIndex[k]
			if !ok {
				g = &gapGroup{nss: strings.Join(h.nss, ", "), why: h.why, notes: map[string][]string{}}
				gapIndex[k] = g
				gaps = append(gaps, g)
			}
			g.what = append(g.what, what)
			if _, seen := g.notes[note]; !seen {
				g.order = append(g.order, note)
			}
			g.notes[note] = append(g.notes[note], what)
			gapSev = max(gapSev, sev)
			continue
		}
		v.add("admits "+h.r.ID, sev,
			"Make the gate deny this request: its check must count every GPU resource (containers, init containers; MIG slices and shared GPUs) with a threshold of zero, require the queue label with a non-empty test, and its preconditions must hold for every pod a tenant creates.",
			"%s admits %s in %s: %s%s", what, h.r.Describe(c.cfg.QueueNameLabel), strings.Join(h.nss, ", "), h.why, note)
	}
	if len(gaps) > 0 {
		var names []string
		for _, r := range c.cfg.GPUResources {
			for _, h := range admitted {
				p, wild := strings.CutSuffix(r, "*")
				if !h.r.Base && h.r.Resource != "" && (h.r.Resource == r || wild && strings.HasPrefix(h.r.Resource, p)) {
					names = append(names, r)
					break
				}
			}
		}
		var texts []string
		for _, g := range gaps {
			t := fmt.Sprintf("pods with %s in requests and limits and no queue label are admitted in %s (%s)", strings.Join(g.what, ", "), g.nss, g.why)
			for _, n := range g.order {
				text := strings.TrimPrefix(strings.TrimSpace(n), "; ")
				if inner, ok := strings.CutPrefix(text, "("); ok {
					text = strings.TrimSuffix(inner, ")")
				}
				if text != "" {
					t += fmt.Sprintf("; %s: %s", strings.Join(g.notes[n], ", "), text)
				}
			}
			texts = append(texts, t)
		}
		v.add("gpu-resources", gapSev,
			"Make the check count every configured GPU resource in requests and limits of containers and init containers, e.g. "+
				"a CEL test `r.startsWith('nvidia.com/mig-')` or a JMESPath over the resource names for MIG slices.",
			"%s admits GPU pods without a queue name that ask for %s: %s", what, strings.Join(names, ", "), strings.Join(texts, "; "))
	}
	if len(denied) > 0 {
		// Denying a labelled pod blocks legitimate work (medium); it lets nothing through,
		// which the admitted requests above report.
		var ds []string
		for _, h := range firstHits(denied, 4) {
			ds = append(ds, fmt.Sprintf("%s in %s: %s", h.r.Describe(c.cfg.QueueNameLabel), strings.Join(h.nss, ", "), h.why))
		}
		if len(denied) > 4 {
			ds = append(ds, fmt.Sprintf("and %d more requests carrying the label", len(denied)-4))
		}
		v.add("denies-queued", auditor.SeverityMedium,
			fmt.Sprintf("Make the gate admit pods carrying label %s: the check must deny only when the label is missing or empty.", c.cfg.QueueNameLabel),
			"%s denies pods carrying label %s, which it must admit: %s", what, c.cfg.QueueNameLabel, strings.Join(ds, "; "))
	}
	for _, u := range unjudgedOrder {
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("%s cannot be evaluated on %s: %s", what, strings.Join(firstN(unjudged[u], 4), ", "), u))
	}
}

func firstHits[T any](s []T, n int) []T { return s[:min(len(s), n)] }

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("%d more", len(s)-n))
}

// requestSeverity grades an admitted request: the representative GPU is critical; another
// configured resource is critical when the cluster offers it, hardening otherwise (a DRA
// claim is graded by admitsClaim).
func (c gateChecker) requestSeverity(r batteryRequest) (auditor.Severity, string) {
	if r.Base {
		return auditor.SeverityCritical, ""
	}
	if where := c.offer.Where[r.Resource]; len(where) > 0 {
		how := "offered by"
		if !c.offer.FromNodes {
			how = "requested by"
		}
		return auditor.SeverityCritical, fmt.Sprintf("; the cluster hands it out: %s %s", how, c.offer.evidence([]string{r.Resource}))
	}
	if c.offer.FromNodes {
		offered := "nothing of the configured GPU resources"
		if n := c.offer.names(); len(n) > 0 {
			offered = "only " + strings.Join(n, ", ")
		}
		return auditor.SeverityLow, fmt.Sprintf(" (hardening: the cluster's Nodes offer %s, so no pod can be scheduled on it today)", offered)
	}
	return auditor.SeverityLow, fmt.Sprintf(" (hardening: whether the cluster offers it is unknown, %s, and no pod among the inputs requests it)", c.offer.Reason)
}

// kyvernoRequest is the admission request Kyverno's context holds for a battery pod.
func kyvernoRequest(pod *corev1.Pod, requester user.Info) (kyverno.AdmissionRequest, error) {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(pod)
	if err != nil {
		return kyverno.AdmissionRequest{}, err
	}
	delete(obj, "status")
	return kyverno.AdmissionRequest{Namespace: pod.Namespace, Name: pod.Name, Operation: "CREATE",
		Username: requester.GetName(), Groups: requester.GetGroups(), Object: obj}, nil
}

// clusterPolicyEval evaluates a ClusterPolicy's rules that enforce in ns on a request:
// denied when one denies, unjudged when none denies and one cannot be evaluated.
func (c gateChecker) clusterPolicyEval(p *kyverno.ClusterPolicy) evalFunc {
	celRules := map[int]*celmatch.Policy{}
	return func(ns *corev1.Namespace, r batteryRequest, pod *corev1.Pod, requester user.Info) requestOutcome {
		req, err := kyvernoRequest(pod, requester)
		if err != nil {
			return requestOutcome{Unjudged: err.Error()}
		}
		var whys, unjudged []string
		denying := c.denyingRules(p, ns)
		for _, rule := range denying {
			res := rule.EvaluatePodCreate(req)
			if v, _ := rule.Raw["validate"].(map[string]any); v["cel"] != nil && res.Outcome == kyverno.RuleUnjudged && !strings.HasPrefix(res.Why, "its context") {
				cp, ok := celRules[rule.Index]
				if !ok {
					cp = compileKyvernoCEL(p.Name, rule)
					celRules[rule.Index] = cp
				}
				d := cp.Validate(pod, requester, ns)
				switch {
				case d.Unjudged != "":
					res = kyverno.RuleResult{Outcome: kyverno.RuleUnjudged, Why: "rule " + rule.Name + ": " + d.Unjudged}
				case d.Denied:
					res = kyverno.RuleResult{Outcome: kyverno.RuleFail, Why: fmt.Sprintf("rule %s denies it: %s", rule.Name, d.Message)}
				default:
					res = kyverno.RuleResult{Outcome: kyverno.RulePass, Why: fmt.Sprintf("rule %s's validate.cel admits it: %s", rule.Name, d.Message)}
				}
			}
			switch res.Outcome {
			case kyverno.RuleFail:
				return requestOutcome{Denied: true, Why: res.Why}
			case kyverno.RuleUnjudged:
				unjudged = append(unjudged, fmt.Sprintf("rule %s: %s", rule.Name, res.Why))
			default:
				whys = append(whys, res.Why)
			}
		}
		if len(unjudged) > 0 {
			return requestOutcome{Unjudged: strings.Join(unjudged, "; ")}
		}
		// A rule that would deny it but only audits here is named: the check exists,
		// its failure action lets the pod through.
		for _, rule := range p.Rules {
			if !rule.Validate || !rule.SelectsPods() || slices.ContainsFunc(denying, func(d kyverno.Rule) bool { return d.Index == rule.Index }) {
				continue
			}
			if ok, _ := rule.CoversEveryPodIn(ns); !ok {
				continue
			}
			if rule.EvaluatePodCreate(req).Outcome == kyverno.RuleFail {
				action, from := p.ActionIn(rule, ns, c.kyvernoVersion())
				whys = append(whys, fmt.Sprintf("rule %s (%s) would deny it, but only in an audited rule: its failure action is %s (%s), so the pod is reported, not denied", rule.Name, rule.Path(), action, from))
			}
		}
		return requestOutcome{Why: strings.Join(whys, "; ")}
	}
}

// compileKyvernoCEL compiles a ClusterPolicy rule's validate.cel (expressions,
// variables; paramKind unresolved) with the API server's CEL environment, as Kyverno
// does for these rules.
func compileKyvernoCEL(policy string, rule kyverno.Rule) *celmatch.Policy {
	v, _ := rule.Raw["validate"].(map[string]any)
	cm, _ := v["cel"].(map[string]any)
	spec := celmatch.PolicySpec{Name: policy + "/" + rule.Name}
	convert(cm["expressions"], &spec.Validations)
	convert(cm["variables"], &spec.Variables)
	_, spec.HasParams = cm["paramKind"]
	return celmatch.CompilePolicy(spec)
}

func convert[T any](in any, out *[]T) {
	l, _ := in.([]any)
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		var v T
		if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &v) == nil {
			*out = append(*out, v)
		}
	}
}

// celPolicyEval evaluates a compiled CEL policy on a request.
func celPolicyEval(cp *celmatch.Policy) evalFunc {
	return func(ns *corev1.Namespace, _ batteryRequest, pod *corev1.Pod, requester user.Info) requestOutcome {
		d := cp.Validate(pod, requester, ns)
		if d.Unjudged != "" {
			return requestOutcome{Unjudged: d.Unjudged}
		}
		return requestOutcome{Denied: d.Denied, Why: d.Message}
	}
}

// vapSpec is the CEL of a ValidatingAdmissionPolicy.
func vapSpec(p *admissionv1.ValidatingAdmissionPolicy) celmatch.PolicySpec {
	return celmatch.PolicySpec{Name: p.Name, Validations: p.Spec.Validations, Variables: p.Spec.Variables,
		MatchConditions: p.Spec.MatchConditions, FailurePolicy: p.Spec.FailurePolicy, HasParams: p.Spec.ParamKind != nil}
}

// literalRE finds the quoted string literals of CEL expressions and selectors' text.
var literalRE = regexp.MustCompile(`['"]([A-Za-z0-9][A-Za-z0-9._/-]{0,62})['"]`)

// pathKeyRE finds a label or annotation read by path, `metadata.labels.team` (JMESPath
// and CEL): a tenant sets the key the policy reads. Quoted keys are found as literals.
var pathKeyRE = regexp.MustCompile(`\b(labels|annotations)\.([A-Za-z_][A-Za-z0-9_]*)`)

// tenantAttrs derives the tenant-controlled attribute variants of the battery from the
// literals the gates and exceptions test (a label key, its value) and the label and
// annotation keys they read by path: a tenant sets exactly the labels, annotations and
// names a policy looks for. Keys read by path (set to "true") come first; literal pairs (key, value) and
// single keys (set to "true") become labels and annotations; a literal is also tried as
// the pod's name. At most 12 variants.
func tenantAttrs(texts []string, selectors []map[string]string, queueLabel string) []batteryAttrs {
	var out []batteryAttrs
	seen := map[string]bool{}
	push := func(a batteryAttrs) {
		// Only what the API server accepts: a tenant cannot set an invalid label.
		for k, v := range a.Labels {
			if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
				return
			}
		}
		for k := range a.Annotations {
			if len(validation.IsQualifiedName(strings.ToLower(k))) > 0 {
				return
			}
		}
		k := fmt.Sprint(a)
		if seen[k] || len(out) >= 12 {
			return
		}
		seen[k] = true
		out = append(out, a)
	}
	for _, sel := range selectors {
		if len(sel) > 0 {
			push(batteryAttrs{Labels: sel, Annotations: sel})
		}
	}
	var lits []string
	for _, t := range texts {
		for _, m := range literalRE.FindAllStringSubmatch(t, -1) {
			lits = append(lits, m[1])
		}
	}
	for _, t := range texts {
		for _, m := range pathKeyRE.FindAllStringSubmatch(t, -1) {
			if k := m[2]; k != queueLabel {
				push(batteryAttrs{Labels: map[string]string{k: "true"}, Annotations: map[string]string{k: "true"}})
			}
		}
	}
	sort.Strings(lits)
	lits = slices.DeleteFunc(compact(lits), func(l string) bool { return l == queueLabel })
	for _, l := range lits {
		if strings.Contains(l, "/") || strings.Contains(l, ".") || strings.Contains(l, "-") {
			push(batteryAttrs{Labels: map[string]string{l: "true"}, Annotations: map[string]string{l: "true"}})
		}
	}
	for _, k := range lits {
		for _, val := range lits {
			if k != val && (strings.Contains(k, "/") || strings.Contains(k, "-")) {
				push(batteryAttrs{Labels: map[string]string{k: val}, Annotations: map[string]string{k: val}})
			}
		}
	}
	return out
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || s[i-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// attributeSources gathers the text and label selectors the gates and the PolicyExceptions
// test, from which the tenant-attribute variants are drawn.
func attributeSources(s *auditor.Snapshot, g *gateSet) (texts []string, sels []map[string]string) {
	for _, p := range g.clusterPolicies {
		for _, r := range p.Rules {
			texts = append(texts, r.Text...)
		}
	}
	for _, p := range g.validatingPolicies {
		texts = append(texts, p.Text...)
	}
	for _, p := range g.vaps {
		for _, val := range p.Spec.Validations {
			texts = append(texts, val.Expression)
		}
		for _, mc := range p.Spec.MatchConditions {
			texts = append(texts, mc.Expression)
		}
	}
	for _, u := range s.CustomObjects(kyverno.PoliciesGroup, "PolicyException") {
		for _, mc := range kyverno.NewCELException(u).MatchConditions {
			texts = append(texts, mc.Expression)
		}
	}
	for _, u := range s.CustomObjects(kyverno.Group, "PolicyException") {
		e := kyverno.NewException(u)
		texts = append(texts, e.Text...)
		for _, f := range append(append([]kyverno.Filter(nil), e.Match.Any...), e.Match.All...) {
			if f.Selector != nil && len(f.Selector.MatchLabels) > 0 {
				sels = append(sels, f.Selector.MatchLabels)
			}
			for k, v := range f.Annotations {
				sels = append(sels, map[string]string{k: fmt.Sprint(v)})
			}
		}
	}
	return texts, sels
}
