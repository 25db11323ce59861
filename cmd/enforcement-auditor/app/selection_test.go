package app

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The daemon honours the configuration's rules and controls as a scan does: a rule off
// does not run, a changed severity is the rule's, what changed reaches the evidence, and
// the runner keeps the unclaimed controls' findings dormant.
func TestDaemonHonoursRulesAndControls(t *testing.T) {
	cfg := auditor.DefaultConfig()
	off := false
	cfg.Controls = []auditor.Control{auditor.SR1}
	cfg.Rules = map[string]auditor.RuleConfig{"cni-unknown": {Enabled: &off}, "budget-db-not-ha-in-prod": {Severity: "low"}}
	o := Options{Config: cfg, RESTConfig: &rest.Config{Host: "https://example.invalid"}, Client: fake.NewClientset(),
		Logger: slog.New(slog.DiscardHandler)}.WithDefaults()
	p, err := newParts(o)
	require.NoError(t, err)
	d, err := newDaemon(o, p)
	require.NoError(t, err)

	sev := map[string]auditor.Severity{}
	for _, r := range d.rules {
		sev[r.Meta().ID] = r.Meta().Severity
	}
	assert.NotContains(t, sev, "cni-unknown")
	assert.Equal(t, auditor.SeverityLow, sev["budget-db-not-ha-in-prod"])
	assert.Equal(t, "rules off: cni-unknown; severity changed: budget-db-not-ha-in-prod high→low", d.ruleChanges.String())

	d.Store.Publish(&auditor.Evaluation{Snapshot: &auditor.Snapshot{}})
	_, in, err := d.latestEvidence()
	require.NoError(t, err)
	assert.Equal(t, d.ruleChanges, in.RuleChanges, "the evidence lists what was changed")
	assert.False(t, in.RuleChanges.Empty())

	claims := d.Runner.Claims()
	require.NotNil(t, claims)
	assert.True(t, claims(auditor.SR1))
	assert.False(t, claims(auditor.SR2))
	assert.False(t, claims(auditor.SR3))

	// A rule ID not in the catalogue (a config built in code, not loaded): refused.
	cfg.Rules = map[string]auditor.RuleConfig{"cni-unkown": {Enabled: &off}}
	o.Config = cfg
	_, err = newDaemon(o, p)
	assert.ErrorContains(t, err, "rules.cni-unkown (config): no such rule in the catalogue")
}
