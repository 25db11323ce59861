package rules

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The scope rules say whether a control covers anything at all: SR1 the protected
// namespaces, SR2 the Kueue-managed namespaces, SR3 a LiteLLM prod proxy. With nothing in
// scope every other rule of the control is silent, which must not read as enforced: a
// control the configuration claims (Config.Controls) is then a finding live and unknown
// in a scan (a scan cannot know the cluster's other objects); a control it does not
// claim is not-applicable.

// scopeRule builds a scope rule: inScope reports whether the snapshot holds something the
// control covers; seen whether the inputs that tell are knowledge (Snapshot.Saw); what
// names what is missing ("no protected namespace (serving, inference)").
func scopeRule(cfg auditor.Config, meta auditor.RuleMeta, what string, seen func(*auditor.Snapshot) bool, inScope func(*auditor.Snapshot) bool) auditor.Rule {
	claimed := cfg.Claims(meta.Control)
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		live := !s.Offline()
		if live && !seen(s) {
			return res // the engine reports the inputs it could not read
		}
		if seen(s) && inScope(s) {
			return res
		}
		where := "the cluster has"
		if !live {
			where = "the inputs hold"
		}
		switch {
		case !claimed:
			res.NotApplicable = fmt.Sprintf("%s is not claimed (config controls) and %s %s", meta.Control, where, what)
		case live:
			res.Findings = append(res.Findings, meta.NewFinding(nil, fmt.Sprintf(
				"%s is claimed (config controls) but the cluster has %s: nothing it covers exists, so nothing is enforced", meta.Control, what)))
		default:
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
				"%s is claimed (config controls) but the inputs hold %s: a scan cannot know the cluster's other objects", meta.Control, what))
		}
		return res
	})
}

// ProtectedNamespaceAbsent: SR1 is claimed but no protected namespace exists.
func ProtectedNamespaceAbsent(cfg auditor.Config) auditor.Rule {
	b := newBudgetPath(cfg)
	meta := auditor.RuleMeta{
		ID: "protected-namespace-absent", Control: auditor.SR1, Severity: auditor.SeverityHigh,
		Title: "SR1 is claimed but no protected namespace exists",
		Remediation: "Deploy the model servers and the inference gateway into the protected namespaces (sr1.protectedNamespaces), " +
			"correct that list if they live elsewhere, or remove SR1 from `controls` in the configuration if the platform does not claim it.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies},
	}
	what := fmt.Sprintf("no protected namespace (%s)", strings.Join(b.protected, ", "))
	return scopeRule(cfg, meta, what,
		func(s *auditor.Snapshot) bool { return s.Saw(auditor.ResourceNamespaces) || s.Offline() },
		func(s *auditor.Snapshot) bool {
			for _, ns := range b.protected {
				// Offline, policies of a protected namespace show it without its object.
				if s.Namespace(ns) != nil || len(s.NetworkPoliciesIn(ns)) > 0 {
					return true
				}
			}
			return false
		})
}

// KueueManagedNamespaceAbsent: SR2 is claimed but no namespace is Kueue-managed.
func KueueManagedNamespaceAbsent(cfg auditor.Config) auditor.Rule {
	g := newGPUScope(cfg)
	meta := auditor.RuleMeta{
		ID: "kueue-managed-namespace-absent", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "SR2 is claimed but no namespace is Kueue-managed",
		Remediation: "Label the namespaces whose GPU pods must go through Kueue so that sr2.kueueManagedNamespaceSelector selects them, " +
			"correct the selector, or remove SR2 from `controls` in the configuration if the platform does not claim it.",
		Inputs: []string{auditor.ResourceNamespaces},
	}
	what := fmt.Sprintf("no Kueue-managed namespace (selector %s, excluding %s)", cfg.KueueManagedSelector(), strings.Join(cfg.SR2.ExcludedNamespaces, ", "))
	return scopeRule(cfg, meta, what,
		func(s *auditor.Snapshot) bool { return s.Saw(auditor.ResourceNamespaces) || s.Offline() },
		func(s *auditor.Snapshot) bool { return len(g.managedNamespaces(s)) > 0 })
}

// LiteLLMProdAbsent: SR3 is claimed but no LiteLLM proxy runs with a prod profile.
func LiteLLMProdAbsent(cfg auditor.Config) auditor.Rule {
	sc := newSR3Scope(cfg)
	meta := auditor.RuleMeta{
		ID: "litellm-prod-absent", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "SR3 is claimed but no LiteLLM prod proxy exists",
		Remediation: "Label the prod LiteLLM config, Deployment or namespace with the profile label (sr3.profileLabel) and a prod profile (sr3.prodProfiles), " +
			"or remove SR3 from `controls` in the configuration if the platform does not claim it.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	what := fmt.Sprintf("no LiteLLM proxy with profile %s", strings.Join(cfg.SR3.ProdProfiles, "/"))
	return scopeRule(cfg, meta, what,
		func(s *auditor.Snapshot) bool {
			return s.Offline() || s.Saw(auditor.ResourceConfigMaps) && s.Saw(auditor.ResourceDeployments)
		},
		func(s *auditor.Snapshot) bool {
			proxies, _ := sc.proxies(s)
			for _, p := range proxies {
				if sc.isProd(p) {
					return true
				}
			}
			return false
		})
}
