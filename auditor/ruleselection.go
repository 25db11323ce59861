package auditor

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// RuleConfig turns one rule off or changes its severity (Config.Rules).
type RuleConfig struct {
	// Enabled false turns the rule off: it does not run, its control is judged without it.
	Enabled *bool `json:"enabled,omitempty"`
	// Severity replaces the rule's severity, for every finding it reports.
	Severity string `json:"severity,omitempty"`
}

// RuleSelection is the scan's rule flags: --only-rule (Only, when set, are the only
// rules that run) and --skip-rule (Skip never run).
type RuleSelection struct {
	Only, Skip []string
}

// RuleOff is a rule that did not run, and what turned it off: "config", "--skip-rule"
// or "--only-rule".
type RuleOff struct {
	Rule    string  `json:"rule"`
	Control Control `json:"control"`
	By      string  `json:"by"`
}

// SeverityChange is a rule whose severity the configuration changed.
type SeverityChange struct {
	Rule    string   `json:"rule"`
	Control Control  `json:"control"`
	From    Severity `json:"from"`
	To      Severity `json:"to"`
}

// RuleChanges is what the configuration and flags changed in the catalogue: what an
// auditor must see next to the verdicts. Both lists are sorted by rule ID.
type RuleChanges struct {
	Off      []RuleOff        `json:"off,omitempty"`
	Severity []SeverityChange `json:"severity,omitempty"`
}

// Empty reports that every rule runs at its own severity.
func (c RuleChanges) Empty() bool { return len(c.Off) == 0 && len(c.Severity) == 0 }

// String is the table's line: "rules off: x, y; severity changed: z high→low"; empty
// when nothing changed.
func (c RuleChanges) String() string {
	var parts []string
	if len(c.Off) > 0 {
		ids := make([]string, len(c.Off))
		for i, o := range c.Off {
			ids[i] = o.Rule
		}
		parts = append(parts, "rules off: "+strings.Join(ids, ", "))
	}
	if len(c.Severity) > 0 {
		ch := make([]string, len(c.Severity))
		for i, s := range c.Severity {
			ch[i] = fmt.Sprintf("%s %s→%s", s.Rule, s.From, s.To)
		}
		parts = append(parts, "severity changed: "+strings.Join(ch, ", "))
	}
	return strings.Join(parts, "; ")
}

// validateRuleConfig checks the severities of Config.Rules; the IDs are checked against
// the catalogue by SelectRules (the rules live in another package).
func validateRuleConfig(rules map[string]RuleConfig) []error {
	var errs []error
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rc := rules[id]
		if rc.Severity != "" {
			if _, err := ParseSeverity(rc.Severity); err != nil {
				errs = append(errs, fmt.Errorf("rules.%s.severity: %w", id, err))
			}
		}
		if rc.Enabled == nil && rc.Severity == "" {
			errs = append(errs, fmt.Errorf("rules.%s: sets neither enabled nor severity", id))
		}
	}
	return errs
}

// UnknownRuleError names rule IDs that are not in the catalogue, and the catalogue.
type UnknownRuleError struct {
	// Unknown are the IDs as given: `--skip-rule "x"`, `rules.x`.
	Unknown []string
	Known   []string
}

func (e *UnknownRuleError) Error() string {
	return fmt.Sprintf("%s: %s in the catalogue, which holds %s", strings.Join(e.Unknown, ", "),
		map[bool]string{true: "no such rule", false: "no such rules"}[len(e.Unknown) == 1], strings.Join(e.Known, ", "))
}

// SelectRules applies the configuration's per-rule settings and the flags to rules (the
// whole catalogue): the rules that run, a disabled rule left out, a changed severity
// applied to the rule and every finding it reports, and what was changed. An ID that is
// not in the catalogue is an error (*UnknownRuleError) naming it and the catalogue.
func SelectRules(rules []Rule, cfg map[string]RuleConfig, sel RuleSelection) ([]Rule, RuleChanges, error) {
	known := make([]string, 0, len(rules))
	for _, r := range rules {
		known = append(known, r.Meta().ID)
	}
	sort.Strings(known)
	var unknown []string
	for _, flag := range []struct {
		name string
		ids  []string
	}{{"--only-rule", sel.Only}, {"--skip-rule", sel.Skip}} {
		for _, id := range flag.ids {
			if !slices.Contains(known, id) {
				unknown = append(unknown, fmt.Sprintf("%s %q", flag.name, id))
			}
		}
	}
	cfgIDs := make([]string, 0, len(cfg))
	for id := range cfg {
		cfgIDs = append(cfgIDs, id)
	}
	sort.Strings(cfgIDs)
	for _, id := range cfgIDs {
		if !slices.Contains(known, id) {
			unknown = append(unknown, fmt.Sprintf("rules.%s (config)", id))
		}
	}
	if len(unknown) > 0 {
		return nil, RuleChanges{}, &UnknownRuleError{Unknown: unknown, Known: known}
	}
	var out []Rule
	var ch RuleChanges
	for _, r := range rules {
		m := r.Meta()
		rc := cfg[m.ID]
		off := ""
		switch {
		case rc.Enabled != nil && !*rc.Enabled:
			off = "config"
		case slices.Contains(sel.Skip, m.ID):
			off = "--skip-rule"
		case len(sel.Only) > 0 && !slices.Contains(sel.Only, m.ID):
			off = "--only-rule"
		}
		if off != "" {
			ch.Off = append(ch.Off, RuleOff{Rule: m.ID, Control: m.Control, By: off})
			continue
		}
		if rc.Severity != "" {
			sev, _ := ParseSeverity(rc.Severity) // validated by Config.Validate
			if sev != m.Severity {
				ch.Severity = append(ch.Severity, SeverityChange{Rule: m.ID, Control: m.Control, From: m.Severity, To: sev})
				r = severityOverride{Rule: r, severity: sev}
			}
		}
		out = append(out, r)
	}
	sort.Slice(ch.Off, func(i, j int) bool { return ch.Off[i].Rule < ch.Off[j].Rule })
	sort.Slice(ch.Severity, func(i, j int) bool { return ch.Severity[i].Rule < ch.Severity[j].Rule })
	return out, ch, nil
}

// severityOverride is a rule whose severity the configuration changed: its metadata and
// every finding it reports carry the new severity.
type severityOverride struct {
	Rule
	severity Severity
}

func (o severityOverride) Meta() RuleMeta {
	m := o.Rule.Meta()
	m.Severity = o.severity
	return m
}

func (o severityOverride) Evaluate(s *Snapshot) Result {
	res := o.Rule.Evaluate(s)
	id := o.Rule.Meta().ID
	for i := range res.Findings {
		if res.Findings[i].Rule == id {
			res.Findings[i].Severity = o.severity
		}
	}
	return res
}
