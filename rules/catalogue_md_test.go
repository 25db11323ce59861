package rules

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeCatalogueUpToDate fails when README.md's rule catalogue differs from the rules
// (run `make generate`), and checks every rule has its runbook heading.
func TestReadmeCatalogueUpToDate(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	require.Contains(t, string(b), CatalogueMarkdown(), "README.md's rule catalogue is stale: run `make generate`")
	for _, m := range Catalogue() {
		doc := docFile[m.Control]
		if m.ID == "waiver-invalid" {
			doc = "docs/telemetry-metrics.md"
		}
		d, err := os.ReadFile("../" + doc)
		require.NoError(t, err)
		require.True(t, strings.Contains(string(d), "### "+m.ID+"\n") || strings.Contains(string(d), "### `"+m.ID+"`"),
			"%s has no `### %s` heading (alert runbook_url anchors point there)", doc, m.ID)
	}
}
