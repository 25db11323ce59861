package sr2

import (
	"fmt"
	"sort"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// probeUnguarded: the admission probe refused to run because the guard that keeps the
// auditor's cluster-wide pod create to dry runs is missing. The auditor then holds a
// grant that could create real pods anywhere, and SR2 loses its end-to-end proof: a
// finding on the auditor itself, not only an inconclusive probe.
func probeUnguarded(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "admission-probe-unguarded", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "The admission probe's guard is missing: the auditor refuses to probe",
		Pass:  "the admission probe's guard is in place",
		Remediation: "Restore the probes component's ValidatingAdmissionPolicy enforcement-auditor-probe-dry-run-only and its binding " +
			"(deploy/components/probes, or Helm probes.enabled), so the auditor's pod create stays a dry run; " +
			"or turn --probe-admission off and remove the probes component's pod-create grant.",
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		byReason := map[string][]string{}
		for _, p := range s.AdmissionProbes {
			if p.Unguarded != "" {
				byReason[p.Unguarded] = append(byReason[p.Unguarded], p.Namespace)
			}
		}
		reasons := make([]string, 0, len(byReason))
		for r := range byReason {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		var res auditor.Result
		for _, r := range reasons {
			nss := byReason[r]
			sort.Strings(nss)
			f := meta.NewFinding(nil, fmt.Sprintf(
				"the admission probe refused to run in %s (%s): %s; the auditor's account may create pods where the probes component grants it, "+
					"and nothing keeps those creates to dry runs, so SR2's gate is not verified end to end",
				plural(len(nss), "Kueue-managed namespace"), strings.Join(nss, ", "), r))
			f.Discriminator = r
			res.Findings = append(res.Findings, f)
		}
		return res
	}}
}

// plural spells a count with its noun: "1 namespace", "2 namespaces".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
