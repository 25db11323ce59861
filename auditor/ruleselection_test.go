package auditor

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixedRule reports one finding on every evaluation.
type fixedRule struct{ m RuleMeta }

func (r fixedRule) Meta() RuleMeta { return r.m }
func (r fixedRule) Evaluate(*Snapshot) Result {
	return Result{Findings: []Finding{r.m.NewFinding(&ObjectRef{Kind: "Namespace", Name: "serving"}, "found")}}
}

func catalogueOf(ids ...string) []Rule {
	var out []Rule
	for _, id := range ids {
		out = append(out, fixedRule{RuleMeta{ID: id, Control: SR1, Severity: SeverityHigh}})
	}
	return out
}

func ids(rs []Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Meta().ID)
	}
	return out
}

func TestSelectRules(t *testing.T) {
	all := catalogueOf("a", "b", "c", "d", "e")
	off, low := false, "low"
	rs, ch, err := SelectRules(all, map[string]RuleConfig{"b": {Enabled: &off}, "c": {Severity: low}, "d": {Severity: "HIGH"}},
		RuleSelection{Skip: []string{"e"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "c", "d"}, ids(rs))
	assert.Equal(t, []RuleOff{{Rule: "b", Control: SR1, By: "config"}, {Rule: "e", Control: SR1, By: "--skip-rule"}}, ch.Off)
	assert.Equal(t, []SeverityChange{{Rule: "c", Control: SR1, From: SeverityHigh, To: SeverityLow}}, ch.Severity, "d keeps its own severity: no change")
	assert.Equal(t, "rules off: b, e; severity changed: c high→low", ch.String())

	// The changed severity is the rule's and every finding's.
	c := rs[1]
	assert.Equal(t, SeverityLow, c.Meta().Severity)
	res := c.Evaluate(nil)
	require.Len(t, res.Findings, 1)
	assert.Equal(t, SeverityLow, res.Findings[0].Severity)

	rs, ch, err = SelectRules(all, nil, RuleSelection{Only: []string{"a", "c"}, Skip: []string{"c"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, ids(rs))
	assert.Equal(t, "rules off: b, c, d, e", ch.String())
	assert.Equal(t, "--only-rule", ch.Off[0].By)

	rs, ch, err = SelectRules(all, nil, RuleSelection{})
	require.NoError(t, err)
	assert.Len(t, rs, 5)
	assert.True(t, ch.Empty())
	assert.Empty(t, ch.String())
}

func TestSelectRulesRefusesUnknownIDs(t *testing.T) {
	_, _, err := SelectRules(catalogueOf("a", "b"), map[string]RuleConfig{"zz": {Severity: "low"}}, RuleSelection{Skip: []string{"x"}, Only: []string{"a"}})
	var unknown *UnknownRuleError
	require.True(t, errors.As(err, &unknown), "%v", err)
	assert.Equal(t, `--skip-rule "x", rules.zz (config): no such rules in the catalogue, which holds a, b`, err.Error())
}

func TestConfigRules(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "c.yaml")
		require.NoError(t, os.WriteFile(p, []byte("apiVersion: "+ConfigAPIVersion+"\nkind: "+ConfigKind+"\n"+body), 0o600))
		return p
	}
	cfg, err := LoadConfig(write("rules:\n  cni-unknown: {enabled: false}\n  budget-db-not-ha-in-prod: {severity: low}\n"))
	require.NoError(t, err)
	require.NotNil(t, cfg.Rules["cni-unknown"].Enabled)
	assert.False(t, *cfg.Rules["cni-unknown"].Enabled)
	assert.Equal(t, "low", cfg.Rules["budget-db-not-ha-in-prod"].Severity)

	_, err = LoadConfig(write("rules:\n  cni-unknown: {enable: false}\n"))
	assert.ErrorContains(t, err, `unknown field "rules.cni-unknown.enable"`)
	_, err = LoadConfig(write("rules:\n  cni-unknown: {severity: urgent}\n"))
	assert.ErrorContains(t, err, `rules.cni-unknown.severity: unknown severity "urgent"`)
	_, err = LoadConfig(write("rules:\n  cni-unknown: {}\n"))
	assert.ErrorContains(t, err, "rules.cni-unknown: sets neither enabled nor severity")
}
