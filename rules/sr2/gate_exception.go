package sr2

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// gatePolicyException: a Kyverno PolicyException the admission controller honours
// exempts a Kueue-managed namespace's GPU pods from the gate: a complete bypass that no
// policy field shows. kyverno.io exceptions name the gate's rules and match pods;
// policies.kyverno.io exceptions reference a ValidatingPolicy under CEL matchConditions.
func gatePolicyException(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-gate-policy-exception", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "A Kyverno PolicyException exempts GPU pods of Kueue-managed namespaces from the gate",
		Pass:  "no PolicyException exempts GPU pods of Kueue-managed namespaces from the gate",
		Remediation: "Delete the PolicyException, or narrow it so that it matches no pod of a Kueue-managed namespace; " +
			"restrict who may create PolicyExceptions (RBAC on policyexceptions in Kyverno's exception namespace), " +
			"or turn exceptions off (--enablePolicyException=false, Helm features.policyExceptions.enabled: false).",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceKyvernoClusterPolicies, auditor.ResourceKyvernoValidatingPolicies,
			auditor.ResourceKyvernoPolicyExceptions, auditor.ResourceKyvernoCELPolicyExceptions, auditor.ResourceDeployments},
	}
	return gateCheck(meta, func(v *view, found *gateSet, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if len(found.clusterPolicies) == 0 && len(found.validatingPolicies) == 0 {
			return res
		}
		c := v.checker(gpuOffer{})
		c.kyvernoExceptions(s, meta, found, &res)
		c.celExceptions(s, meta, found, &res)
		return res
	})
}

// exceptionRef names a PolicyException object in findings.
func exceptionRef(id kyverno.ExceptionID) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: id.APIVersion, Kind: "PolicyException", Namespace: id.Namespace, Name: id.Name}
}

// kyvernoExceptions judges kyverno.io PolicyExceptions against the ClusterPolicy gates:
// in a managed namespace, a gate is bypassed when every rule that would deny there is
// exempted by an exception that applies to the namespace's pods.
func (c gateChecker) kyvernoExceptions(s *auditor.Snapshot, meta auditor.RuleMeta, found *gateSet, res *auditor.Result) {
	objs := sortedByNamespaceName(s.CustomObjects(kyverno.Group, "PolicyException"))
	if len(objs) == 0 || len(found.clusterPolicies) == 0 {
		return
	}
	honoured := c.kyverno.Exceptions()
	for _, u := range objs {
		e := kyverno.NewException(u)
		res.Inconclusive = append(res.Inconclusive, e.Problems...)
		for _, p := range found.clusterPolicies {
			var hits []string
			for _, ns := range c.managed {
				deny := c.denyingRules(p, ns)
				if len(deny) == 0 {
					continue // the gate does not deny there anyway: gpu-gate-policy-not-enforcing says so
				}
				applies, how := e.AppliesToPodsIn(ns)
				if !applies {
					continue
				}
				if e.Conditions {
					// spec.conditions evaluated on every request the gate must deny,
					// tenant-attribute variants included: the first it holds for is named.
					held, unj := c.exceptionConditionsHold(e, ns)
					if held == "" {
						if unj != "" {
							res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s: its spec.conditions cannot be evaluated in %s: %s", e.ExceptionID, ns.Name, unj))
						}
						continue
					}
					how += "; its spec.conditions hold for " + held
				}
				var exempt []string
				for _, r := range deny {
					if e.ExemptsRule(p.Name, r.Name) {
						exempt = append(exempt, r.Name)
					}
				}
				if len(exempt) == len(deny) {
					hits = append(hits, fmt.Sprintf("%s (rules %s; %s)", ns.Name, strings.Join(exempt, ", "), how))
				}
			}
			if len(hits) == 0 {
				continue
			}
			what := fmt.Sprintf("%s exempts GPU pods in Kueue-managed namespaces %s from ClusterPolicy %s",
				e.ExceptionID, strings.Join(hits, ", "), p.Name)
			switch {
			case !honoured.Known:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s if Kyverno honours it, which cannot be judged: %s", what, honoured.Why))
				continue
			case !honoured.Enabled:
				continue
			case honoured.Namespace != "*" && honoured.Namespace != e.Namespace:
				continue // Kyverno reads exceptions from its exception namespace only
			}
			msg := what + ": they are admitted without a queue name (" + honoured.Why + ")" + c.whoMayCreate(e.Namespace)
			res.Findings = append(res.Findings, meta.NewFinding(exceptionRef(e.ExceptionID), msg))
		}
	}
}

// denyingRules are the gate's validate rules that cover every pod of ns and enforce there.
func (c gateChecker) denyingRules(p *kyverno.ClusterPolicy, ns *corev1.Namespace) []kyverno.Rule {
	var out []kyverno.Rule
	for _, r := range p.Rules {
		if !r.Validate || !r.SelectsPods() {
			continue
		}
		if ok, _ := r.CoversEveryPodIn(ns); !ok {
			continue
		}
		if a, _ := p.ActionIn(r, ns, c.kyvernoVersion()); kyverno.Enforces(a) {
			out = append(out, r)
		}
	}
	return out
}

// celExceptions judges policies.kyverno.io PolicyExceptions against the ValidatingPolicy
// gates: an exception referencing the gate applies wherever its matchConditions hold,
// evaluated on a tenant's GPU pod in each managed namespace.
func (c gateChecker) celExceptions(s *auditor.Snapshot, meta auditor.RuleMeta, found *gateSet, res *auditor.Result) {
	objs := sortedByNamespaceName(s.CustomObjects(kyverno.PoliciesGroup, "PolicyException"))
	if len(objs) == 0 || len(found.validatingPolicies) == 0 {
		return
	}
	honoured := c.kyverno.CELExceptions()
	for _, u := range objs {
		e := kyverno.NewCELException(u)
		res.Inconclusive = append(res.Inconclusive, e.Problems...)
		for _, p := range found.validatingPolicies {
			if !e.Exempts("ValidatingPolicy", p.Name) {
				continue
			}
			// The matchConditions evaluated on every request the gate must deny, the
			// tenant-attribute variants (labels, annotations a tenant sets) included.
			var hits, unjudged []string
			m := celmatch.Compile("PolicyException "+e.Name, e.MatchConditions, nil)
			for _, ns := range c.managed {
				var hit, unj string
				for _, r := range c.mustDeny() {
					pod, requester := r.Pod(ns.Name, c.cfg.QueueNameLabel)
					res := m.PodCreate(pod, requester)
					switch {
					case res.Err != nil:
						unj = fmt.Sprintf("%s (%s: %v)", ns.Name, r.Describe(c.cfg.QueueNameLabel), res.Err)
					case res.Matches:
						hit = fmt.Sprintf("%s (%s)", ns.Name, r.Describe(c.cfg.QueueNameLabel))
					}
					if hit != "" {
						break
					}
				}
				switch {
				case hit != "":
					hits = append(hits, hit)
				case unj != "":
					unjudged = append(unjudged, unj)
				}
			}
			if len(unjudged) > 0 {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s references ValidatingPolicy %s; its matchConditions cannot be judged on a GPU pod in %s",
					e.ExceptionID, p.Name, strings.Join(unjudged, ", ")))
			}
			if len(hits) == 0 {
				continue
			}
			what := fmt.Sprintf("%s exempts GPU pods in Kueue-managed namespaces %s from ValidatingPolicy %s", e.ExceptionID, strings.Join(hits, ", "), p.Name)
			if len(e.MatchConditions) > 0 {
				what += " (its matchConditions hold for the pod named, which a tenant can create there)"
			}
			switch {
			case !honoured.Known:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s if Kyverno honours it, which cannot be judged: %s", what, honoured.Why))
				continue
			case !honoured.Enabled:
				continue
			case honoured.Namespace != "*" && honoured.Namespace != e.Namespace:
				continue // Kyverno reads CEL exceptions from its exception namespace only (FactCELExceptionNamespace)
			}
			msg := what + ": they are admitted without a queue name (" + honoured.Why + ")" + c.whoMayCreate(e.Namespace)
			res.Findings = append(res.Findings, meta.NewFinding(exceptionRef(e.ExceptionID), msg))
		}
	}
}

// mustDeny is the battery's requests a gate must deny: without the queue label and
// valid (the API server's validation rejects the others before admission).
func (c gateChecker) mustDeny() []batteryRequest {
	var out []batteryRequest
	for _, r := range c.battery {
		if !r.Labelled && r.Invalid == "" {
			out = append(out, r)
		}
	}
	return out
}

// exceptionConditionsHold evaluates a kyverno.io exception's spec.conditions on the
// requests the gate must deny in ns: the first request they hold for, or why they could
// not be evaluated.
func (c gateChecker) exceptionConditionsHold(e *kyverno.Exception, ns *corev1.Namespace) (held, unjudged string) {
	for _, r := range c.mustDeny() {
		pod, requester := r.Pod(ns.Name, c.cfg.QueueNameLabel)
		req, err := kyvernoRequest(pod, requester)
		if err != nil {
			return "", err.Error()
		}
		ok, detail, err := e.ConditionsHold(req)
		switch {
		case err != nil:
			unjudged = err.Error()
		case ok:
			return fmt.Sprintf("%s (%s)", r.Describe(c.cfg.QueueNameLabel), detail), ""
		}
	}
	return "", unjudged
}

// whoMayCreate is the message's line on who may create exceptions: gpu-gate-tamper
// judges the RBAC.
func (c gateChecker) whoMayCreate(ns string) string {
	return fmt.Sprintf("; who may create more PolicyExceptions in %s: see gpu-gate-tamper", ns)
}

func sortedByNamespaceName(in []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), in...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].GetNamespace() != out[j].GetNamespace() {
			return out[i].GetNamespace() < out[j].GetNamespace()
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out
}
