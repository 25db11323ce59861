package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
)

// securityPosture: is each control enforced, which findings make it not, what the
// auditor saw of the network layer, and whether the auditor itself can be trusted.
func securityPosture() *dashboard.DashboardBuilder {
	b := newBoard("Enforcement auditor: security posture", "enforcement-auditor-posture",
		"Whether SR1 (budget path), SR2 (GPU quota) and SR3 (fail-closed budgets) are enforced, the open findings, "+
			"the CNI and probe results, and the auditor's own health.", "security")
	b.WithVariable(dashboard.NewCustomVariableBuilder("severity").
		Label("Finding severity").
		Values(strOrMap("critical,high,medium,low,info")).
		Multi(true).
		IncludeAll(true).
		AllValue("critical|high|medium|low|info").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{"critical", "high", "medium"}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"critical", "high", "medium"}},
		}))

	b.row("Controls")
	b.add(b.stat("Control status", "-1 not applicable (nothing in scope, control not claimed), 0 enforced, 1 unknown (inconclusive rule, input not seen or stale auditor), 2 violated (an unwaived finding of medium severity or above).", 12, 5).
		WithTarget(instant("A", controlState, "{{control}}")).
		Mappings(controlStateMappings).
		Thresholds(steps("green", 1.0, "orange", 2.0, "red")).
		TextMode(common.BigValueTextModeValueAndName).
		NoValue("No data: is the auditor scraped?"))
	b.add(b.stat("Open findings (unwaived)", "Open findings not covered by a waiver, in the selected severities.", 4, 5).
		WithTarget(instant("A", `sum(max by (rule, control, severity) (enforcement_auditor_findings{`+sel+`, severity=~"$severity"}))`, "")).
		Thresholds(steps("green", 1.0, "red")))
	b.add(b.stat("Waived findings", "Open findings covered by an active waiver: accepted risk, still visible.", 4, 5).
		WithTarget(instant("A", `sum(max by (rule, control) (enforcement_auditor_findings_waived{`+sel+`}))`, "")).
		Thresholds(steps("green", 1.0, "yellow")))
	b.add(b.stat("Findings left out of per-object series", "enforcement_auditor_finding_series_dropped: the per-finding series cap (metrics.maxFindingSeries) is cutting; the tables below are incomplete.", 4, 5).
		WithTarget(instant("A", `max(enforcement_auditor_finding_series_dropped{`+sel+`})`, "")).
		Thresholds(steps("green", 1.0, "orange")))
	b.add(statetimeline.NewPanelBuilder().Id(b.id()).Title("Control status over time").Datasource(dsRef).
		Description("Enforced, unknown, violated or not applicable, per control.").
		Span(24).Height(5).
		WithTarget(query("A", controlState, "{{control}}")).
		Mappings(controlStateMappings).
		Thresholds(steps("green", 1.0, "orange", 2.0, "red")).
		ColorScheme(thresholdColors()).
		ShowValue(common.VisibilityModeNever).
		MergeValues(true))

	b.row("Findings")
	b.add(b.timeseries("Open findings by rule", "Unwaived open findings per rule in the selected severities.", 12, 8).
		WithTarget(query("A", `sum by (control, rule) (max by (rule, control, severity) (enforcement_auditor_findings{`+sel+`, severity=~"$severity"})) > 0`, "{{control}} {{rule}}")).
		Min(0).Decimals(0))
	b.add(b.timeseries("Open findings by namespace", "Unwaived open findings per namespace of the object (empty: cluster-scoped objects), from the per-object series.", 12, 8).
		WithTarget(query("A", `sum by (namespace) (max by (rule, control, severity, namespace, kind, name) (enforcement_auditor_finding{`+sel+`, waived="false", severity=~"$severity"}))`, "{{namespace}}")).
		Min(0).Decimals(0))
	b.add(b.table("Open findings", "One row per object and rule. Remediation: the runbook of the rule (Runbooks link above); details and messages: the evidence document.", 24, 10).
		WithTarget(tableQuery("A", `max by (control, rule, severity, namespace, kind, name, waived) (enforcement_auditor_finding{`+sel+`, severity=~"$severity"})`)))
	b.add(b.table("Rules that could not judge", "Rules inconclusive in the last evaluation (an input forbidden, pending or failing; unexpected input). Their control reads unknown.", 12, 8).
		WithTarget(tableQuery("A", `min by (control, rule) (enforcement_auditor_rule_inconclusive{`+sel+`}) == 1`)))
	b.add(b.timeseries("Waived findings by rule", "Accepted risk per rule: findings under an active waiver.", 12, 8).
		WithTarget(query("A", `sum by (control, rule) (max by (rule, control) (enforcement_auditor_findings_waived{`+sel+`})) > 0`, "{{control}} {{rule}}")).
		Min(0).Decimals(0))

	b.row("Network layer (SR1)")
	b.add(b.table("CNI", "CNI detected from DaemonSets and ConfigMaps, and whether it enforces NetworkPolicy (true, false, unknown).", 8, 6).
		WithTarget(tableQuery("A", `max by (cni, enforcing) (enforcement_auditor_cni_info{`+sel+`})`)))
	b.add(b.timeseries("Network probe: protected targets by outcome", "Active probe (--probe-network) from the auditor's namespace, outside the allow-list: connected means an untrusted pod can reach the target.", 10, 6).
		WithTarget(query("A", `sum by (namespace, outcome) (max by (namespace, outcome) (enforcement_auditor_network_probe_targets{`+sel+`}))`, "{{namespace}} {{outcome}}")).
		Min(0).Decimals(0))
	b.add(b.stat("Network probe age", "Time since the latest network probe result per protected namespace. Empty when probing is off.", 6, 6).
		WithTarget(instant("A", `time() - max by (namespace) (enforcement_auditor_network_probe_last_run_timestamp_seconds{`+sel+`})`, "{{namespace}}")).
		Unit("s").Thresholds(steps("green", 900.0, "orange", 1800.0, "red")).
		TextMode(common.BigValueTextModeValueAndName))

	b.row("Admission gate (SR2)")
	b.add(b.table("Admission probe: latest result", "Server-side dry-run create (--probe-admission) of a GPU pod without a queue name: admitted means the gate is bypassed.", 12, 6).
		WithTarget(tableQuery("A", `max by (namespace, result) (enforcement_auditor_admission_probe_result{`+sel+`}) == 1`)))
	b.add(b.stat("Admission probe age", "Time since the latest admission probe per Kueue-managed namespace. Empty when probing is off.", 12, 6).
		WithTarget(instant("A", `time() - max by (namespace) (enforcement_auditor_admission_probe_last_run_timestamp_seconds{`+sel+`})`, "{{namespace}}")).
		Unit("s").Thresholds(steps("green", 900.0, "orange", 1800.0, "red")).
		TextMode(common.BigValueTextModeValueAndName))

	b.row("Auditor health")
	b.add(b.stat("Scrape targets up", "Auditor replicas Prometheus scrapes successfully.", 4, 5).
		WithTarget(instant("A", `sum(up{`+sel+`})`, "")).
		Thresholds(steps("red", 1.0, "green")).NoValue("0"))
	b.add(b.stat("Last successful evaluation", "Age of the newest successful evaluation over the replicas. The auditor re-evaluates on every change and every 5 minutes.", 5, 5).
		WithTarget(instant("A", `time() - max(enforcement_auditor_last_evaluation_success_timestamp_seconds{`+sel+`})`, "")).
		Unit("s").Thresholds(steps("green", 600.0, "orange", 900.0, "red")).NoValue("never"))
	b.add(b.stat("Stale", "1: the API server is unreachable; the auditor serves the last known findings and every control reads unknown.", 4, 5).
		WithTarget(instant("A", `max(enforcement_auditor_stale{`+sel+`})`, "")).
		Mappings([]dashboard.ValueMapping{valueText(map[string][2]string{"0": {"Live", "green"}, "1": {"Stale", "red"}})}).
		Thresholds(steps("green", 1.0, "red")))
	b.add(b.stat("Facts skipped", "Rule facts not exported (a rule bug). Should be 0.", 4, 5).
		WithTarget(instant("A", `max(enforcement_auditor_facts_skipped{`+sel+`})`, "")).
		Thresholds(steps("green", 1.0, "orange")))
	b.add(b.table("Version", "Builds running, per version and revision.", 7, 5).
		WithTarget(tableQuery("A", `count by (version, revision, goversion) (enforcement_auditor_build_info{`+sel+`})`)))
	b.add(b.table("Resources not synced", "Watched resources whose cache is pending, failing or forbidden (RBAC). not_served is normal for a CRD that is not installed.", 12, 8).
		WithTarget(tableQuery("A", `max by (resource, state) (enforcement_auditor_resource_sync_state{`+sel+`, state!="synced"}) == 1`)))
	b.add(b.timeseries("List/watch errors", "List and watch errors per resource (rate).", 12, 8).
		WithTarget(query("A", `sum by (resource) (rate(enforcement_auditor_list_watch_errors_total{`+sel+`}[$__rate_interval])) > 0`, "{{resource}}")).
		Unit("ops").Min(0))
	b.add(b.timeseries("Evaluation duration", "Time to evaluate every rule over one snapshot.", 12, 8).
		WithTarget(query("A", `histogram_quantile(0.5, sum by (le) (rate(enforcement_auditor_evaluation_duration_seconds_bucket{`+sel+`}[$__rate_interval])))`, "p50")).
		WithTarget(query("B", `histogram_quantile(0.95, sum by (le) (rate(enforcement_auditor_evaluation_duration_seconds_bucket{`+sel+`}[$__rate_interval])))`, "p95")).
		WithTarget(query("C", `histogram_quantile(0.99, sum by (le) (rate(enforcement_auditor_evaluation_duration_seconds_bucket{`+sel+`}[$__rate_interval])))`, "p99")).
		Unit("s").Min(0))
	b.add(b.timeseries("Evaluations and errors", "Evaluations per second, and evaluations that could not run (no snapshot).", 12, 8).
		WithTarget(query("A", `sum(rate(enforcement_auditor_evaluation_duration_seconds_count{`+sel+`}[$__rate_interval]))`, "evaluations")).
		WithTarget(query("B", `sum(rate(enforcement_auditor_evaluation_errors_total{`+sel+`}[$__rate_interval]))`, "errors")).
		Unit("ops").Min(0))
	return b.DashboardBuilder
}
