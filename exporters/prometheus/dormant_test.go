package prometheus

import (
	"testing"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The findings of a control not claimed leave the alerting series (findings, finding,
// control_status violated) and have their own.
func TestDormantFindingsSeries(t *testing.T) {
	metaDB := auditor.RuleMeta{ID: "budget-db-not-ha-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh}
	metaFO := auditor.RuleMeta{ID: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical}
	ev := &auditor.Evaluation{
		At: t0, Duration: time.Millisecond,
		Findings: []auditor.Finding{
			finding(metaDeny, auditor.SeverityHigh, obj("Namespace", "", "serving")),
			finding(metaDB, auditor.SeverityHigh, obj("Cluster", "litellm", "pg")),
			finding(metaDB, auditor.SeverityHigh, obj("Cluster", "litellm", "pg2")),
			waived(finding(metaDB, auditor.SeverityHigh, obj("Cluster", "litellm", "pg3"))),
		},
		Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Violated},
	}
	ev.ApplyClaims(func(c auditor.Control) bool { return c != auditor.SR3 })
	c := New(Options{Store: published(ev), Rules: []auditor.RuleMeta{metaDeny, metaDB, metaFO}, MaxFindingSeries: 10})

	compare(t, c, `# HELP enforcement_auditor_dormant_findings Findings of the controls the configuration does not claim (dormant: not-applicable, they fail nothing and page nobody), not waived, by rule and severity: what would fail were the control claimed. Every rule of a dormant control has a series for every severity (0 when none); no series when every control is claimed. Not for alerting.
# TYPE enforcement_auditor_dormant_findings gauge
enforcement_auditor_dormant_findings{control="SR3",rule="budget-db-not-ha-in-prod",severity="critical"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-db-not-ha-in-prod",severity="high"} 2
enforcement_auditor_dormant_findings{control="SR3",rule="budget-db-not-ha-in-prod",severity="info"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-db-not-ha-in-prod",severity="low"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-db-not-ha-in-prod",severity="medium"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-fail-open-in-prod",severity="critical"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-fail-open-in-prod",severity="high"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-fail-open-in-prod",severity="info"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-fail-open-in-prod",severity="low"} 0
enforcement_auditor_dormant_findings{control="SR3",rule="budget-fail-open-in-prod",severity="medium"} 0
`, "dormant_findings")
	compare(t, c, helpFinding+`enforcement_auditor_finding{control="SR1",kind="Namespace",name="serving",namespace="",rule="netpol-default-deny-missing",severity="high",waived="false"} 1
`, "finding")
	compare(t, c, controlText(auditor.Violated, auditor.Enforced, auditor.NotApplicable), "control_status")

	// Every control claimed: no dormant series at all.
	ev2 := &auditor.Evaluation{At: t0, Controls: map[auditor.Control]auditor.ControlState{}}
	c2 := New(Options{Store: published(ev2), Rules: []auditor.RuleMeta{metaDeny, metaDB}})
	compare(t, c2, "", "dormant_findings")
}
