// Module dashboards generates the auditor's Grafana dashboards (dashboards/*.json) as code
// with Grafana's foundation SDK. It is separate from the main module so the SDK never
// reaches the main go.mod. Run it through hack/generate.sh.
module github.com/llm-platform/enforcement-auditor/tools/dashboards

go 1.25.0

require github.com/grafana/grafana-foundation-sdk/go v0.0.12
