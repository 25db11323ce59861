package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// panel is the part of a Grafana panel these tests read.
type panel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Mappings []struct {
				Options map[string]struct {
					Text string `json:"text"`
				} `json:"options"`
			} `json:"mappings"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

// dashboardPanels returns every panel of dashboards/*.json, by "file: panel N: title".
func dashboardPanels(t *testing.T) map[string]panel {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]panel{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		var d struct {
			Panels []panel `json:"panels"`
		}
		require.NoError(t, json.Unmarshal(b, &d), file)
		for i, p := range d.Panels {
			out[fmt.Sprintf("%s: panel %d: %s", filepath.Base(file), i, p.Title)] = p
		}
	}
	return out
}

var ruleAlternation = regexp.MustCompile(`rule=~"([^"]+)"`)

// TestDashboardGatePanelsCoverEveryGateRule: the gate panels list every rule about the
// SR2 admission gate in the catalogue (gpu-gate-*), so a gate rule added later cannot be
// left out of them (gpu-gate-policy-exception once was).
func TestDashboardGatePanelsCoverEveryGateRule(t *testing.T) {
	var want []string
	for _, m := range rules.Catalogue() {
		if m.Control == auditor.SR2 && strings.HasPrefix(m.ID, "gpu-gate-") {
			want = append(want, m.ID)
		}
	}
	sort.Strings(want)
	require.NotEmpty(t, want)

	n := 0
	for name, p := range dashboardPanels(t) {
		if !strings.Contains(p.Title, "Gate findings") {
			continue
		}
		n++
		for _, tg := range p.Targets {
			m := ruleAlternation.FindStringSubmatch(tg.Expr)
			require.NotNil(t, m, "%s: no rule=~ matcher in %q", name, tg.Expr)
			got := strings.Split(m[1], "|")
			sort.Strings(got)
			assert.Equal(t, want, got, "%s: the gate panel's rules", name)
		}
	}
	assert.GreaterOrEqual(t, n, 2, "the GPU dashboard's gate stat and table")
}

// TestDashboardControlStateMappings: every panel that shows a control's state maps each
// encoded state to its name (-1 not applicable, 0 enforced, 1 unknown, 2 violated), so no
// state shows as a bare number.
func TestDashboardControlStateMappings(t *testing.T) {
	want := map[string]string{"-1": "Not applicable", "0": "Enforced", "1": "Unknown", "2": "Violated"}
	n := 0
	for name, p := range dashboardPanels(t) {
		reads := false
		for _, tg := range p.Targets {
			reads = reads || strings.Contains(tg.Expr, "enforcement_auditor_control_status")
		}
		if !reads {
			continue
		}
		n++
		got := map[string]string{}
		for _, m := range p.FieldConfig.Defaults.Mappings {
			for v, o := range m.Options {
				got[v] = o.Text
			}
		}
		assert.Equal(t, want, got, "%s: value mappings of the control states", name)
	}
	assert.GreaterOrEqual(t, n, 4, "the posture dashboard's stat and timeline, the GPU dashboard's SR2 and SR3 stats")
}
