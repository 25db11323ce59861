package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestOperateDocIsCurrent: docs/operate.md holds the table the table of kinds generates
// (`make generate` rewrites it).
func TestOperateDocIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../docs/operate.md")
	require.NoError(t, err)
	got, err := rewrite(string(b))
	require.NoError(t, err)
	assert.Equal(t, string(b), got, "docs/operate.md's RBAC table is stale: run make generate")
}

// TestTableHasEveryKind: every kind of the table of kinds appears in exactly one row,
// with its reason and scope.
func TestTableHasEveryKind(t *testing.T) {
	out := table(auditor.Kinds, auditor.DefaultConfig())
	rows := strings.Split(strings.TrimSuffix(out, "\n"), "\n")[2:]
	for _, r := range auditor.Kinds {
		name := "`" + r.Resource + "`"
		if r.Group != "" {
			name = "`" + r.Resource + "." + r.Group + "`"
		}
		found := 0
		for _, row := range rows {
			cells := strings.Split(row, " | ")
			if strings.Contains(cells[0], name) || strings.Contains(cells[0], "`"+r.Resource+"`") && strings.Contains(cells[0], "(`"+r.Group+"`)") {
				found++
				assert.Contains(t, row, r.Why, r.ID)
			}
		}
		assert.Equal(t, 1, found, "%s appears in %d rows", r.ID, found)
	}
	_, err := rewrite("no markers here")
	assert.Error(t, err)
}
