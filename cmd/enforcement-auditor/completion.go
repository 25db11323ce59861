package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/report"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// Completion of flag values (`enforcement-auditor completion bash|zsh|fish|powershell`
// installs the script): formats, severities, control states, rule IDs.

// fixedCompletion completes one of a fixed list of values.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func severityNames() []string {
	out := make([]string, 0, len(auditor.Severities))
	for _, s := range auditor.Severities {
		out = append(out, s.String())
	}
	return out
}

// ruleIDCompletion completes the rule IDs of the catalogue, each with its title; with
// --config the configuration's own rules (a rule's remediation names its settings).
func ruleIDCompletion(g *globalFlags) ([]string, cobra.ShellCompDirective) {
	cfg := auditor.DefaultConfig()
	if c, err := auditor.LoadConfig(g.configFile); err == nil {
		cfg = c
	}
	var out []string
	for _, r := range rules.All(cfg) {
		m := r.Meta()
		out = append(out, m.ID+"\t"+string(m.Control)+": "+m.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// outputCompletion completes -o: a format, or FORMAT= for a file (then file names).
func outputCompletion(formats []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if strings.Contains(toComplete, "=") {
			return nil, cobra.ShellCompDirectiveDefault // the path: file names
		}
		out := make([]string, 0, 2*len(formats))
		for _, f := range formats {
			out = append(out, f, f+"=")
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// registerScanCompletion completes the values of scan's flags.
func registerScanCompletion(cmd *cobra.Command, g *globalFlags) {
	ids := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return ruleIDCompletion(g)
	}
	apis := make([]string, 0, len(policyreport.APIs))
	for _, a := range policyreport.APIs {
		apis = append(apis, string(a))
	}
	for flag, fn := range map[string]cobra.CompletionFunc{
		"output":          outputCompletion(report.Formats),
		"fail-on":         fixedCompletion(append(severityNames(), "none")...),
		"fail-on-control": fixedCompletion("violated", "unknown", "none"),
		"severity":        fixedCompletion(severityNames()...),
		"report-api":      fixedCompletion(apis...),
		"skip-rule":       ids,
		"only-rule":       ids,
	} {
		if cmd.Flags().Lookup(flag) != nil {
			_ = cmd.RegisterFlagCompletionFunc(flag, fn)
		}
	}
}

// registerGlobalCompletion completes the values of the root's persistent flags.
func registerGlobalCompletion(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("log-level", fixedCompletion("debug", "info", "warn", "error"))
	_ = root.RegisterFlagCompletionFunc("log-format", fixedCompletion("plain", "text", "json"))
}
