package docs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRuleSection(t *testing.T) {
	body, ok := RuleSection("rules/sr1.md", "netpol-default-deny-missing")
	assert.True(t, ok)
	assert.NotContains(t, body, "### netpol-default-deny-missing")
	assert.NotContains(t, body, "### netpol-ingress-outside-allowlist", "the section ends at the next rule")
	assert.NotEmpty(t, body)

	_, ok = RuleSection("rules/sr1.md", "no-such-rule")
	assert.False(t, ok)
	_, ok = RuleSection("rules/sr9.md", "netpol-default-deny-missing")
	assert.False(t, ok)
}

func TestHeadingLevel(t *testing.T) {
	for line, want := range map[string]int{"### a": 3, "## b": 2, "#### c": 4, "#x": 0, "text": 0, "###": 0, "####### g": 0, "```": 0} {
		assert.Equal(t, want, headingLevel(line), line)
	}
}
