package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// The README and the --help examples are tested: every command they show that needs no
// cluster runs here, with its exit status checked, and what they show of the output
// (locations, counts, fingerprints, lines of the table and of JUnit) is compared with
// what the CLI prints, so the documentation cannot drift from the behaviour.

// shownCommand is one command line of a shell block: its arguments after
// `enforcement-auditor`, the exit status its comment states (-1: none stated) and the
// line as written.
type shownCommand struct {
	args []string
	code int
	line string
}

// stated exit status in a comment: "# exit 0", "# the example tree below: exit 1, two defects".
var statedExit = regexp.MustCompile(`(?:^|[:;,]\s*)exit (\d)(?:[,;:]|$)`)

// shellCommands reads the enforcement-auditor commands of a shell script: continuation
// lines joined, comments cut, the part after a pipe dropped. A command fed by a pipe
// (kubectl, kustomize), built from a substitution or a process substitution is left
// out: it needs a cluster or a tool, and says so by its form.
func shellCommands(t *testing.T, script string) []shownCommand {
	t.Helper()
	var out []shownCommand
	script = strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(script, "\n") {
		code, comment := line, ""
		if i := commentStart(line); i >= 0 {
			code, comment = line[:i], line[i+1:]
		}
		code = strings.TrimSpace(code)
		code = strings.Replace(code, "go run ./cmd/enforcement-auditor ", "enforcement-auditor ", 1)
		if !strings.HasPrefix(code, "enforcement-auditor ") || strings.Contains(code, "$(") || strings.Contains(code, "<(") {
			continue
		}
		if i := strings.IndexAny(code, "|>"); i >= 0 {
			code = code[:i]
		}
		args := splitWords(t, strings.TrimPrefix(code, "enforcement-auditor "))
		c := shownCommand{args: args, code: -1, line: strings.TrimSpace(line)}
		if m := statedExit.FindStringSubmatch(strings.TrimSpace(comment)); m != nil {
			c.code, _ = strconv.Atoi(m[1])
		}
		out = append(out, c)
	}
	return out
}

// commentStart is the index of the # that starts a comment (after white space, outside
// quotes), -1 when none.
func commentStart(line string) int {
	var quote byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return i
		}
	}
	return -1
}

// splitWords splits a command line as a POSIX shell would for these lines: words
// separated by blanks, single and double quotes removed.
func splitWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	var quote byte
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	require.Zero(t, quote, "unbalanced quote in %q", s)
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// offline says why a command cannot run here ("" when it can): a live cluster (scan,
// evidence without -f; run), or an input path the repository does not hold (an
// illustration: deploy/rendered/).
func offline(args []string, dir string) string {
	if len(args) == 0 {
		return "no command"
	}
	switch args[0] {
	case "run":
		return "needs a cluster"
	case "scan", "evidence":
		if len(args) > 1 && args[0] == "evidence" && args[1] == "verify" {
			break
		}
		if !slices.Contains(args, "-f") && !slices.Contains(args, "--filename") {
			return "audits the live cluster"
		}
	}
	if len(args) > 2 && args[0] == "evidence" && args[1] == "verify" {
		for i, a := range args[2:] {
			if prev := args[i+1]; !strings.HasPrefix(a, "-") && prev != "--public-key" && prev != "--output-payload" {
				if _, err := os.Stat(filepath.Join(dir, a)); err != nil {
					return "no " + a + " here"
				}
			}
		}
	}
	for i, a := range args[:len(args)-1] {
		if a == "-f" || a == "--values" || a == "--config" || a == "--previous" || a == "--signing-key" || a == "--public-key" {
			if p := args[i+1]; p != "-" {
				if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
					return "no " + p + " here"
				}
			}
		}
	}
	return ""
}

// runShown runs the commands in a directory holding the repository's examples and
// deploy trees, the README's evidence keys and its ignore file, in order (a command may
// read what an earlier one wrote); each must exit as its comment states, else by its
// findings (0 or 1), never 2 (input or usage error). It returns how many ran.
func runShown(t *testing.T, dir string, cmds []shownCommand) int {
	t.Helper()
	ran := 0
	for _, c := range cmds {
		if why := offline(c.args, dir); why != "" {
			t.Logf("not run (%s): %s", why, c.line)
			continue
		}
		t.Chdir(dir)
		_, errOut, code := execute(t, "", c.args...)
		switch {
		case c.code >= 0:
			assert.Equal(t, c.code, code, "%s\nstderr: %s", c.line, errOut)
		case c.args[0] == "evidence" && len(c.args) > 1 && c.args[1] == "verify":
			assert.Equal(t, 0, code, "%s verifies what the lines before wrote\nstderr: %s", c.line, errOut)
		default:
			assert.Contains(t, []int{0, 1}, code, "%s\nstderr: %s", c.line, errOut)
		}
		ran++
	}
	return ran
}

// readmeDir is a directory to run README commands in: the repository's trees the README
// names (linked), and evidence.key / evidence.pub as its openssl lines make them.
func readmeDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	// Copies, not links: a scan of a directory does not follow links.
	for _, p := range []string{"examples", "deploy"} {
		require.NoError(t, os.CopyFS(filepath.Join(dir, p), os.DirFS(filepath.Join(root, p))))
	}
	for _, p := range []string{".enforcement-auditor-ignore", "README.md"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), b, 0o644))
	}
	for name, src := range map[string]string{"evidence.key": testKey, "evidence.pub": testPub} {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return dir
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	return string(b)
}

// fencedBlocks returns the README's fenced blocks of a language ("" for none).
func fencedBlocks(doc, lang string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```(\\w*)\n(.*?)^```").FindAllStringSubmatch(doc, -1) {
		if m[1] == lang {
			out = append(out, m[2])
		}
	}
	return out
}

// TestReadmeCommands runs every command of the README's shell blocks that needs no
// cluster.
func TestReadmeCommands(t *testing.T) {
	dir := readmeDir(t)
	var cmds []shownCommand
	for _, b := range fencedBlocks(readme(t), "sh") {
		cmds = append(cmds, shellCommands(t, b)...)
	}
	ran := runShown(t, dir, cmds)
	assert.GreaterOrEqual(t, ran, 15, "the README's offline commands ran (a parser that skips them all would pass nothing)")
}

// TestHelpExamples runs every --help example that needs no cluster, and checks that
// each command's help fits an 100-column terminal and shows examples.
func TestHelpExamples(t *testing.T) {
	dir := readmeDir(t)
	var cmds []shownCommand
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || strings.HasPrefix(c.Name(), "__") {
			return
		}
		if c.Runnable() {
			path := strings.Fields(c.CommandPath())[1:]
			out, errOut, code := execute(t, "", append(path, "--help")...)
			require.Equal(t, 0, code, errOut)
			for i, l := range strings.Split(out, "\n") {
				assert.LessOrEqual(t, len([]rune(l)), 100, "%s --help line %d is wider than a terminal: %s", c.CommandPath(), i+1, l)
			}
			if c.Name() != "version" {
				assert.NotEmpty(t, c.Example, "%s --help shows examples", c.CommandPath())
			}
			cmds = append(cmds, shellCommands(t, c.Example)...)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCommand())
	ran := runShown(t, dir, cmds)
	assert.GreaterOrEqual(t, ran, 8)
}

// platformScan is what scan prints for examples/platform, as the README runs it.
type platformScan struct {
	code                   int
	table, junit, github   string
	locations, fingerprint map[string]bool
	total                  int
}

func scanPlatform(t *testing.T, dir string, extra ...string) platformScan {
	t.Helper()
	t.Chdir(dir)
	var s platformScan
	var js string
	for _, f := range []string{"table", "junit", "github", "json"} {
		out, errOut, code := execute(t, "", append([]string{"scan", "-f", "examples/platform", "-o", f}, extra...)...)
		require.NotEqual(t, 2, code, errOut)
		s.code = code
		switch f {
		case "table":
			s.table = out
		case "junit":
			s.junit = out
		case "github":
			s.github = out
		case "json":
			js = out
		}
	}
	var rep struct {
		Findings []reportFinding                               `json:"findings"`
		Dormant  map[string]struct{ Findings []reportFinding } `json:"dormant"`
		Summary  struct{ Total int }                           `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	s.total = rep.Summary.Total
	s.locations, s.fingerprint = map[string]bool{}, map[string]bool{}
	all := rep.Findings
	for _, d := range rep.Dormant {
		all = append(all, d.Findings...)
	}
	for _, f := range all {
		s.fingerprint[f.Fingerprint] = true
		if f.Location != nil {
			s.locations[fmt.Sprintf("%s:%d", f.Location.File, f.Location.Line)] = true
		}
	}
	return s
}

type reportFinding struct {
	Fingerprint string `json:"fingerprint"`
	Location    *struct {
		File string `json:"file"`
		Line int    `json:"line"`
	} `json:"location"`
}

var numberWords = map[string]int{"no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

// TestReadmeShownOutput compares what the README shows of the example platform's scan
// with what the scan prints: the counts it states, every file:line it names, every
// fingerprint, the table's finding lines, the JUnit suites, the GitHub annotations and
// the dormant readiness.
func TestReadmeShownOutput(t *testing.T) {
	doc := readme(t)
	dir := readmeDir(t)
	scan := scanPlatform(t, dir)

	m := regexp.MustCompile(`The scan prints (\w+) findings? and exits (\d)`).FindStringSubmatch(doc)
	require.NotNil(t, m, "the README's opening claim")
	assert.Equal(t, numberWords[m[1]], scan.total, "the README says the scan prints %s findings", m[1])
	assert.Equal(t, m[2], strconv.Itoa(scan.code))

	// Every location shown, in any format's notation.
	locs := 0
	for _, re := range []string{
		`(examples/platform/[\w.-]+\.ya?ml):(\d+)`,
		`file="(examples/platform/[^"]+)" line="(\d+)"`,
		`file=(examples/platform/[^,]+),line=(\d+)`,
		`"uri": "(examples/platform/[^"]+)"\},\s*"region": \{"endLine": \d+, "startLine": (\d+)`,
	} {
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(doc, -1) {
			locs++
			assert.True(t, scan.locations[m[1]+":"+m[2]], "the README shows a finding at %s:%s; the scan's are %v", m[1], m[2], scan.locations)
		}
	}
	assert.GreaterOrEqual(t, locs, 6)

	// Every fingerprint shown.
	fps := regexp.MustCompile(`(?:fingerprint|resultID|Fingerprint/v1)"?: "?([0-9a-f]{16})\b`).FindAllStringSubmatch(doc, -1)
	assert.GreaterOrEqual(t, len(fps), 3)
	for _, m := range fps {
		assert.True(t, scan.fingerprint[m[1]], "the README shows fingerprint %s, which no finding has", m[1])
	}

	// JUnit suites as shown.
	for _, b := range fencedBlocks(doc, "xml") {
		for _, l := range strings.Split(b, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "<testsuite ") {
				assert.Contains(t, scan.junit, l, "the README's JUnit suite")
			}
		}
	}

	// The table's finding lines and GitHub annotations as shown.
	findingLine := regexp.MustCompile(`^  (CRITICAL|HIGH|MEDIUM|LOW|INFO|WAIVED)\s+\S+\s+\S+$`)
	shown := 0
	for _, b := range fencedBlocks(doc, "") {
		for _, l := range strings.Split(b, "\n") {
			switch {
			case findingLine.MatchString(l) && !strings.Contains(b, "[NOT-APPLICABLE]"):
				shown++
				assert.Contains(t, scan.table, l+"\n", "the README's table line")
			case strings.HasPrefix(l, "::error ") || strings.HasPrefix(l, "::warning "):
				shown++
				prefix := l[:strings.Index(l[2:], "::")+4]
				assert.Contains(t, scan.github, prefix, "the README's annotation")
			}
		}
	}
	assert.GreaterOrEqual(t, shown, 3)

	// The dormant readiness, with the configuration the README describes.
	m = regexp.MustCompile("(?s)With `controls: \\[SR1\\]` on the example platform.*?```\n(.*?)```").FindStringSubmatch(doc)
	require.NotNil(t, m, "the README's dormant block")
	cfg := writeFile(t, dir, "sr1-only.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\ncontrols: [SR1]\n")
	dormant := scanPlatform(t, dir, "--config", cfg)
	for _, l := range strings.Split(strings.TrimRight(m[1], "\n"), "\n") {
		assert.Contains(t, dormant.table, l+"\n", "the README's dormant block")
	}
}

// TestReadmePolicyReportSample: the README's policy report is the example's, as YAML.
func TestReadmePolicyReportSample(t *testing.T) {
	doc := readme(t)
	m := regexp.MustCompile("(?s)`kubectl apply -f -` takes the stream as it is:.*?```yaml\n(.*?)```").FindStringSubmatch(doc)
	require.NotNil(t, m)
	var shown struct {
		Metadata struct{ Namespace string }
		Results  []map[string]any
		Summary  map[string]int
	}
	// The shortened texts ("...") are left out: the rest is compared.
	sample := regexp.MustCompile(`(?m)^\s*(message|remediation): .*\n`).ReplaceAllString(m[1], "")
	require.NoError(t, yaml.Unmarshal([]byte(sample), &shown))
	t.Chdir(readmeDir(t))
	out, _, code := execute(t, "", "scan", "-f", "examples/platform", "-o", "policyreport")
	require.Equal(t, 1, code)
	found := false
	for _, d := range strings.Split(out, "\n---\n") {
		var r struct {
			Kind     string
			Metadata struct{ Namespace string }
			Results  []map[string]any
			Summary  map[string]int
		}
		require.NoError(t, yaml.Unmarshal([]byte(d), &r))
		if r.Kind != "Report" || r.Metadata.Namespace != shown.Metadata.Namespace {
			continue
		}
		found = true
		assert.Equal(t, shown.Summary, r.Summary)
		require.Len(t, r.Results, len(shown.Results))
		for i, res := range shown.Results {
			for _, k := range []string{"policy", "rule", "result", "severity", "resources"} {
				assert.Equal(t, res[k], r.Results[i][k], k)
			}
			want, got := res["properties"].(map[string]any), r.Results[i]["properties"].(map[string]any)
			for _, k := range []string{"fingerprint", "location", "resultID"} {
				assert.Equal(t, want[k], got[k], k)
			}
		}
	}
	assert.True(t, found, "the report of namespace %s", shown.Metadata.Namespace)
}

// TestPreCommitHookWithSeveralArgs runs the hook as pre-commit does: its entry, then its
// args (several directories), no file names.
func TestPreCommitHookWithSeveralArgs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".pre-commit-hooks.yaml"))
	require.NoError(t, err)
	var hooks []struct {
		Entry         string `json:"entry"`
		PassFilenames bool   `json:"pass_filenames"`
	}
	require.NoError(t, yaml.Unmarshal(b, &hooks))
	require.Len(t, hooks, 1)
	assert.False(t, hooks[0].PassFilenames)
	entry := strings.Fields(hooks[0].Entry)
	require.Equal(t, "enforcement-auditor", entry[0])
	t.Chdir(readmeDir(t))
	for name, args := range map[string][]string{
		"one directory":   {"examples/platform"},
		"two directories": {"examples/gitops/network", "examples/platform"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := execute(t, "", append(slices.Clone(entry[1:]), args...)...)
			assert.Equal(t, 1, code, errOut)
			assert.Contains(t, out, "at examples/platform/", "the last directory was read")
		})
	}
}

// TestActionScansSeveralPaths runs the Action's scan step (its shell, from action.yml)
// with several paths, the auditor replaced by a stub that records its arguments, and
// then runs those arguments.
func TestActionScansSeveralPaths(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	require.NoError(t, err)
	var action struct {
		Runs struct {
			Steps []struct {
				ID  string            `json:"id"`
				Run string            `json:"run"`
				Env map[string]string `json:"env"`
			} `json:"steps"`
		} `json:"runs"`
	}
	require.NoError(t, yaml.Unmarshal(b, &action))
	var script string
	var env map[string]string
	for _, s := range action.Runs.Steps {
		if strings.Contains(s.Run, `scan "${files[@]}"`) {
			script, env = s.Run, s.Env
		}
	}
	require.NotEmpty(t, script, "the Action's scan step")
	dir := readmeDir(t)
	stub := filepath.Join(dir, "stub")
	require.NoError(t, os.WriteFile(stub, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGS_FILE\"\n"), 0o755))
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BIN="+stub, "ARGS_FILE="+filepath.Join(dir, "args"), "GITHUB_OUTPUT="+filepath.Join(dir, "out"),
		"SCAN_PATH=examples/platform examples/gitops/network", "FAIL_ON=high", "SARIF_FILE=results.sarif", "ARGS=")
	for k := range env {
		if !slices.ContainsFunc(cmd.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			cmd.Env = append(cmd.Env, k+"=")
		}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	recorded, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err, "the step ran the auditor: %s", out)
	args := strings.Split(strings.TrimSuffix(string(recorded), "\n"), "\n")
	assert.Equal(t, []string{"scan", "-f", "examples/platform", "-f", "examples/gitops/network"}, args[:5])
	t.Chdir(dir)
	_, errOut, code := execute(t, "", args...)
	assert.Equal(t, 1, code, errOut)
}

// TestReadmeKubectlKinds: the README's kubectl lines, which export a cluster for an
// offline scan, get every kind a rule needs to judge (RuleMeta.Needs) and the kinds
// SR2 and SR3 read their gate, admissions and databases from.
func TestReadmeKubectlKinds(t *testing.T) {
	short := map[string]string{"ns": "namespaces", "netpol": "networkpolicies.networking.k8s.io", "ds": "daemonsets.apps",
		"deploy": "deployments.apps", "rs": "replicasets.apps", "sts": "statefulsets.apps", "jobs": "jobs.batch", "cm": "configmaps",
		"svc": "services", "validatingwebhookconfigurations": "validatingwebhookconfigurations.admissionregistration.k8s.io",
		"validatingadmissionpolicies":       "validatingadmissionpolicies.admissionregistration.k8s.io",
		"validatingadmissionpolicybindings": "validatingadmissionpolicybindings.admissionregistration.k8s.io"}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`kubectl get ([\w.,-]+) -A`).FindAllStringSubmatch(readme(t), -1) {
		for _, k := range strings.Split(m[1], ",") {
			if r, ok := short[k]; ok {
				k = r
			}
			got[k] = true
		}
	}
	want := []string{"nodes", "daemonsets.apps", "clusterpolicies.kyverno.io", "policyexceptions.kyverno.io", "workloads.kueue.x-k8s.io",
		"clusters.postgresql.cnpg.io", "validatingwebhookconfigurations.admissionregistration.k8s.io"}
	for _, m := range rulesCatalogue() {
		want = append(want, m.Needs...)
	}
	for _, k := range want {
		assert.True(t, got[k], "the README's kubectl lines leave out %s", k)
	}
}

func rulesCatalogue() []auditor.RuleMeta { return rules.Catalogue() }

// TestNoClusterMessages: without a cluster each command says what it can do instead:
// run has no -f.
func TestNoClusterMessages(t *testing.T) {
	kc := writeFile(t, t.TempDir(), "missing-dir/kubeconfig", "")
	require.NoError(t, os.Remove(kc))
	_, errOut, code := execute(t, "", "run", "--kubeconfig", kc)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no cluster to talk to (run watches a cluster: give it one with --kubeconfig")
	assert.NotContains(t, errOut, "use -f to audit")
	_, errOut, code = execute(t, "", "scan", "--kubeconfig", kc)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no cluster to talk to (use -f to audit manifests)")
}

// TestVerifyOSCALSaysWhatToVerify: OSCAL assessment results are not signed; verify
// names the attestation to verify instead of suspecting an edit.
func TestVerifyOSCALSaysWhatToVerify(t *testing.T) {
	dir := t.TempDir()
	att, oscal := filepath.Join(dir, "evidence-1.json"), filepath.Join(dir, "assessment-results.json")
	_, errOut, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", testKey, "-o", "intoto="+att, "-o", "oscal="+oscal)
	require.Equal(t, 0, code, errOut)
	out, _, code := execute(t, "", "evidence", "verify", oscal, "--public-key", testPub)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "OSCAL assessment results carry no signature of their own: verify the in-toto attestation they reference (evidence-1.json)")
	assert.NotContains(t, out, "edited after it was written")
}
