package deploy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The findings of a control the configuration does not claim are a readiness report, not
// an incident: no alert may select their series.
func TestAlertsNeverSelectDormantFindings(t *testing.T) {
	qs := alertQueries(t)
	require.NotEmpty(t, qs)
	res := parsePromQL(t, qs)
	for _, q := range qs {
		for _, s := range res[q.ID].Selectors {
			assert.NotEqual(t, "enforcement_auditor_dormant_findings", s.Name, "%s pages on dormant findings:\n%s", q.ID, q.Expr)
		}
	}
}
