package main

import (
	"sort"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/text"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

const (
	// repoDocs is where the runbooks (one `### <rule-id>` heading per rule) live.
	repoDocs = "https://github.com/llm-platform/enforcement-auditor/blob/main/docs"
	// defaultEvidenceURL is the auditor's /evidence endpoint through its Service; operators
	// who reach it through an ingress or a port-forward change the evidence_url variable.
	defaultEvidenceURL = "https://enforcement-auditor.enforcement-auditor.svc:8080/evidence"
)

// sel is the series selector every query starts from: the chosen cluster and auditor
// jobs. One cluster at a time: behind Thanos or Mimir every series carries the cluster
// external label, and no panel may merge two clusters' findings. A single Prometheus
// without that label leaves $cluster empty, which matches series without it.
const sel = `cluster=~"$cluster", job=~"$job"`

// Dedupe across replicas (leader election runs two): findings and facts are the same
// on every replica that evaluates, so the dashboards take the max per identity.

// controlState encodes the control state set as one number per control: -1
// not-applicable, 0 enforced, 1 unknown, 2 violated. Violated is the max over replicas
// (one replica proving a violation is enough); unknown and not-applicable the min (a
// standby that never evaluated must not hide the leader's verdict).
const controlState = `max by (control) (enforcement_auditor_control_status{` + sel + `, state="violated"}) * 2
  + min by (control) (enforcement_auditor_control_status{` + sel + `, state="unknown"})
  - min by (control) (enforcement_auditor_control_status{` + sel + `, state="not-applicable"})`

// controlStateOf is controlState for one control.
func controlStateOf(control string) string {
	c := `, control="` + control + `"`
	return `max by (control) (enforcement_auditor_control_status{` + sel + c + `, state="violated"}) * 2
  + min by (control) (enforcement_auditor_control_status{` + sel + c + `, state="unknown"})
  - min by (control) (enforcement_auditor_control_status{` + sel + c + `, state="not-applicable"})`
}

var controlStateMappings = []dashboard.ValueMapping{valueText(map[string][2]string{
	"-1": {"Not applicable", "blue"},
	"0":  {"Enforced", "green"},
	"1":  {"Unknown", "orange"},
	"2":  {"Violated", "red"},
})}

var (
	dsRef = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
	// allOption selects every value of a multi-value variable by default.
	allOption = dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
	}
)

// board lays panels out left to right, top to bottom, and numbers them, so the JSON is
// stable across runs.
type board struct {
	*dashboard.DashboardBuilder
	nextID uint32
}

func newBoard(title, uid, description string, tags ...string) *board {
	b := &board{DashboardBuilder: dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags(append([]string{"enforcement-auditor", "llm-platform"}, tags...)).
		Editable().
		Refresh("1m").
		Time("now-24h", "now").
		Timezone(common.TimeZoneUtc).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("cluster").
			Label("Cluster").
			Description("The cluster (the cluster external label of a Thanos or Mimir global view); empty on a single Prometheus.").
			Datasource(dsRef).
			Query(strOrMap(`label_values(enforcement_auditor_build_info, cluster)`)).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(1)).
		WithVariable(dashboard.NewQueryVariableBuilder("job").
			Label("Auditor job").
			Description("Prometheus job(s) scraping the enforcement auditor.").
			Datasource(dsRef).
			Query(strOrMap(`label_values(enforcement_auditor_build_info, job)`)).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(1).
			Multi(true).
			// No custom all value: "All" expands to the auditor jobs found, so up{job=~"$job"}
			// never counts other targets.
			IncludeAll(true).
			Current(allOption)).
		WithVariable(dashboard.NewTextBoxVariableBuilder("evidence_url").
			Label("Evidence URL").
			Description("Where your browser reaches the auditor's /evidence endpoint (Service, ingress or port-forward).").
			DefaultValue(strOrMap(defaultEvidenceURL))).
		Link(dashboard.NewDashboardLinkBuilder("Evidence (signed JSON)").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("doc").
			Tooltip("The auditor's latest evidence document: findings, inputs and their availability").
			Url("${evidence_url}").
			TargetBlank(true)).
		Link(dashboard.NewDashboardLinkBuilder("Runbooks").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("info").
			Tooltip("Remediation per rule").
			Url(repoDocs + "/rules/").
			TargetBlank(true)).
		Link(dashboard.NewDashboardLinkBuilder("Operating the auditor").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("doc").
			Url(repoDocs + "/operate.md").
			TargetBlank(true)).
		Link(dashboard.NewDashboardLinkBuilder("Enforcement auditor dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"enforcement-auditor"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)),
	}
	return b
}

// panelBuilder is what every SDK panel builder satisfies once given an id.
type panelBuilder interface {
	cog.Builder[dashboard.Panel]
}

func (b *board) row(title string) {
	b.nextID++
	b.WithRow(dashboard.NewRowBuilder(title).Id(b.nextID))
}

func (b *board) add(p panelBuilder) {
	b.WithPanel(p)
}

func (b *board) id() uint32 {
	b.nextID++
	return b.nextID
}

func strOrMap(s string) dashboard.StringOrMap { return dashboard.StringOrMap{String: cog.ToPtr(s)} }

// query is a range query for time series panels.
func query(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Datasource(dsRef).Expr(expr).LegendFormat(legend).Range()
}

// instant is an instant query for stat panels.
func instant(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Datasource(dsRef).Expr(expr).LegendFormat(legend).Instant()
}

// tableQuery is an instant query whose labels become columns.
func tableQuery(ref, expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(ref).Datasource(dsRef).Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
}

func valueText(m map[string][2]string) dashboard.ValueMapping {
	// Every key, in numeric order (Index orders the legend): a fixed list of keys once
	// left out -1 (not applicable).
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		x, _ := strconv.Atoi(keys[a])
		y, _ := strconv.Atoi(keys[b])
		return x < y
	})
	opts := map[string]dashboard.ValueMappingResult{}
	for i, k := range keys {
		v := m[k]
		opts[k] = dashboard.ValueMappingResult{Text: cog.ToPtr(v[0]), Color: cog.ToPtr(v[1]), Index: cog.ToPtr(int32(i))}
	}
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}
}

// steps builds absolute thresholds: a base color, then (value, color) pairs.
func steps(base string, pairs ...any) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(pairs); i += 2 {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(pairs[i].(float64)), Color: pairs[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

func thresholdColors() *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)
}

func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func (b *board) stat(title, desc string, w, h uint32) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(dsRef).
		Span(w).Height(h).ReduceOptions(lastValue()).GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeBackground).ColorScheme(thresholdColors())
}

func (b *board) timeseries(title, desc string, w, h uint32) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(dsRef).
		Span(w).Height(h).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementRight).ShowLegend(true).Calcs([]string{"lastNotNull", "max"}))
}

func (b *board) table(title, desc string, w, h uint32) *table.PanelBuilder {
	return table.NewPanelBuilder().Id(b.id()).Title(title).Description(desc).Datasource(dsRef).
		Span(w).Height(h).Filterable(true).
		// Time and Value are noise for label-only tables; the organize step hides them.
		WithTransformation(dashboard.DataTransformerConfig{
			Id:      "organize",
			Options: map[string]any{"excludeByName": map[string]any{"Time": true, "__name__": true}},
		})
}

func (b *board) text(title, markdown string, w, h uint32) *text.PanelBuilder {
	return text.NewPanelBuilder().Id(b.id()).Title(title).Span(w).Height(h).
		Mode(text.TextModeMarkdown).Content(markdown)
}
