package sr2

import (
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

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
	// offer is what the cluster hands out of the GPU resources: it grades coverage gaps.
	offer gpuOffer
	// kyverno is Kyverno's admission controller (nil when not visible): its version
	// decides how failure actions resolve.
	kyverno *kyverno.AdmissionController
	// battery is the requests every gate is evaluated on (battery.go).
	battery []batteryRequest
	// draUse says whether the cluster hands out GPUs through DRA: it grades an admitted
	// DRA claim (nil: not in use, nothing unseen).
	draUse func() draUse
}

func (c gateChecker) kyvernoVersion() kyverno.Version {
	if c.kyverno == nil {
		return kyverno.Version{}
	}
	return c.kyverno.Version
}

// blocking reports whether a verdict has a condition that lets a GPU pod through today
// (a low condition is hardening only).
func (v *gateVerdict) blocking() bool {
	for _, c := range v.Conditions {
		if c.Severity > auditor.SeverityLow {
			return true
		}
	}
	return false
}

// gatePolicyNotEnforcing: the gate exists but would not deny a GPU pod without a queue
// name in every Kueue-managed namespace. One finding per condition.
func gatePolicyNotEnforcing(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-gate-policy-not-enforcing", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "The GPU queue-name admission gate exists but would not deny",
		Pass:  "the GPU queue-name gate denies, covers every GPU resource and fails closed",
		Remediation: "Make the gate deny in every Kueue-managed namespace: failureAction Enforce (Kyverno) or validationActions [Deny] " +
			"(ValidatingAdmissionPolicy binding), a match covering Pods in every managed namespace, a check naming every GPU resource, " +
			"failurePolicy Fail, and a healthy Kyverno webhook.",
		Inputs: append([]string{auditor.ResourceNamespaces, auditor.ResourceValidatingWebhookConfigurations, auditor.ResourceLeases, auditor.ResourceConfigMaps,
			auditor.ResourceNodes, auditor.ResourcePods, auditor.ResourceDeployments,
			auditor.ResourceResourceSlices, auditor.ResourceResourceClaims, auditor.ResourceResourceClaimTemplates, auditor.ResourceDeviceClasses}, gateInputs...),
		// Pods are read only when no Node is visible (see gpuOffered).
		Pods:  gpuPods(cfg),
		Needs: []string{auditor.ResourceNamespaces},
	}
	return gateCheck(meta, func(v *view, found *gateSet, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		c := v.checker(v.offer())
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
			if !verdicts[i].blocking() && len(verdicts[i].Inconclusive) == 0 {
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
				if enforcing != nil && enforcing != v {
					f.Severity = auditor.SeverityLow
					f.Message += fmt.Sprintf(" (%s enforces, so this gate is redundant)", enforcing.Object.String())
				}
				res.Findings = append(res.Findings, f)
			}
		}
		return res
	})
}

// kyvernoGate is what the two Kyverno gate kinds share, and how each one says it: the
// checks of both run in one order (kyvernoGate), each kind adding its own in the middle.
type kyvernoGate struct {
	ref      *auditor.ObjectRef
	problems []string
	// admission: Kyverno evaluates the policy at admission; admissionOff says how the
	// policy turns that off, admissionFix how to turn it on.
	admission                  bool
	admissionOff, admissionFix string
	ready                      kyverno.Readiness
	notReady, readyFix         string
	// failurePolicy is the effective webhook failure policy; failOpen, when set, says
	// why it admits GPU pods unchecked, failOpenFix how to fix it.
	failurePolicy         string
	failOpen, failOpenFix string
	generatedVAP          bool
	webhook               string // the Kyverno webhook serving the policy (kyverno.ValidateWebhook, ...)
}

// kyvernoGate runs the checks every Kyverno gate gets, and kind's own (the rules and
// their failure actions, the match and check text) after admission and readiness.
func (c gateChecker) kyvernoGate(s *auditor.Snapshot, g kyvernoGate, kind func(v *gateVerdict, what string)) gateVerdict {
	v := gateVerdict{Object: g.ref, Inconclusive: slices.Clone(g.problems)}
	what := g.ref.Kind + " " + g.ref.Name
	if !g.admission {
		v.add("admission-disabled", auditor.SeverityCritical, g.admissionFix, "%s has %s", what, g.admissionOff)
	}
	if g.ready.Known && !g.ready.Ready {
		v.add("not-ready", auditor.SeverityCritical, g.readyFix, "%s is not ready (%s): %s", what, g.ready.Detail, g.notReady)
	}
	kind(&v, what)
	if g.failOpen != "" {
		v.add("failure-policy", auditor.SeverityHigh, g.failOpenFix, "%s has %s", what, g.failOpen)
	}
	if g.generatedVAP {
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("%s is enforced through the ValidatingAdmissionPolicy Kyverno generated from it, which this rule does not inspect", what))
		return v
	}
	c.kyvernoRuntime(s, &v, what, g.webhook, g.ref.Name, g.failurePolicy)
	return v
}

// clusterPolicy checks a Kyverno ClusterPolicy gate.
func (c gateChecker) clusterPolicy(s *auditor.Snapshot, p *kyverno.ClusterPolicy) gateVerdict {
	g := kyvernoGate{
		ref: &auditor.ObjectRef{APIVersion: p.APIVersion, Kind: "ClusterPolicy", Name: p.Name}, problems: p.Problems,
		admission:     p.Admission,
		admissionOff:  "spec.admission: false: Kyverno applies it only in background scans and never denies a GPU pod at admission",
		admissionFix:  "Remove spec.admission: false (it defaults to true) so Kyverno evaluates the policy at admission.",
		ready:         p.Ready,
		notReady:      "Kyverno does not enforce a policy that is not ready",
		readyFix:      "Check `kubectl describe clusterpolicy " + p.Name + "` and the Kyverno admission controller logs; fix the policy until its Ready condition is True.",
		failurePolicy: p.FailurePolicy, generatedVAP: p.GeneratedVAP, webhook: kyverno.ValidateWebhook,
	}
	if !strings.EqualFold(p.FailurePolicy, "Fail") {
		g.failOpen = fmt.Sprintf("failurePolicy %s (%s): when Kyverno is unavailable the API server admits GPU pods unchecked", p.FailurePolicy, p.FailurePolicyFrom)
		g.failOpenFix = "Set spec.webhookConfiguration.failurePolicy: Fail so that an unavailable Kyverno rejects GPU pods instead of admitting them."
	}
	return c.kyvernoGate(s, g, func(v *gateVerdict, what string) {
		var podRules []kyverno.Rule
		for _, r := range p.Rules {
			if r.Validate && r.SelectsPods() {
				podRules = append(podRules, r)
			}
		}
		if len(podRules) == 0 {
			v.add("match", auditor.SeverityCritical, "Add a validate rule matching kind Pod in the Kueue-managed namespaces.",
				"%s has no validate rule matching kind Pod: it cannot deny a GPU pod in Kueue-managed namespaces %s", what, strings.Join(family.NamespaceNames(c.managed), ", "))
		} else {
			uncovered, audited, _, _, noAction := c.podRuleActions(p, podRules)
			if len(uncovered) > 0 {
				v.add("match", auditor.SeverityCritical,
					"Match Pods with resources.namespaceSelector equal to the Kueue-managed selector (not a names or label list a tenant controls), and drop the exclude entries that cover those namespaces.",
					"%s does not cover every pod in Kueue-managed namespaces: %s", what, strings.Join(uncovered, ", "))
			}
			if len(audited) > 0 {
				v.add("failure-action", auditor.SeverityCritical,
					"Set failureAction: Enforce on the validate rule (spec.rules[].validate.failureAction; Kyverno >= 1.13) and remove failureActionOverrides / validationFailureActionOverrides that set Audit for these namespaces.",
					"%s %s", what, failureActionGap(audited, noAction))
			}
			c.evalBattery(v, what, func(ns *corev1.Namespace) bool { return len(c.denyingRules(p, ns)) > 0 }, c.clusterPolicyEval(p))
		}
	})
}

// podRuleActions judges a ClusterPolicy's validate rules on Pods in every managed
// namespace: the namespaces no rule covers and those where no covering rule enforces
// (with why), the rules that enforce somewhere, and for the others their effective
// action where they do not enforce (by rule index).
// noAction is set when, in some namespace, a rule has no failure action at all (it
// neither enforces nor audits there).
func (c gateChecker) podRuleActions(p *kyverno.ClusterPolicy, podRules []kyverno.Rule) (uncovered, audited []string, enforcing map[int]bool, auditedBy map[int]string, noAction bool) {
	enforcing, auditedBy = map[int]bool{}, map[int]string{}
	for _, ns := range c.managed {
		var covering []kyverno.Rule
		var whys []string
		for _, r := range podRules {
			if ok, why := r.CoversEveryPodIn(ns); ok {
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
			action, from := p.ActionIn(r, ns, c.kyvernoVersion())
			if kyverno.Enforces(action) {
				enforced = true
				enforcing[r.Index] = true
			} else if action == "" {
				// No action at all (Kyverno v1.13.0-v1.13.2 with overrides elsewhere): from
				// says so; there is no value to name.
				froms = append(froms, from)
				noAction = true
				if _, ok := auditedBy[r.Index]; !ok {
					auditedBy[r.Index] = fmt.Sprintf("none in %s (%s)", ns.Name, from)
				}
			} else {
				froms = append(froms, fmt.Sprintf("%s: %s", from, action))
				if _, ok := auditedBy[r.Index]; !ok {
					auditedBy[r.Index] = fmt.Sprintf("%s in %s (%s)", action, ns.Name, from)
				}
			}
		}
		if !enforced {
			audited = append(audited, fmt.Sprintf("%s (%s)", ns.Name, strings.Join(froms, "; ")))
		}
	}
	return uncovered, audited, enforcing, auditedBy, noAction
}

// validatingPolicy checks a Kyverno ValidatingPolicy (CEL) gate.
func (c gateChecker) validatingPolicy(s *auditor.Snapshot, p *kyverno.ValidatingPolicy) gateVerdict {
	g := kyvernoGate{
		ref: &auditor.ObjectRef{APIVersion: p.APIVersion, Kind: "ValidatingPolicy", Name: p.Name}, problems: p.Problems,
		admission:     p.Admission,
		admissionOff:  "spec.evaluation.admission.enabled: false: it never denies a GPU pod at admission",
		admissionFix:  "Remove spec.evaluation.admission.enabled: false so Kyverno evaluates the policy at admission.",
		ready:         p.Ready,
		notReady:      "Kyverno does not enforce it",
		readyFix:      "Check `kubectl describe validatingpolicy " + p.Name + "` and the Kyverno logs; fix the policy until it reports ready.",
		failurePolicy: p.FailurePolicy, generatedVAP: p.GeneratedVAP, webhook: kyverno.VpolWebhook,
	}
	if g.failurePolicy == "" {
		g.failurePolicy = "Fail"
	}
	if p.FailurePolicy != "" && !strings.EqualFold(p.FailurePolicy, "Fail") {
		g.failOpen = fmt.Sprintf("spec.failurePolicy %s: when Kyverno is unavailable or the check errors, GPU pods are admitted unchecked", p.FailurePolicy)
		g.failOpenFix = "Set spec.failurePolicy: Fail."
	}
	return c.kyvernoGate(s, g, func(v *gateVerdict, what string) {
		if _, ver, ok := strings.Cut(p.APIVersion, "/"); ok {
			if served, known := c.kyvernoVersion().ServesPoliciesVersion(ver); known && !served {
				v.add("api-version", auditor.SeverityCritical,
					fmt.Sprintf("Write the policy in an API version Kyverno %s serves (policies.kyverno.io/v1alpha1 from v1.14, v1beta1 from v1.16, v1 from v1.17), or upgrade Kyverno.", c.kyvernoVersion()),
					"%s is %s, which Kyverno %s (%s) does not serve: the API server rejects it, so the gate does not exist in the cluster", what, p.APIVersion, c.kyvernoVersion(), c.kyvernoVersion().From)
			}
		}
		if !slices.Contains(p.ValidationActions, "Deny") {
			v.add("validation-actions", auditor.SeverityCritical, "Set spec.validationActions: [Deny].",
				"%s has validationActions %v without Deny: violations are only audited or warned about", what, p.ValidationActions)
		}
		c.checkMatch(v, what, "spec.matchConstraints", p.MatchConstraints, nil)
		if slices.Contains(p.ValidationActions, "Deny") {
			spec := celmatch.PolicySpec{Name: p.Name, Validations: p.Validations, Variables: p.Variables, MatchConditions: p.MatchConditions, HasParams: p.HasParams}
			if p.FailurePolicy != "" {
				fp := admissionv1.FailurePolicyType(p.FailurePolicy)
				spec.FailurePolicy = &fp
			}
			covers := func(ns *corev1.Namespace) bool {
				ok, _ := matchResourcesCover(p.MatchConstraints, ns, "spec.matchConstraints", true)
				return ok
			}
			c.evalBattery(v, what, covers, celPolicyEval(celmatch.CompilePolicy(spec)))
		}
	})
}

// failureActionGap says where a gate does not deny: it only audits, or, when a rule
// there has no failure action at all, it neither denies nor audits.
func failureActionGap(audited []string, noAction bool) string {
	if noAction {
		return fmt.Sprintf("does not deny GPU pods without a queue name in %s: no failure action that enforces applies there", strings.Join(audited, ", "))
	}
	return fmt.Sprintf("only audits GPU pods without a queue name in %s: the effective validation failure action there is Audit", strings.Join(audited, ", "))
}
