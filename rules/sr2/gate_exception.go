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
			msg := what + ": they are admitted without a queue name (" + honoured.Why + ")"
			sev := auditor.SeverityCritical
			if e.Conditions {
				sev = auditor.SeverityHigh
				msg += "; its spec.conditions, which the auditor does not evaluate, may narrow it"
			}
			msg += c.whoMayCreate(e.Namespace)
			f := meta.NewFinding(exceptionRef(e.ExceptionID), msg)
			f.Severity = sev
			res.Findings = append(res.Findings, f)
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
	enabled, known, why := c.kyverno.CELExceptionsEnabled()
	for _, u := range objs {
		e := kyverno.NewCELException(u)
		res.Inconclusive = append(res.Inconclusive, e.Problems...)
		for _, p := range found.validatingPolicies {
			if !e.Exempts("ValidatingPolicy", p.Name) {
				continue
			}
			var hits, unjudged []string
			m := celmatch.Compile("PolicyException "+e.Name, e.MatchConditions, nil)
			for _, ns := range c.managed {
				pod, requester := celmatch.TenantPod(ns.Name, c.representativeGPU())
				r := m.PodCreate(pod, requester)
				switch {
				case r.Err != nil:
					unjudged = append(unjudged, fmt.Sprintf("%s (%v)", ns.Name, r.Err))
				case r.Matches:
					hits = append(hits, ns.Name)
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
				what += " (its matchConditions hold for a GPU pod a tenant creates there)"
			}
			if !known {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s if Kyverno honours it, which cannot be judged: %s", what, why))
				continue
			}
			if !enabled {
				continue
			}
			msg := what + ": they are admitted without a queue name (" + why + "; CEL exceptions apply from any namespace)" + c.whoMayCreate(e.Namespace)
			res.Findings = append(res.Findings, meta.NewFinding(exceptionRef(e.ExceptionID), msg))
		}
	}
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
