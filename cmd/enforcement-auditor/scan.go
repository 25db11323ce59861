package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/fileoutput"
	"github.com/llm-platform/enforcement-auditor/auditor/gitops"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/report"
)

type scanFlags struct {
	files   []string
	outputs []string
	failOn  string
	// failOnControl: none, violated or unknown (see report.FailOnControl).
	failOnControl string
	timeout       time.Duration
	input         inputFlags
	// reportAPI is the API -o policyreport writes.
	reportAPI string
	// partial: the -f inputs are some of the files (what a CI job changed).
	partial bool
	// severity is the least severity the table shows (--severity); quiet shows only
	// what fails (--quiet).
	severity string
	quiet    bool
	// namespaces scope a live scan (--namespace); progress shows its cache sync.
	namespaces []string
	progress   bool
}

// inputFlags bound what -f reads in one run.
type inputFlags struct {
	maxBytes   string
	maxObjects int
	// skip leaves paths of -f directories out (.gitignore syntax), besides each
	// directory's ignore file.
	skip []string
	// Helm charts found in -f directories are rendered with these, as helm template takes them.
	values, set, setString []string
	releaseName, releaseNS string
	// onePlatform judges every root of -f together rather than each as its own environment.
	onePlatform bool
	// rules are --only-rule and --skip-rule (with the configuration's rules: what runs).
	rules auditor.RuleSelection
}

func (in *inputFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&in.maxBytes, "max-input-bytes", "24Mi", "stop with exit 2 when -f inputs (and what their kustomizations and charts render) exceed this many bytes in total (a quantity: 512Mi, 1Gi)")
	fl.IntVar(&in.maxObjects, "max-input-objects", manifests.DefaultMaxObjects, "stop with exit 2 when -f inputs hold more objects than this (List items included)")
	fl.StringArrayVar(&in.skip, "skip", nil, "leave out paths of -f directories matching this pattern (.gitignore syntax, relative to the directory; repeatable), besides the directory's "+gitops.IgnoreFile)
	fl.StringArrayVar(&in.values, "values", nil, "values file for the Helm charts found in -f directories, as helm template --values (repeatable)")
	fl.StringArrayVar(&in.set, "set", nil, "value for the Helm charts found in -f directories, as helm template --set key=value (repeatable)")
	fl.StringArrayVar(&in.setString, "set-string", nil, "string value for the Helm charts, as helm template --set-string (repeatable)")
	fl.StringVar(&in.releaseName, "release-name", "release-name", "release name the Helm charts are rendered with, as helm template NAME")
	fl.StringVar(&in.releaseNS, "release-namespace", "default", "namespace the Helm charts are rendered into, as helm template --namespace")
	fl.BoolVar(&in.onePlatform, "one-platform", false, "judge every kustomization and chart of -f together, as parts of one cluster, instead of each as its own environment")
	fl.StringArrayVar(&in.rules.Skip, "skip-rule", nil, "do not run this rule (a rule ID; repeatable); the table's last line and the evidence say it was off")
	fl.StringArrayVar(&in.rules.Only, "only-rule", nil, "run only this rule (a rule ID; repeatable); the others are off, as the table's last line and the evidence say")
}

// render is how the kustomizations and charts of -f directories are rendered.
func (in *inputFlags) render() gitops.RenderOptions {
	return gitops.RenderOptions{ValueFiles: in.values, Set: in.set, SetString: in.setString, ReleaseName: in.releaseName, Namespace: in.releaseNS}
}

func (in *inputFlags) options() (manifests.Options, error) {
	q, err := resource.ParseQuantity(in.maxBytes)
	if err != nil || q.Sign() <= 0 {
		return manifests.Options{}, fmt.Errorf("--max-input-bytes: %q is not a positive quantity of bytes (e.g. 128Mi)", in.maxBytes)
	}
	if in.maxObjects <= 0 {
		return manifests.Options{}, fmt.Errorf("--max-input-objects: %d, must be positive", in.maxObjects)
	}
	return manifests.Options{MaxBytes: q.Value(), MaxObjects: in.maxObjects}, nil
}

func newScanCommand(g *globalFlags) *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan [-f PATH]... [PATH]...",
		Short: "Audit once: the live cluster, or manifests with -f",
		Long: `scan evaluates every rule once and prints the findings.

Without -f it audits the cluster of the current kubeconfig (or in-cluster config): it
syncs its caches, evaluates once and exits. With -f it audits manifests: files,
directories (recursive: .yaml, .yml, .json) or - for stdin; multi-document YAML, JSON and
kind: List are accepted. Paths after the flags are read as -f (scan -f a b reads a and b, as
a pre-commit hook with several args runs it).

Exit status: 0 when no finding is at or above --fail-on (none: findings never fail) and
no control is in a state --fail-on-control fails on, 1 otherwise, 2 when the input cannot
be read or is not Kubernetes objects. The table's last line says why.`,
		Example: `  enforcement-auditor scan -f examples/platform
  kubectl get ns,netpol,pods,deploy,cm -A -o json | enforcement-auditor scan -f - -o json
  enforcement-auditor scan --fail-on critical                      # the live cluster
  enforcement-auditor scan -n team-a -n team-b --progress          # two namespaces of it
  enforcement-auditor scan -f deploy/ --fail-on-control unknown    # fail unless all are proven
  enforcement-auditor scan -f examples/platform --skip-rule cni-unknown   # on the last line
  enforcement-auditor scan -f examples/platform --severity critical -q    # failing criticals
  enforcement-auditor scan -f examples/platform -o table -o sarif=results.sarif
  enforcement-auditor scan --partial $(git diff --name-only main | sed 's/^/-f /')   # changed files`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.files = append(f.files, args...)
			return runScan(cmd.Context(), g, f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable); without it the live cluster is scanned")
	fl.StringArrayVarP(&f.outputs, "output", "o", []string{"table"}, "output format, "+strings.Join(report.Formats, ", ")+"; FORMAT=PATH writes it to a file (repeatable; at most one to stdout)")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity: info, low, medium, high, critical; none: never on findings")
	fl.StringVar(&f.failOnControl, "fail-on-control", "none", "exit 1 when a control is not proven: violated (a control is violated), unknown (a control is unknown or violated), none")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for the cluster's caches to sync")
	fl.StringVar(&f.reportAPI, "report-api", string(policyreport.APIs[0]), "API of -o policyreport: openreports (openreports.io/v1alpha1 Report, ClusterReport) or wgpolicyk8s (wgpolicyk8s.io/v1alpha2 PolicyReport, ClusterPolicyReport)")
	fl.StringVar(&f.severity, "severity", "info", "show in the table only the findings at or above this severity: info, low, medium, high, critical (what fails is --fail-on's; other formats keep every finding)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "show only what fails: the failing findings and the verdict lines; no warnings")
	fl.StringSliceVarP(&f.namespaces, "namespace", "n", nil, "live scan: read only these namespaces' objects (and every cluster-scoped one); what rests on other namespaces is unknown (repeatable, or a,b)")
	fl.BoolVar(&f.progress, "progress", false, "live scan: show the cache sync's progress on stderr (shown anyway on a terminal, unless --quiet)")
	fl.BoolVar(&f.partial, "partial", false, "the -f inputs are only some of the files (what changed): a finding resting on an absence among them (no default-deny NetworkPolicy, no gate ClusterPolicy) is reported unknown, not among the inputs, instead of failing")
	f.input.register(cmd)
	registerScanCompletion(cmd, g)
	return cmd
}

func runScan(ctx context.Context, g *globalFlags, f *scanFlags, stdin io.Reader, out, errOut io.Writer) error {
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--fail-on: %w", err)}
	}
	failOnControl, err := parseFailOnControl(f.failOnControl)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--fail-on-control: %w", err)}
	}
	outputs, err := parseOutputs(f.outputs)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	reportAPI, err := policyreport.ParseAPI(f.reportAPI)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--report-api: %w", err)}
	}
	minSeverity, err := auditor.ParseSeverity(f.severity)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--severity: %w", err)}
	}
	if f.quiet {
		quiet := *g
		quiet.logLevel = "error" // no warnings; errors still
		g = &quiet
	}
	// The scan keeps what the daemon's caches keep: the projection of each object onto
	// what the rules read, pods no rule reads dropped (counted as seen).
	in := auditInput{files: f.files, input: f.input, timeout: f.timeout, project: true, partial: f.partial, namespaces: f.namespaces}
	// Progress of a live scan's sync: on a terminal unless --quiet, or when asked.
	if tty := isTerminal(errOut); (tty && !f.quiet) || f.progress {
		in.progress, in.tty = errOut, tty
	}
	a, err := newAudit(g, in, errOut)
	if err != nil {
		return err
	}
	if err := a.run(ctx, g, stdin); err != nil {
		return err
	}
	rs, ev := a.rules, a.eval
	metas := make([]auditor.RuleMeta, 0, len(rs))
	for _, r := range rs {
		metas = append(metas, r.Meta())
	}
	rep := report.New(ev, failOn, metas).WithReportAPI(reportAPI).WithRuleChanges(a.ruleChanges)
	rep.FailOnControl(failOnControl)
	rep.WithTable(report.TableOptions{MinSeverity: minSeverity, Quiet: f.quiet})
	if err := writeOutputs(outputs, rep, out, colorFor(out, g.noColor)); err != nil {
		return &exitError{code: 2, err: err}
	}
	if !tableToStdout(outputs) && (!f.quiet || rep.Summary.Failed) {
		// The outputs went to files or are for machines: a CI log still says what the
		// scan found and why it exits as it does.
		fmt.Fprintf(errOut, "%s\n%s\n", rep.SummaryLine(), rep.ExitReason())
	}
	if rep.Summary.Failed {
		return &exitError{code: 1}
	}
	return nil
}

// parseFailOn reads --fail-on: a severity, or none.
func parseFailOn(v string) (auditor.Severity, error) {
	if strings.EqualFold(v, "none") {
		return report.FailOnNone, nil
	}
	s, err := auditor.ParseSeverity(v)
	if err != nil {
		return 0, fmt.Errorf("%w, or none", err)
	}
	return s, nil
}

// parseFailOnControl reads --fail-on-control: violated, unknown or none ("").
func parseFailOnControl(v string) (auditor.ControlState, error) {
	switch strings.ToLower(v) {
	case "none":
		return "", nil
	case string(auditor.Violated):
		return auditor.Violated, nil
	case string(auditor.Unknown):
		return auditor.Unknown, nil
	}
	return "", fmt.Errorf("unknown value %q (want violated, unknown or none)", v)
}

// output is one -o: a format, and the file it goes to ("" for stdout).
type output struct{ format, path string }

// parseOutputs reads the -o values: FORMAT or FORMAT=PATH, at most one to stdout, no
// file twice.
func parseOutputs(values []string) ([]output, error) {
	var outs []output
	stdout, paths := "", map[string]bool{}
	for _, v := range values {
		format, path, toFile := strings.Cut(v, "=")
		if !slices.Contains(report.Formats, format) {
			return nil, fmt.Errorf("--output: %q, want one of %s, optionally =PATH", v, strings.Join(report.Formats, ", "))
		}
		switch {
		case toFile && path == "":
			return nil, fmt.Errorf("--output %s: the path after = is empty", v)
		case toFile && paths[filepath.Clean(path)]:
			return nil, fmt.Errorf("--output %s: %s is written twice", v, path)
		case toFile:
			paths[filepath.Clean(path)] = true
		case stdout != "":
			return nil, fmt.Errorf("--output: %s and %s both go to stdout; write one to a file with FORMAT=PATH", stdout, format)
		default:
			stdout = format
		}
		outs = append(outs, output{format: format, path: path})
	}
	return outs, nil
}

// writeOutputs renders every output, then checks every file can be written, and only
// then writes them (each whole to a temporary file renamed over its path, so a reader
// never sees half a report): an output that fails leaves the others unwritten.
func writeOutputs(outputs []output, rep *report.Report, stdout io.Writer, color bool) error {
	rendered := make([][]byte, len(outputs))
	for i, o := range outputs {
		rep.SetColor(color && o.path == "") // a file gets no colour
		var b bytes.Buffer
		if err := rep.Write(o.format, &b); err != nil {
			return fmt.Errorf("--output %s: %w", o, err)
		}
		rendered[i] = b.Bytes()
	}
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		if err := fileoutput.Check(o.path); err != nil {
			return fmt.Errorf("--output %s: %w", o, err)
		}
	}
	for i, o := range outputs {
		if o.path == "" {
			if _, err := stdout.Write(rendered[i]); err != nil {
				return err
			}
			continue
		}
		if err := writeFileAtomic(o.path, rendered[i]); err != nil {
			return fmt.Errorf("--output %s: %w", o, err)
		}
	}
	return nil
}

// tableToStdout reports whether the table is among what goes to stdout.
func tableToStdout(outputs []output) bool {
	for _, o := range outputs {
		if o.path == "" && o.format == "table" {
			return true
		}
	}
	return false
}

func (o output) String() string {
	if o.path == "" {
		return o.format
	}
	return o.format + "=" + o.path
}
