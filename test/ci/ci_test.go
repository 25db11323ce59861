// Package ci tests the CI integration files at the repository root by running what they
// run: the GitHub Action's shell steps (action.yml) and the pre-commit hook
// (.pre-commit-hooks.yaml), against examples/platform.
package ci

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

type step struct {
	Name, ID, If, Shell, Run, Uses string
	Env                            map[string]string
	With                           map[string]string
}

type action struct {
	Name, Description string
	Branding          map[string]string
	Inputs            map[string]struct {
		Description, Default string
		Required             bool
	}
	Outputs map[string]struct{ Description, Value string }
	Runs    struct {
		Using string
		Steps []step
	}
}

var expr = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// runner evaluates the few expressions the action's env blocks use and runs its shell
// steps as a GitHub runner does: bash -e, an output file per step, RUNNER_TEMP.
type runner struct {
	t       *testing.T
	inputs  map[string]string
	outputs map[string]map[string]string // step id -> outputs
	temp    string
	root    string
	workdir string
}

func (r *runner) eval(s string) string {
	return expr.ReplaceAllStringFunc(s, func(m string) string {
		e := expr.FindStringSubmatch(m)[1]
		switch {
		case strings.HasPrefix(e, "inputs."):
			return r.inputs[strings.TrimPrefix(e, "inputs.")]
		case e == "github.action_path":
			return r.root
		case e == "runner.os":
			return "Linux"
		case e == "runner.arch":
			return "X64"
		case strings.HasPrefix(e, "steps."):
			parts := strings.Split(e, ".") // steps.<id>.outputs.<name>
			require.Len(r.t, parts, 4, e)
			return r.outputs[parts[1]][parts[3]]
		}
		r.t.Fatalf("expression %q not understood by the test", e)
		return ""
	})
}

// run executes a shell step and returns its exit status and output.
func (r *runner) run(s step) (int, string) {
	r.t.Helper()
	require.Equal(r.t, "bash", s.Shell, s.Name)
	outFile := filepath.Join(r.temp, "output-"+s.ID)
	require.NoError(r.t, os.WriteFile(outFile, nil, 0o600))
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s.Run)
	cmd.Dir = r.workdir
	cmd.Env = append(os.Environ(), "RUNNER_TEMP="+r.temp, "GITHUB_OUTPUT="+outFile)
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+r.eval(v))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(r.t, err, s.Name)
	}
	b, err := os.ReadFile(outFile)
	require.NoError(r.t, err)
	outs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			outs[k] = v
		}
	}
	if s.ID != "" {
		r.outputs[s.ID] = outs
	}
	return code, out.String()
}

// TestAction runs action.yml's install (from source, as without a version), scan and
// verdict steps on examples/platform: the table is printed, the SARIF log is written
// where sarif-file says, and the job fails as the scan does, after the upload step.
func TestAction(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "action.yml"))
	require.NoError(t, err)
	var a action
	require.NoError(t, yaml.UnmarshalStrict(b, &a), "action.yml")
	require.Equal(t, "composite", a.Runs.Using)

	r := &runner{t: t, inputs: map[string]string{}, outputs: map[string]map[string]string{}, temp: t.TempDir(), root: root, workdir: root}
	for k, in := range a.Inputs {
		r.inputs[k] = in.Default
	}
	sarif := filepath.Join(r.temp, "out", "results.sarif")
	require.NoError(t, os.MkdirAll(filepath.Dir(sarif), 0o755))
	r.inputs["path"] = "examples/platform"
	r.inputs["sarif-file"] = sarif

	var uses []string
	var verdict int
	for _, s := range a.Runs.Steps {
		for _, v := range s.Env {
			assert.NotContains(t, r.eval(v), "${{", "every expression of %s evaluated", s.Name)
		}
		assert.NotContains(t, s.Run, "${{", "%s: inputs reach scripts through env only", s.Name)
		if s.Uses != "" {
			uses = append(uses, strings.Split(s.Uses, "@")[0])
			continue
		}
		code, out := r.run(s)
		switch s.ID {
		case "install":
			require.Equal(t, 0, code, out)
			require.FileExists(t, r.outputs["install"]["bin"])
		case "scan":
			assert.Equal(t, 0, code, "the scan step records the status and goes on to the upload: %s", out)
			assert.Equal(t, "1", r.outputs["scan"]["exit-code"], "the example has findings at or above high")
			assert.Contains(t, out, "SR1  budget path", "the table on the log")
		default:
			verdict = code
		}
	}
	assert.Equal(t, []string{"actions/setup-go", "github/codeql-action/upload-sarif"}, uses)
	assert.Equal(t, 1, verdict, "the job fails like the scan")
	assert.Equal(t, "${{ steps.scan.outputs.exit-code }}", a.Outputs["exit-code"].Value)

	var log struct {
		Version string
		Runs    []struct{ Results []struct{ RuleID string } }
	}
	raw, err := os.ReadFile(sarif)
	require.NoError(t, err, "the SARIF log the upload step sends")
	require.NoError(t, json.Unmarshal(raw, &log))
	assert.Equal(t, "2.1.0", log.Version)
	require.Len(t, log.Runs, 1)
	assert.Len(t, log.Runs[0].Results, 4, "the example's four findings")

	// fail-on critical still fails (two critical findings); bad input is exit 2.
	r.inputs["fail-on"] = "critical"
	r.inputs["path"] = "examples/platform action.yml"
	for _, s := range a.Runs.Steps {
		if s.ID == "scan" {
			_, out := r.run(s)
			assert.Equal(t, "2", r.outputs["scan"]["exit-code"], out)
		}
	}
}

// TestPreCommitHook runs the hook's entry with the args the README shows, as pre-commit
// does for a golang hook: the binary `go install` puts on PATH, the entry split on
// spaces, args appended, no file names.
func TestPreCommitHook(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, ".pre-commit-hooks.yaml"))
	require.NoError(t, err)
	var hooks []struct {
		ID, Name, Description, Language, Entry, Files string
		PassFilenames                                 *bool `json:"pass_filenames"`
	}
	require.NoError(t, yaml.UnmarshalStrict(b, &hooks))
	require.Len(t, hooks, 1)
	h := hooks[0]
	assert.Equal(t, "enforcement-auditor", h.ID)
	assert.Equal(t, "golang", h.Language)
	require.NotNil(t, h.PassFilenames)
	assert.False(t, *h.PassFilenames, "the whole directory is scanned, not the changed files alone")
	files := regexp.MustCompile(h.Files)
	for name, want := range map[string]bool{"a.yaml": true, "b/c.yml": true, "d.json": true, "e.go": false, "f.yaml.bak": false} {
		assert.Equal(t, want, files.MatchString(name), name)
	}

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "enforcement-auditor"), "./cmd/enforcement-auditor")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	argv := append(strings.Fields(h.Entry), "examples/platform")
	cmd := exec.Command(filepath.Join(bin, argv[0]), argv[1:]...)
	cmd.Dir = root
	out, err = cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	require.True(t, ok, "the example fails the hook: %v\n%s", err, out)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, string(out), "--fail-on high: FAIL")
}
