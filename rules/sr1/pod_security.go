package sr1

import (
	"fmt"
	"slices"
	"sort"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
)

// Pod Security Admission (k8s.io/pod-security-admission): the namespace label
// pod-security.kubernetes.io/enforce sets the level pods must meet; `baseline` and
// `restricted` refuse spec.hostNetwork=true (policy/check_hostNamespaces.go, a baseline
// check from v1.0). An unparseable level is evaluated as `restricted`
// (api.PolicyToEvaluate). Without the label the API server's AdmissionConfiguration
// default applies (`privileged` when none is configured), which the API does not show.
const podSecurityEnforceLabel = "pod-security.kubernetes.io/enforce"

// tenantNamespaceAdmitsHostNetwork (tenant-namespace-admits-host-network): a namespace
// outside the budget path can admit host-network pods, which NetworkPolicy cannot stop
// from reaching the model servers on their node (see host_network.go).
func tenantNamespaceAdmitsHostNetwork(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "tenant-namespace-admits-host-network", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Title: "A tenant namespace does not refuse host-network pods",
		Pass:  "every tenant namespace refuses host-network pods",
		Remediation: "Label the namespace `pod-security.kubernetes.io/enforce: baseline` (or `restricted`), or set the cluster-wide Pod Security default " +
			"in the API server's AdmissionConfiguration to baseline and declare it as sr1.podSecurityDefault. A namespace whose platform agents need " +
			"host networking belongs in sr1.hostNetworkNamespaces.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceValidatingAdmissionPolicies, auditor.ResourceValidatingAdmissionBindings},
		// Cluster scope: it reads only cluster-scoped objects, and its unknown (an
		// undeclared Pod Security default) must not stop namespaced rules from being
		// re-evaluated incrementally on pod events.
		Scope: auditor.ScopeCluster,
		// Admits: no ValidatingAdmissionPolicy among the inputs refuses host-network pods there.
		Absence: []string{auditor.ResourceValidatingAdmissionPolicies, auditor.ResourceValidatingAdmissionBindings},
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if why, bad := inputs.Unseen(s, auditor.ResourceNamespaces); bad && !s.Offline() {
			res.Inconclusive = append(res.Inconclusive, "cannot read the namespaces' Pod Security labels: "+why)
			return res
		}
		nss := append([]*corev1.Namespace(nil), s.Namespaces...)
		sort.Slice(nss, func(i, j int) bool { return nss[i].Name < nss[j].Name })
		var undeclared []string
		for _, ns := range nss {
			if !cfg.Untrusted(ns.Name) || auditor.Terminating(ns) {
				continue
			}
			level, fromLabel := ns.Labels[podSecurityEnforceLabel]
			if !fromLabel {
				level = cfg.SR1.PodSecurityDefault
			}
			if level != "" && level != auditor.PodSecurityPrivileged {
				continue // baseline, restricted, or unparseable (evaluated as restricted)
			}
			if vaps := denyingPolicies(s, ns); len(vaps) > 0 {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
					"namespace %s: Pod Security does not refuse host-network pods there, but ValidatingAdmissionPolicies with a Deny binding cover its pods (%s); "+
						"whether their CEL refuses hostNetwork is not evaluated", ns.Name, family.JoinBounded(vaps, 5)))
				continue
			}
			switch {
			case fromLabel:
				res.Findings = append(res.Findings, meta.NewFinding(family.NamespaceRef(ns.Name), fmt.Sprintf(
					"namespace %s is labelled %s: privileged, so it admits host-network pods, which NetworkPolicy cannot stop from reaching the model servers on their node",
					ns.Name, podSecurityEnforceLabel)))
			case level == auditor.PodSecurityPrivileged:
				res.Findings = append(res.Findings, meta.NewFinding(family.NamespaceRef(ns.Name), fmt.Sprintf(
					"namespace %s carries no %s label and the cluster-wide Pod Security default is privileged (sr1.podSecurityDefault), so it admits host-network pods, "+
						"which NetworkPolicy cannot stop from reaching the model servers on their node", ns.Name, podSecurityEnforceLabel)))
			default:
				undeclared = append(undeclared, ns.Name)
			}
		}
		if len(undeclared) > 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
				"namespaces %s carry no %s label, and the cluster-wide Pod Security default (the API server's AdmissionConfiguration) is not visible through the API "+
					"and not declared (sr1.podSecurityDefault): whether they admit host-network pods is unknown",
				family.JoinBounded(undeclared, 10), podSecurityEnforceLabel))
		}
		return res
	}}
}

// denyingPolicies names the ValidatingAdmissionPolicies bound with a Deny action whose
// match may cover pod creation in ns ("policy (binding)"). Their CEL is not evaluated:
// they can only make the verdict unknown, never enforced.
func denyingPolicies(s *auditor.Snapshot, ns *corev1.Namespace) []string {
	policies := map[string]*admissionv1.ValidatingAdmissionPolicy{}
	for _, p := range s.ValidatingAdmissionPolicies {
		policies[p.Name] = p
	}
	var out []string
	for _, b := range s.ValidatingAdmissionBindings {
		p := policies[b.Spec.PolicyName]
		if p == nil || !slices.Contains(b.Spec.ValidationActions, admissionv1.Deny) {
			continue
		}
		if p.Spec.MatchConstraints == nil || !matchesPodCreate(p.Spec.MatchConstraints.ResourceRules) ||
			!selectorMatches(p.Spec.MatchConstraints.NamespaceSelector, ns) {
			continue
		}
		if mr := b.Spec.MatchResources; mr != nil && !selectorMatches(mr.NamespaceSelector, ns) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (binding %s)", p.Name, b.Name))
	}
	sort.Strings(out)
	return out
}

// matchesPodCreate reports whether resource rules may cover CREATE of core pods.
func matchesPodCreate(rules []admissionv1.NamedRuleWithOperations) bool {
	has := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	for _, r := range rules {
		ops := make([]string, 0, len(r.Operations))
		for _, o := range r.Operations {
			ops = append(ops, string(o))
		}
		if has(ops, string(admissionv1.Create)) && has(r.APIGroups, "") && has(r.Resources, "pods") {
			return true
		}
	}
	return false
}

// selectorMatches: a nil or empty selector matches every namespace; an invalid one none.
func selectorMatches(sel *metav1.LabelSelector, ns *corev1.Namespace) bool {
	if sel == nil {
		return true
	}
	ls, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && ls.Matches(labels.Set(ns.Labels))
}
