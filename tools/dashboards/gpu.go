package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// gpuRequested is GPUs requested per namespace and coverage, deduplicated over replicas.
func gpuRequested(coverage string) string {
	return `max by (namespace, coverage) (enforcement_auditor_gpu_requested{` + sel + `, namespace=~"$namespace", coverage=` + coverage + `})`
}

// bypassingGPUHours integrates the GPUs bypassing quota over the dashboard's range: a
// 1-minute subquery of the per-namespace sum, summed and divided by 60 (each step is one
// minute of that many GPUs). Steps without a series count as zero, as they should.
const bypassingGPUHours = `sum by (namespace) (sum_over_time((sum by (namespace) (max by (namespace, coverage) (enforcement_auditor_gpu_requested{` + sel + `, namespace=~"$namespace", coverage="bypassing"})))[$__range:1m])) / 60`

// gateRules are the SR2 rules about the admission gate itself (every catalogue rule named
// gpu-gate-*; test/deploy checks the panels against the catalogue).
const gateRules = "gpu-gate-policy-missing|gpu-gate-policy-not-enforcing|gpu-gate-policy-exception|gpu-gate-bypassed|gpu-gate-tamper"

// gpuQuotaAndSpend: how many GPUs run around Kueue quota (and for how long), the gate that
// should stop them, and whether prod budgets fail closed.
func gpuQuotaAndSpend() *dashboard.DashboardBuilder {
	b := newBoard("Enforcement auditor: GPU quota and spend", "enforcement-auditor-gpu",
		"GPUs requested around Kueue quota (SR2), the admission gate that should stop them, and whether LiteLLM prod "+
			"budgets fail closed (SR3).", "gpu", "kueue", "litellm")
	b.WithVariable(dashboard.NewQueryVariableBuilder("namespace").
		Label("Namespace").
		Datasource(dsRef).
		Query(strOrMap(`label_values(enforcement_auditor_gpu_requested, namespace)`)).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(1).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(allOption))

	b.row("GPU quota (SR2)")
	b.add(b.stat("GPUs bypassing quota now", "GPUs requested by running pods in Kueue-managed namespaces that Kueue did not admit (no queue name, or not admitted).", 6, 5).
		WithTarget(instant("A", `sum(`+gpuRequested(`"bypassing"`)+`) or vector(0)`, "")).
		Thresholds(steps("green", 1.0, "red")))
	b.add(b.stat("Bypassing GPU-hours (range)", "GPU-hours requested around Kueue quota over the dashboard's time range: what the quota did not account for.", 6, 5).
		WithTarget(instant("A", `sum(`+bypassingGPUHours+`) or vector(0)`, "")).
		Unit("h").Decimals(1).Thresholds(steps("green", 0.1, "red")))
	b.add(b.stat("SR2 GPU quota", "Control status: -1 not applicable, 0 enforced, 1 unknown, 2 violated.", 6, 5).
		WithTarget(instant("A", controlStateOf("SR2"), "{{control}}")).
		Mappings(controlStateMappings).Thresholds(steps("green", 1.0, "orange", 2.0, "red")))
	b.add(b.stat("Gate findings", "Open findings of the admission gate rules: the gate policy missing, not enforcing or exempted by a PolicyException, or bypassed by the probe.", 6, 5).
		WithTarget(instant("A", `sum(max by (rule, control, severity) (enforcement_auditor_findings{`+sel+`, rule=~"`+gateRules+`", severity=~"medium|high|critical"}))`, "")).
		Thresholds(steps("green", 1.0, "red")))
	b.add(b.timeseries("GPUs bypassing quota by namespace", "enforcement_auditor_gpu_requested{coverage=\"bypassing\"}.", 12, 8).
		WithTarget(query("A", `sum by (namespace) (`+gpuRequested(`"bypassing"`)+`)`, "{{namespace}}")).
		Min(0).Decimals(0).FillOpacity(20).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)))
	b.add(b.timeseries("GPUs requested by coverage", "admitted: through Kueue; bypassing: around it; pending: waiting for Kueue; out_of_scope: namespaces not Kueue-managed or excluded.", 12, 8).
		WithTarget(query("A", `sum by (coverage) (`+gpuRequested(`~".+"`)+`)`, "{{coverage}}")).
		Min(0).Decimals(0).FillOpacity(20).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)))
	b.add(b.table("Bypassing GPU-hours by namespace", "GPU-hours around quota over the dashboard's time range, per namespace.", 8, 8).
		WithTarget(tableQuery("A", bypassingGPUHours+` > 0`)).
		Unit("h").Decimals(2))
	b.add(b.table("GPU pods around quota", "Pods the auditor reports: no queue name (gpu-pod-missing-queue-name) or running without Kueue admission (gpu-pod-not-admitted).", 16, 8).
		WithTarget(tableQuery("A", `max by (rule, severity, namespace, kind, name, waived) (enforcement_auditor_finding{`+sel+`, namespace=~"$namespace", rule=~"gpu-pod-missing-queue-name|gpu-pod-not-admitted"})`)))
	b.add(b.table("Admission probe", "Latest dry-run create of a GPU pod without a queue name per Kueue-managed namespace (--probe-admission): admitted means the gate is bypassed.", 12, 6).
		WithTarget(tableQuery("A", `max by (namespace, result) (enforcement_auditor_admission_probe_result{`+sel+`, namespace=~"$namespace"}) == 1`)))
	b.add(b.table("Gate findings", "Why the gate does not hold: the admission policy is missing, not enforcing, exempted by a PolicyException, or was bypassed by the probe.", 12, 6).
		WithTarget(tableQuery("A", `max by (rule, severity, namespace, kind, name, waived) (enforcement_auditor_finding{`+sel+`, rule=~"`+gateRules+`"})`)))

	b.row("Budgets (SR3)")
	b.add(b.stat("SR3 fail-closed budgets", "Control status: -1 not applicable, 0 enforced, 1 unknown, 2 violated.", 6, 5).
		WithTarget(instant("A", controlStateOf("SR3"), "{{control}}")).
		Mappings(controlStateMappings).Thresholds(steps("green", 1.0, "orange", 2.0, "red")))
	b.add(b.stat("Prod LiteLLM failing open", "Prod LiteLLM deployments that let requests through when the database is unavailable (budget-fail-open-in-prod): spend is not limited during a DB outage.", 6, 5).
		WithTarget(instant("A", `sum(max by (rule, control, severity) (enforcement_auditor_findings{`+sel+`, rule="budget-fail-open-in-prod"})) or vector(0)`, "")).
		Thresholds(steps("green", 1.0, "red")))
	b.add(b.timeseries("SR3 findings by rule", "Open unwaived SR3 findings: fail-open, unverifiable, database not HA, cache not Redis, unparseable config.", 12, 5).
		WithTarget(query("A", `sum by (rule) (max by (rule, control, severity) (enforcement_auditor_findings{`+sel+`, control="SR3"})) > 0`, "{{rule}}")).
		Min(0).Decimals(0))
	b.add(b.table("Prod budget findings", "Per LiteLLM deployment, config or database: what keeps budgets from failing closed.", 24, 8).
		WithTarget(tableQuery("A", `max by (rule, severity, namespace, kind, name, waived) (enforcement_auditor_finding{`+sel+`, control="SR3"})`)))
	return b.DashboardBuilder
}
