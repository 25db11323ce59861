package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/docs"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// catalogue is every rule under the configuration, with what its `rules` entries change.
func catalogue(g *globalFlags) ([]auditor.RuleMeta, map[string]string, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	all := rules.All(cfg)
	metas := make([]auditor.RuleMeta, 0, len(all))
	for _, r := range all {
		metas = append(metas, r.Meta())
	}
	notes := map[string]string{}
	for id, rc := range cfg.Rules {
		var parts []string
		if rc.Enabled != nil && !*rc.Enabled {
			parts = append(parts, "off (config)")
		}
		if rc.Severity != "" {
			parts = append(parts, "severity "+strings.ToLower(rc.Severity)+" (config)")
		}
		notes[id] = strings.Join(parts, ", ")
	}
	return metas, notes, nil
}

func newRulesCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "The rule catalogue",
		Args:  cobra.NoArgs,
	}
	var output, control string
	list := &cobra.Command{
		Use:   "list",
		Short: "List every rule: ID, control, severity, title",
		Long: `rules list prints the catalogue: every rule's ID (what --skip-rule, --only-rule, the
configuration's rules and waivers name), its control, its severity and what it finds. With
--config, a rule the configuration turns off or re-rates says so.`,
		Example: `  enforcement-auditor rules list
  enforcement-auditor rules list --control SR2
  enforcement-auditor rules list -o json | jq -r '.[] | select(.severity == "critical") | .id'
  enforcement-auditor explain gpu-gate-policy-missing`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			metas, notes, err := catalogue(g)
			if err != nil {
				return err
			}
			if control != "" {
				c := auditor.Control(strings.ToUpper(control))
				if !slices.Contains(auditor.Controls, c) {
					return &exitError{code: 2, err: fmt.Errorf("--control: %q, want SR1, SR2 or SR3", control)}
				}
				metas = slices.DeleteFunc(metas, func(m auditor.RuleMeta) bool { return m.Control != c })
			}
			switch output {
			case "table":
				return writeRuleTable(cmd.OutOrStdout(), metas, notes)
			case "json":
				return writeRuleJSON(cmd.OutOrStdout(), metas, notes)
			}
			return &exitError{code: 2, err: fmt.Errorf("--output: %q, want table or json", output)}
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	list.Flags().StringVar(&control, "control", "", "only the rules of this control: SR1, SR2 or SR3")
	_ = list.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json"))
	_ = list.RegisterFlagCompletionFunc("control", fixedCompletion("SR1", "SR2", "SR3"))
	cmd.AddCommand(list)
	return cmd
}

func writeRuleTable(w io.Writer, metas []auditor.RuleMeta, notes map[string]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tCONTROL\tSEVERITY\tWHAT IT FINDS")
	for _, m := range metas {
		title := m.Title
		if n := notes[m.ID]; n != "" {
			title += " [" + n + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Control, m.Severity, title)
	}
	return tw.Flush()
}

// ruleJSON is a rule as `rules list -o json` prints it.
type ruleJSON struct {
	ID          string          `json:"id"`
	Control     auditor.Control `json:"control"`
	Severity    string          `json:"severity"`
	Title       string          `json:"title"`
	Pass        string          `json:"pass"`
	Remediation string          `json:"remediation"`
	Inputs      []string        `json:"inputs,omitempty"`
	Docs        string          `json:"docs"`
	Config      string          `json:"config,omitempty"`
}

func writeRuleJSON(w io.Writer, metas []auditor.RuleMeta, notes map[string]string) error {
	out := make([]ruleJSON, 0, len(metas))
	for _, m := range metas {
		out = append(out, ruleJSON{ID: m.ID, Control: m.Control, Severity: m.Severity.String(), Title: m.Title, Pass: m.Pass, Remediation: m.Remediation,
			Inputs: m.Inputs, Docs: rules.DocFile(m) + "#" + m.ID, Config: notes[m.ID]})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func newExplainCommand(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "explain RULE",
		Short: "Explain a rule: what it finds, why it matters, how to fix it",
		Long: `explain prints a rule's catalogue entry (control, severity, what it reads, the fix) and
its runbook section from docs/rules, which the binary carries.`,
		Example: `  enforcement-auditor explain netpol-default-deny-missing
  enforcement-auditor explain budget-fail-open-in-prod | less`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return ruleIDCompletion(g)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			metas, notes, err := catalogue(g)
			if err != nil {
				return err
			}
			for _, m := range metas {
				if m.ID == args[0] {
					return explain(cmd.OutOrStdout(), m, notes[m.ID])
				}
			}
			return &exitError{code: 2, err: fmt.Errorf("unknown rule %q: `enforcement-auditor rules list` lists the %d rules", args[0], len(metas))}
		},
	}
}

func explain(w io.Writer, m auditor.RuleMeta, note string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %s)\n%s\n", m.ID, m.Control, m.Severity, m.Title)
	if m.Pass != "" {
		fmt.Fprintf(&b, "when it finds nothing: %s\n", m.Pass)
	}
	if note != "" {
		fmt.Fprintf(&b, "configuration: %s\n", note)
	}
	if len(m.Inputs) > 0 {
		fmt.Fprintf(&b, "\nreads: %s\n", strings.Join(m.Inputs, ", "))
	}
	if len(m.Absence) > 0 {
		fmt.Fprintf(&b, "rests on the absence of: %s (scan --partial does not judge it)\n", strings.Join(m.Absence, ", "))
	}
	b.WriteString("\nfix:\n")
	wrapTo(&b, "  ", m.Remediation, 96)
	doc := rules.DocFile(m)
	if body, ok := docs.RuleSection(strings.TrimPrefix(doc, "docs/"), m.ID); ok {
		fmt.Fprintf(&b, "\n%s#%s:\n\n%s\n", doc, m.ID, body)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrapTo writes text word-wrapped at width, each line prefixed by indent.
func wrapTo(b *strings.Builder, indent, text string, width int) {
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
}
