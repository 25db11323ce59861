package auditor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A second YAML document in the config (an override appended after "---") was ignored
// silently: only the first was read.
func TestConfigHoldsOneDocument(t *testing.T) {
	header := "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\n"
	for name, c := range map[string]struct{ file, wantErr string }{
		"one document":            {header + "sr1:\n  protectedNamespaces: [vllm]\n", ""},
		"a leading ---":           {"---\n" + header, ""},
		"a trailing ---":          {header + "---\n", ""},
		"a trailing empty doc":    {header + "---\n# nothing here\n", ""},
		"an override appended":    {header + "---\n" + header + "sr1:\n  protectedNamespaces: [nothing-here]\n", "document 2 (line 4): a config file holds one YAML document"},
		"an empty first document": {"---\n---\n" + header, "document 2 (line 3)"},
		"a third document":        {header + "---\n---\nsr1: {}\n", "document 3 (line 5)"},
	} {
		t.Run(name, func(t *testing.T) {
			path := writeConfig(t, c.file)
			_, err := LoadConfig(path)
			if c.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "config "+path+": "+c.wantErr)
		})
	}
}
