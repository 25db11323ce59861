package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/rules"
)

// --skip-rule, --only-rule and the configuration's rules: what runs, at what severity,
// and every change on the table's last line and in the evidence.
func TestScanRuleSelection(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "auditor.yaml", `apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
rules:
  budget-db-not-ha-in-prod: {severity: low}
  cni-unknown: {enabled: false}
`)
	const platform = "../../examples/platform"

	// The example fails on two critical findings, netpol-ingress-outside-allowlist and
	// gpu-gate-policy-not-enforcing, and two high ones.
	table, errOut, code := execute(t, "", "scan", "-f", platform, "--config", cfg,
		"--skip-rule", "netpol-ingress-outside-allowlist", "--skip-rule", "gpu-gate-policy-not-enforcing", "--skip-rule", "gpu-pod-missing-queue-name")
	require.Equal(t, 0, code, "the defects at or above high are off or lowered: %s\n%s", errOut, table)
	assert.True(t, strings.HasSuffix(table, "\nrules off: cni-unknown, gpu-gate-policy-not-enforcing, gpu-pod-missing-queue-name, netpol-ingress-outside-allowlist; severity changed: budget-db-not-ha-in-prod high→low\n"), table)
	assert.Contains(t, table, "  LOW       budget-db-not-ha-in-prod")
	assert.NotContains(t, table, "netpol-ingress-outside-allowlist  NetworkPolicy")

	js, _, code := execute(t, "", "scan", "-f", platform, "--only-rule", "budget-db-not-ha-in-prod", "-o", "json")
	require.Equal(t, 1, code)
	var rep struct {
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
		RuleChanges struct {
			Off []struct{ Rule, By string } `json:"off"`
		} `json:"ruleChanges"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, "budget-db-not-ha-in-prod", rep.Findings[0].Rule)
	assert.Len(t, rep.RuleChanges.Off, len(rules.Catalogue())-1)
	for _, o := range rep.RuleChanges.Off {
		assert.Equal(t, "--only-rule", o.By, o.Rule)
	}

	_, errOut, code = execute(t, "", "scan", "-f", platform, "--skip-rule", "netpol-typo")
	require.Equal(t, 2, code)
	assert.Contains(t, errOut, `--skip-rule "netpol-typo": no such rule in the catalogue, which holds `)
	assert.Contains(t, errOut, ` budget-cache-not-redis-in-prod, `, "the catalogue's IDs are listed")

	// The evidence says what was turned off.
	out, errOut, code := execute(t, "", "evidence", "-f", platform, "--config", cfg, "--skip-rule", "cni-not-enforcing", "-o", "legacy")
	require.Equal(t, 0, code, errOut)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, map[string]any{
		"off": []any{
			map[string]any{"by": "--skip-rule", "control": "SR1", "rule": "cni-not-enforcing"},
			map[string]any{"by": "config", "control": "SR1", "rule": "cni-unknown"},
		},
		"severity": []any{map[string]any{"control": "SR3", "from": "high", "rule": "budget-db-not-ha-in-prod", "to": "low"}},
	}, doc["ruleChanges"])
}

// A rule ID of the configuration not in the catalogue stops every command before it
// starts, naming the field.
func TestConfigRuleIDsAreChecked(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "auditor.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\nrules:\n  cni-unkown: {enabled: false}\n")
	for _, args := range [][]string{{"scan", "-f", "../../examples/platform"}, {"run"}} {
		_, errOut, code := execute(t, "", append(args, "--config", cfg)...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, "rules.cni-unkown (config): no such rule in the catalogue", args)
	}
}
