package rules

import (
	"fmt"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// gateInputs are the resources that can hold the admission gate.
var gateInputs = []string{
	auditor.ResourceKyvernoClusterPolicies, auditor.ResourceKyvernoValidatingPolicies,
	auditor.ResourceValidatingAdmissionPolicies, auditor.ResourceValidatingAdmissionBindings,
}

// gateSet holds the admission gates found under the configured names.
type gateSet struct {
	clusterPolicies    []*clusterPolicy
	validatingPolicies []*validatingPolicy
	vaps               []*admissionv1.ValidatingAdmissionPolicy
	bindings           map[string][]*admissionv1.ValidatingAdmissionPolicyBinding
	// unboundVAPs exist under a gate name but no binding references them: they do nothing.
	unboundVAPs []string
}

func (g *gateSet) empty() bool {
	return len(g.clusterPolicies) == 0 && len(g.validatingPolicies) == 0 && len(g.vaps) == 0
}

func findGates(s *auditor.Snapshot, names []string) *gateSet {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := &gateSet{bindings: map[string][]*admissionv1.ValidatingAdmissionPolicyBinding{}}
	for _, u := range sortedByName(s.CustomObjects(kyvernoGroup, "ClusterPolicy")) {
		if want[u.GetName()] {
			out.clusterPolicies = append(out.clusterPolicies, newClusterPolicy(u))
		}
	}
	for _, u := range sortedByName(s.CustomObjects(kyvernoPoliciesGroup, "ValidatingPolicy")) {
		if want[u.GetName()] {
			out.validatingPolicies = append(out.validatingPolicies, newValidatingPolicy(u))
		}
	}
	for _, b := range s.ValidatingAdmissionBindings {
		if want[b.Spec.PolicyName] {
			out.bindings[b.Spec.PolicyName] = append(out.bindings[b.Spec.PolicyName], b)
		}
	}
	for _, v := range s.ValidatingAdmissionPolicies {
		if !want[v.Name] {
			continue
		}
		if len(out.bindings[v.Name]) == 0 {
			out.unboundVAPs = append(out.unboundVAPs, v.Name)
			continue
		}
		out.vaps = append(out.vaps, v)
	}
	sort.Slice(out.vaps, func(i, j int) bool { return out.vaps[i].Name < out.vaps[j].Name })
	sort.Strings(out.unboundVAPs)
	return out
}

func sortedByName(in []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// hiddenInputs lists the resources that are forbidden, failing or not synced: what they
// hold is unknown (a CRD that is not served holds nothing, which is not hidden).
func hiddenInputs(s *auditor.Snapshot, ids []string) []string {
	var out []string
	for _, id := range ids {
		switch a := s.AvailabilityOf(id); a.State {
		case auditor.Forbidden, auditor.Failing, auditor.Pending:
			out = append(out, fmt.Sprintf("%s is %s", id, a.State))
		}
	}
	return out
}

// GPUGatePolicyMissing: Kueue-managed namespaces exist but no admission gate under the
// configured names does: nothing stops a GPU pod without a queue name at admission.
func GPUGatePolicyMissing(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	names := strings.Join(cfg.SR2.GatePolicyNames, ", ")
	first := "require-kueue-queue-name"
	if len(cfg.SR2.GatePolicyNames) > 0 {
		first = cfg.SR2.GatePolicyNames[0]
	}
	meta := auditor.RuleMeta{
		ID: "gpu-gate-policy-missing", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "No admission gate requires a Kueue queue name on GPU pods",
		Remediation: fmt.Sprintf("Apply the Kyverno ClusterPolicy %s (validate rule on Pods in namespaces matching the "+
			"Kueue-managed selector, failureAction: Enforce, denying GPU requests without label %s), or a "+
			"ValidatingAdmissionPolicy of that name together with a ValidatingAdmissionPolicyBinding with validationActions [Deny].",
			first, cfg.SR2.QueueNameLabel),
		Inputs: append([]string{auditor.ResourceNamespaces}, gateInputs...),
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		managed := g.managedNamespaces(s)
		if len(managed) == 0 {
			return res
		}
		found := findGates(s, cfg.SR2.GatePolicyNames)
		if !found.empty() {
			return res
		}
		if hidden := hiddenInputs(s, gateInputs); len(hidden) > 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("no admission gate named %s is visible, but %s", names, strings.Join(hidden, ", ")))
			return res
		}
		msg := fmt.Sprintf("no admission gate named %s exists (Kyverno ClusterPolicy, Kyverno ValidatingPolicy, or ValidatingAdmissionPolicy with a binding), "+
			"yet Kueue-managed namespaces %s exist: GPU pods without label %s are admitted there",
			names, strings.Join(namespaceNames(managed), ", "), cfg.SR2.QueueNameLabel)
		if len(found.unboundVAPs) > 0 {
			msg += fmt.Sprintf("; ValidatingAdmissionPolicy %s exists but no ValidatingAdmissionPolicyBinding references it", strings.Join(found.unboundVAPs, ", "))
		}
		res.Findings = append(res.Findings, meta.NewFinding(nil, msg))
		return res
	})
}

// gateCondition is one reason a gate would not deny.
type gateCondition struct {
	ID          string // the finding's discriminator
	Severity    auditor.Severity
	Message     string
	Remediation string
}

// gateVerdict is what the checks found on one gate object.
type gateVerdict struct {
	Object       *auditor.ObjectRef
	Conditions   []gateCondition
	Inconclusive []string
}

func (v *gateVerdict) add(id string, sev auditor.Severity, remediation, format string, args ...any) {
	v.Conditions = append(v.Conditions, gateCondition{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...), Remediation: remediation})
}

type gateChecker struct {
	cfg     auditor.SR2Config
	managed []*corev1.Namespace
}

// GPUGatePolicyNotEnforcing: the gate exists but would not deny a GPU pod without a queue
// name in every Kueue-managed namespace. One finding per condition.
func GPUGatePolicyNotEnforcing(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	meta := auditor.RuleMeta{
		ID: "gpu-gate-policy-not-enforcing", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "The GPU queue-name admission gate exists but would not deny",
		Remediation: "Make the gate deny in every Kueue-managed namespace: failureAction Enforce (Kyverno) or validationActions [Deny] " +
			"(ValidatingAdmissionPolicy binding), a match covering Pods in every managed namespace, a check naming every GPU resource, " +
			"failurePolicy Fail, and a healthy Kyverno webhook.",
		Inputs: append([]string{auditor.ResourceNamespaces, auditor.ResourceValidatingWebhookConfigurations, auditor.ResourceLeases, auditor.ResourceConfigMaps}, gateInputs...),
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		managed := g.managedNamespaces(s)
		if len(managed) == 0 {
			return res
		}
		found := findGates(s, cfg.SR2.GatePolicyNames)
		c := gateChecker{cfg: cfg.SR2, managed: managed}
		var verdicts []gateVerdict
		for _, p := range found.clusterPolicies {
			verdicts = append(verdicts, c.clusterPolicy(s, p))
		}
		for _, p := range found.validatingPolicies {
			verdicts = append(verdicts, c.validatingPolicy(s, p))
		}
		for _, v := range found.vaps {
			verdicts = append(verdicts, c.admissionPolicy(v, found.bindings[v.Name]))
		}
		// When one gate fully enforces, the others' shortcomings do not open a bypass:
		// they are still reported, at low severity.
		var enforcing *gateVerdict
		for i := range verdicts {
			if len(verdicts[i].Conditions) == 0 && len(verdicts[i].Inconclusive) == 0 {
				enforcing = &verdicts[i]
				break
			}
		}
		for i := range verdicts {
			v := &verdicts[i]
			res.Inconclusive = append(res.Inconclusive, v.Inconclusive...)
			for _, cond := range v.Conditions {
				f := meta.NewFinding(v.Object, cond.Message)
				f.Severity = cond.Severity
				f.Discriminator = cond.ID
				if cond.Remediation != "" {
					f.Remediation = cond.Remediation
				}
				if enforcing != nil {
					f.Severity = auditor.SeverityLow
					f.Message += fmt.Sprintf(" (%s enforces, so this gate is redundant)", enforcing.Object.String())
				}
				res.Findings = append(res.Findings, f)
			}
		}
		return res
	})
}

// clusterPolicy checks a Kyverno ClusterPolicy gate.
func (c gateChecker) clusterPolicy(s *auditor.Snapshot, p *clusterPolicy) gateVerdict {
	v := gateVerdict{Object: &auditor.ObjectRef{APIVersion: p.APIVersion, Kind: "ClusterPolicy", Name: p.Name}, Inconclusive: p.Problems}
	what := "ClusterPolicy " + p.Name
	if !p.Admission {
		v.add("admission-disabled", auditor.SeverityCritical, "Remove spec.admission: false (it defaults to true) so Kyverno evaluates the policy at admission.",
			"%s has spec.admission: false: Kyverno applies it only in background scans and never denies a GPU pod at admission", what)
	}
	if p.Ready.Known && !p.Ready.Ready {
		v.add("not-ready", auditor.SeverityCritical, "Check `kubectl describe clusterpolicy "+p.Name+"` and the Kyverno admission controller logs; fix the policy until its Ready condition is True.",
			"%s is not ready (%s): Kyverno does not enforce a policy that is not ready", what, p.Ready.Detail)
	}
	var podRules []kyvernoRule
	for _, r := range p.Rules {
		if r.Validate && r.selectsPods() {
			podRules = append(podRules, r)
		}
	}
	if len(podRules) == 0 {
		v.add("match", auditor.SeverityCritical, "Add a validate rule matching kind Pod in the Kueue-managed namespaces.",
			"%s has no validate rule matching kind Pod: it cannot deny a GPU pod in Kueue-managed namespaces %s", what, strings.Join(namespaceNames(c.managed), ", "))
	} else {
		var uncovered, audited []string
		enforcing := map[int]bool{}
		for _, ns := range c.managed {
			var covering []kyvernoRule
			var whys []string
			for _, r := range podRules {
				if ok, why := r.coversEveryPodIn(ns); ok {
					covering = append(covering, r)
				} else {
					whys = append(whys, why)
				}
			}
			if len(covering) == 0 {
				uncovered = append(uncovered, fmt.Sprintf("%s (%s)", ns.Name, strings.Join(whys, "; ")))
				continue
			}
			var froms []string
			enforced := false
			for _, r := range covering {
				action, from := p.actionIn(r, ns)
				if enforces(action) {
					enforced = true
					enforcing[r.Index] = true
				} else {
					froms = append(froms, fmt.Sprintf("%s: %s", from, action))
				}
			}
			if !enforced {
				audited = append(audited, fmt.Sprintf("%s (%s)", ns.Name, strings.Join(froms, "; ")))
			}
		}
		if len(uncovered) > 0 {
			v.add("match", auditor.SeverityCritical,
				"Match Pods with resources.namespaceSelector equal to the Kueue-managed selector (not a names or label list a tenant controls), and drop the exclude entries that cover those namespaces.",
				"%s does not cover every pod in Kueue-managed namespaces: %s", what, strings.Join(uncovered, ", "))
		}
		if len(audited) > 0 {
			v.add("failure-action", auditor.SeverityCritical,
				"Set failureAction: Enforce on the validate rule (spec.rules[].validate.failureAction; Kyverno >= 1.13) and remove failureActionOverrides / validationFailureActionOverrides that set Audit for these namespaces.",
				"%s only audits GPU pods without a queue name in %s: the effective validation failure action there is Audit", what, strings.Join(audited, ", "))
		}
		var text []string
		for _, r := range podRules {
			if enforcing[r.Index] || len(enforcing) == 0 {
				text = append(text, r.Text...)
			}
		}
		c.checkText(&v, what, text)
	}
	if !strings.EqualFold(p.FailurePolicy, "Fail") {
		v.add("failure-policy", auditor.SeverityHigh, "Set spec.webhookConfiguration.failurePolicy: Fail so that an unavailable Kyverno rejects GPU pods instead of admitting them.",
			"%s has failurePolicy %s (%s): when Kyverno is unavailable the API server admits GPU pods unchecked", what, p.FailurePolicy, p.FailurePolicyFrom)
	}
	if p.GeneratedVAP {
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("%s is enforced through the ValidatingAdmissionPolicy Kyverno generated from it, which this rule does not inspect", what))
		return v
	}
	c.kyvernoRuntime(s, &v, what, kyvernoValidateWebhook, p.Name, p.FailurePolicy)
	return v
}

// validatingPolicy checks a Kyverno ValidatingPolicy (CEL) gate.
func (c gateChecker) validatingPolicy(s *auditor.Snapshot, p *validatingPolicy) gateVerdict {
	v := gateVerdict{Object: &auditor.ObjectRef{APIVersion: p.APIVersion, Kind: "ValidatingPolicy", Name: p.Name}, Inconclusive: p.Problems}
	what := "ValidatingPolicy " + p.Name
	if !p.Admission {
		v.add("admission-disabled", auditor.SeverityCritical, "Remove spec.evaluation.admission.enabled: false so Kyverno evaluates the policy at admission.",
			"%s has spec.evaluation.admission.enabled: false: it never denies a GPU pod at admission", what)
	}
	if p.Ready.Known && !p.Ready.Ready {
		v.add("not-ready", auditor.SeverityCritical, "Check `kubectl describe validatingpolicy "+p.Name+"` and the Kyverno logs; fix the policy until it reports ready.",
			"%s is not ready (%s): Kyverno does not enforce it", what, p.Ready.Detail)
	}
	if !hasString(p.ValidationActions, "Deny") {
		v.add("validation-actions", auditor.SeverityCritical, "Set spec.validationActions: [Deny].",
			"%s has validationActions %v without Deny: violations are only audited or warned about", what, p.ValidationActions)
	}
	c.checkMatch(&v, what, "spec.matchConstraints", p.MatchConstraints, nil)
	c.checkText(&v, what, p.Text)
	if p.FailurePolicy != "" && !strings.EqualFold(p.FailurePolicy, "Fail") {
		v.add("failure-policy", auditor.SeverityHigh, "Set spec.failurePolicy: Fail.",
			"%s has spec.failurePolicy %s: when Kyverno is unavailable or the check errors, GPU pods are admitted unchecked", what, p.FailurePolicy)
	}
	if p.GeneratedVAP {
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("%s is enforced through the ValidatingAdmissionPolicy Kyverno generated from it, which this rule does not inspect", what))
		return v
	}
	fp := p.FailurePolicy
	if fp == "" {
		fp = "Fail"
	}
	c.kyvernoRuntime(s, &v, what, kyvernoVpolWebhook, p.Name, fp)
	return v
}

// checkText reports the configured GPU resources and the queue label that the gate's
// check never names.
func (c gateChecker) checkText(v *gateVerdict, what string, text []string) {
	if missed := gpuResourcesMissed(text, c.cfg.GPUResources); len(missed) > 0 {
		v.add("gpu-resources", auditor.SeverityCritical,
			"Make the check name every configured GPU resource in requests and limits of containers, init and ephemeral containers, e.g. "+
				"a CEL test `r.startsWith('nvidia.com/mig-')` or a Kyverno pattern key `nvidia.com/mig-*` for MIG slices.",
			"%s checks GPU requests but never names %s: a pod requesting only those is admitted without a queue name", what, strings.Join(missed, ", "))
	}
	if !textNames(text, c.cfg.QueueNameLabel) {
		v.add("queue-label", auditor.SeverityCritical,
			fmt.Sprintf("Make the check require label %s on the pod.", c.cfg.QueueNameLabel),
			"%s never names label %s: it cannot require a Kueue queue name", what, c.cfg.QueueNameLabel)
	}
}
