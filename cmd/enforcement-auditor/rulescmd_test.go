package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/rules"
)

func TestRulesList(t *testing.T) {
	out, errOut, code := execute(t, "", "rules", "list")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, len(rules.Catalogue())+1, "a header and one line per rule")
	assert.Regexp(t, `^RULE +CONTROL +SEVERITY +WHAT IT FINDS$`, lines[0])
	assert.Regexp(t, `(?m)^gpu-gate-policy-missing +SR2 +critical +No admission gate`, out)

	dir := t.TempDir()
	cfg := writeFile(t, dir, "auditor.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\n"+
		"rules: {cni-unknown: {enabled: false}, budget-db-not-ha-in-prod: {severity: low}}\n")
	out, errOut, code = execute(t, "", "rules", "list", "--config", cfg, "--control", "sr3", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var got []ruleJSON
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	for _, r := range got {
		assert.Equal(t, "SR3", string(r.Control))
		assert.Equal(t, "docs/rules/sr3.md#"+r.ID, r.Docs)
		if r.ID == "budget-db-not-ha-in-prod" {
			assert.Equal(t, "severity low (config)", r.Config)
		}
	}
	out, _, _ = execute(t, "", "rules", "list", "--config", cfg, "--control", "SR1")
	assert.Regexp(t, `(?m)^cni-unknown .*\[off \(config\)\]$`, out)

	_, errOut, code = execute(t, "", "rules", "list", "--control", "SR4")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--control: "SR4", want SR1, SR2 or SR3`)
}

// TestExplainEveryRule: every rule of the catalogue explains itself with its runbook
// section, which the binary carries.
func TestExplainEveryRule(t *testing.T) {
	for _, m := range rules.Catalogue() {
		out, errOut, code := execute(t, "", "explain", m.ID)
		require.Equal(t, 0, code, errOut)
		assert.True(t, strings.HasPrefix(out, m.ID+" ("+string(m.Control)+", "+m.Severity.String()+")\n"+m.Title+"\n"), out)
		assert.Contains(t, out, "\n"+rules.DocFile(m)+"#"+m.ID+":\n\n", "%s: its runbook section", m.ID)
		assert.Contains(t, out, "\nwhen it finds nothing: "+m.Pass+"\n")
	}
	out, _, _ := execute(t, "", "explain", "netpol-default-deny-missing")
	assert.Contains(t, out, "rests on the absence of: networkpolicies.networking.k8s.io (scan --partial does not judge it)")

	_, errOut, code := execute(t, "", "explain", "no-such-rule")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown rule "no-such-rule": `+"`enforcement-auditor rules list`")
}

// TestCompletion: the shell completion (cobra's __complete, what the installed script
// calls) offers each flag's values.
func TestCompletion(t *testing.T) {
	complete := func(args ...string) []string {
		t.Helper()
		out, errOut, code := execute(t, "", append([]string{"__complete"}, args...)...)
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[:len(lines)-1] // the last line is the directive
	}
	assert.Equal(t, []string{"info", "low", "medium", "high", "critical"}, complete("scan", "--severity", ""))
	assert.Equal(t, []string{"info", "low", "medium", "high", "critical", "none"}, complete("scan", "--fail-on", ""))
	assert.Equal(t, []string{"violated", "unknown", "none"}, complete("scan", "--fail-on-control", ""))
	assert.Contains(t, complete("scan", "-o", ""), "sarif=")
	assert.Contains(t, complete("scan", "-o", ""), "policyreport")
	assert.Contains(t, complete("scan", "--skip-rule", ""), "cni-unknown\tSR1: Cannot tell whether the CNI enforces NetworkPolicy")
	assert.Len(t, complete("scan", "--only-rule", ""), len(rules.Catalogue()))
	assert.Len(t, complete("explain", ""), len(rules.Catalogue()))
	assert.Equal(t, []string{"SR1", "SR2", "SR3"}, complete("rules", "list", "--control", ""))
	assert.Equal(t, []string{"plain", "text", "json"}, complete("scan", "--log-format", ""))
}
