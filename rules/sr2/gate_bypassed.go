package sr2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
)

// Admission probe result values of the admission_probe_result fact.
var admissionProbeResults = []string{"admitted", "denied", "error"}

// gateBypassed: the active probe's server-side dry-run create of a GPU pod without a
// queue name was accepted: whatever the policies say, the gate does not hold.
func gateBypassed(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-gate-bypassed", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "A GPU pod without a queue name passes admission (active probe)",
		Pass:  "the admission probe's GPU pod without a queue name was denied",
		Remediation: fmt.Sprintf("Reproduce with `kubectl create --dry-run=server -n <ns> -f <gpu-pod-without-queue.yaml>`; "+
			"then fix what gpu-gate-policy-missing / gpu-gate-policy-not-enforcing report for %s (policy action, match, webhook, Kyverno health).",
			strings.Join(cfg.SR2.GatePolicyNames, ", ")),
		Inputs: []string{auditor.ResourceNamespaces},
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		probes := append([]auditor.AdmissionProbeResult(nil), s.AdmissionProbes...)
		sort.SliceStable(probes, func(i, j int) bool { return probes[i].Namespace < probes[j].Namespace })
		for _, p := range probes {
			result := "denied"
			switch {
			case strings.HasPrefix(p.Error, "inconclusive: "):
				// Denied, but not by the gate: the gate is not verified (state "error").
				result = "error"
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("admission probe in namespace %s is %s", p.Namespace, fields.Shorten(p.Error, 400)))
			case p.Error != "":
				result = "error"
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("admission probe in namespace %s could not run: %s", p.Namespace, fields.Shorten(p.Error, 300)))
			case p.Admitted:
				result = "admitted"
				res.Findings = append(res.Findings, meta.NewFinding(family.NamespaceRef(p.Namespace), fmt.Sprintf(
					"a server-side dry-run create of a pod requesting a GPU without label %s in Kueue-managed namespace %s was accepted at %s: the admission gate does not deny there",
					cfg.SR2.QueueNameLabel, p.Namespace, p.At.UTC().Format("2006-01-02T15:04:05Z"))))
			}
			for _, r := range admissionProbeResults {
				v := 0.0
				if r == result {
					v = 1
				}
				res.Facts = append(res.Facts, auditor.Fact{
					Metric: "admission_probe_result",
					Help:   "Outcome of the last admission probe per namespace (state set: admitted, denied, error).",
					Labels: []auditor.Label{{Name: "namespace", Value: p.Namespace}, {Name: "result", Value: r}},
					Value:  v,
				})
			}
			if !p.At.IsZero() {
				res.Facts = append(res.Facts, auditor.Fact{
					Metric: "admission_probe_last_run_timestamp_seconds",
					Help:   "Unix time of the last admission probe per namespace.",
					Labels: []auditor.Label{{Name: "namespace", Value: p.Namespace}},
					Value:  float64(p.At.Unix()),
				})
			}
		}
		return res
	}}
}
