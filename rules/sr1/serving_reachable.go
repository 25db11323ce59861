package sr1

import (
	"fmt"
	"strings"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// servingReachableFromUntrusted turns the active network probe into proof: the auditor
// runs outside the trusted namespaces, so a completed TCP handshake to a protected
// Service means an untrusted pod can bypass LiteLLM, whatever the policies say.
func servingReachableFromUntrusted(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "serving-reachable-from-untrusted", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "A protected Service accepted a connection from an untrusted namespace",
		Pass:  "no protected Service accepted a connection from an untrusted namespace",
		Remediation: "Find the policy that admits the auditor's namespace (see netpol-ingress-outside-allowlist and " +
			"netpol-default-deny-missing findings for the namespace) or the reason the CNI does not enforce (cni-not-enforcing); " +
			"fix it and wait for the next probe to fail to connect.",
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if len(s.NetworkProbes) == 0 {
			return res // probing is off
		}
		// Every protected or probed namespace publishes every outcome, zero included.
		outcomes := family.NewTally()
		last := map[string]time.Time{}
		for _, ns := range v.protected {
			outcomes.Seed(ns, auditor.NetworkProbeOutcomes...)
		}
		for _, r := range s.NetworkProbes {
			outcomes.Seed(r.Namespace, auditor.NetworkProbeOutcomes...)
			outcomes.Add(r.Namespace, r.Bucket(), 1)
			if r.At.After(last[r.Namespace]) {
				last[r.Namespace] = r.At
			}
			if !r.Reachable {
				continue
			}
			target := r.Target
			when := ""
			if !r.At.IsZero() {
				when = " at " + r.At.UTC().Format(time.RFC3339)
			}
			f := meta.NewFinding(&target, fmt.Sprintf(
				"the auditor, running outside the allow-list (%s), completed a TCP connection to %s (%s, port %d) in protected namespace %s%s: untrusted pods can reach it without going through LiteLLM",
				v.allowListClause(r.Namespace), targetName(r.Target), r.Address, r.Port, r.Namespace, when))
			f.Discriminator = r.Address
			res.Findings = append(res.Findings, f)
		}
		res.Facts = outcomes.Facts("network_probe_targets",
			"Protected targets probed by the active network probe in its latest run, by namespace and outcome (connected means reachable from outside the allow-list).",
			"outcome", auditor.NetworkProbeOutcomes)
		for _, ns := range outcomes.Namespaces() {
			if t, ok := last[ns]; ok && !t.IsZero() {
				res.Facts = append(res.Facts, auditor.Fact{
					Metric: "network_probe_last_run_timestamp_seconds",
					Help:   "Unix time of the latest active network probe result for a protected namespace.",
					Labels: []auditor.Label{{Name: "namespace", Value: ns}},
					Value:  float64(t.UnixNano()) / 1e9,
				})
			}
		}
		return res
	}}
}

func targetName(t auditor.ObjectRef) string {
	if t.Kind == "" {
		return "target " + t.Name
	}
	return strings.TrimSpace(t.Kind + " " + t.Namespace + "/" + t.Name)
}
