package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// globalFlags are shared by every command.
type globalFlags struct {
	configFile string
	logLevel   string
	logFormat  string
	kubeconfig string
	context    string
	// noColor turns colour off on a terminal (as NO_COLOR does).
	noColor bool
}

func newRootCommand() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "enforcement-auditor",
		Short: "Prove the LLM platform's budget path, GPU quota and fail-closed budgets are enforced",
		Long: `enforcement-auditor proves continuously that three controls of a shared LLM platform are
enforced, not merely present: SR1 (model servers reachable only through the budget path),
SR2 (GPU pods cannot bypass Kueue quota) and SR3 (LiteLLM prod budgets fail closed).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Get().String(),
	}
	root.SetVersionTemplate("enforcement-auditor {{.Version}}\n")
	// Flag descriptions wrapped to fit a terminal (--help).
	root.SetUsageTemplate(strings.ReplaceAll(root.UsageTemplate(), ".FlagUsages |", ".FlagUsagesWrapped 100 |"))
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "AuditorConfig file (default: the platform's design, see README)")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&g.logFormat, "log-format", "", "log format: json, text (key=value records) or plain (warning: ...); default json for run, plain otherwise")
	pf.BoolVar(&g.noColor, "no-color", false, "no colour on a terminal (as the NO_COLOR environment variable)")
	pf.StringVar(&g.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, ~/.kube/config, then in-cluster)")
	pf.StringVar(&g.context, "context", "", "kubeconfig context to use")
	root.AddCommand(newScanCommand(g), newRunCommand(g), newVersionCommand(), newEvidenceCommand(g), newRulesCommand(g), newExplainCommand(g))
	registerGlobalCompletion(root)
	return root
}

// loadConfig reads and validates the configuration before anything starts.
func (g *globalFlags) loadConfig() (auditor.Config, error) {
	cfg, err := auditor.LoadConfig(g.configFile)
	if err != nil {
		return cfg, &exitError{code: 2, err: err}
	}
	// The rule IDs of the configuration's rules are checked against the catalogue.
	if _, _, err := auditor.SelectRules(rules.All(cfg), cfg.Rules, auditor.RuleSelection{}); err != nil {
		return cfg, &exitError{code: 2, err: fmt.Errorf("config %s: %w", g.configFile, err)}
	}
	return cfg, nil
}

func (g *globalFlags) logger(w io.Writer, defaultFormat string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("--log-level: %w", err)}
	}
	format := g.logFormat
	if format == "" {
		format = defaultFormat
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "plain":
		h = newPlainHandler(w, lvl, colorFor(w, g.noColor))
	default:
		return nil, &exitError{code: 2, err: fmt.Errorf("--log-format: %q, want json, text or plain", format)}
	}
	l := slog.New(h)
	// Route client-go's klog output into the same structured stream.
	klog.SetSlogLogger(l.With("component", "client-go"))
	return l, nil
}

// restConfig resolves --kubeconfig, $KUBECONFIG, ~/.kube/config, then in-cluster; hint
// says, when there is none, what else the command can do.
func (g *globalFlags) restConfig(hint string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if g.kubeconfig != "" {
		rules.ExplicitPath = g.kubeconfig
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: g.context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to (%s): %w", hint, err)
	}
	return cfg, nil
}
