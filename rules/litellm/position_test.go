package litellm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPosition: where the fail-open flag's value is written, as messages say it: PyYAML's
// line and column; the alias and the anchor when it is reached through one; the editor's
// line when a NEL, LS or PS that PyYAML counts as a line break comes before it.
func TestPosition(t *testing.T) {
	const key = "allow_requests_on_db_unavailable"
	cases := map[string]struct{ in, want string }{
		"plain":                      {"general_settings:\n  " + key + ": true\n", "line 2, column 37"},
		"CRLF and CR":                {"a: 1\r\nb: 2\rgeneral_settings:\r\n  " + key + ": true\r\n", "line 4, column 37"},
		"a tab in a comment counted": {"general_settings: # a\tb\n  " + key + ": true\n", "line 2, column 37"},
		"alias": {"x: &on true\ngeneral_settings:\n  " + key + ": *on\n",
			"alias *on at line 3, column 37, of anchor &on at line 1, column 4"},
		"alias through a merged mapping keeps the anchor's place": {"base: &b\n  " + key + ": true\ngeneral_settings:\n  <<: *b\n",
			"line 2, column 37"},
		"after a NEL in a comment": {"general_settings:\n  " + key + ": false # closed\u0085  " + key + ": true\n",
			"line 3, column 37, as PyYAML counts lines: it ends a line at each NEL (U+0085) before it, which an editor does not, so an editor shows it on line 2, column 88"},
		"after LS and PS": {"a: 1\u2028b: 2\u2029general_settings:\n  " + key + ": true\n",
			"line 4, column 37, as PyYAML counts lines: it ends a line at each LS (U+2028) and PS (U+2029) before it, which an editor does not, so an editor shows it on line 2, column 37"},
		"alias and anchor after a NEL": {"x: &on true # c\u0085general_settings:\n  " + key + ": *on\n",
			"alias *on at line 3, column 37, as PyYAML counts lines: it ends a line at each NEL (U+0085) before it, which an editor does not, so an editor shows it on line 2, column 37, of anchor &on at line 1, column 4"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte(tc.in))
			require.NoError(t, err)
			v, ok := c.Lookup("general_settings", key)
			require.True(t, ok)
			assert.Equal(t, tc.want, v.Position())
		})
	}
}
