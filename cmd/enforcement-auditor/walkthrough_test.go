package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walkThrough is the shell block of the auditor's verification walk-through, as
// documented.
func walkThrough(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/telemetry-events-evidence.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)### An auditor's verification walk-through\n.*?```sh\n(.*?)```").FindSubmatch(doc)
	require.NotNil(t, m, "the walk-through's sh block")
	return string(m[1])
}

// TestVerificationWalkThrough runs the documented walk-through, command by command,
// with the CLI built from this tree, against a series of attestations it writes, for
// each key type: every step must succeed. With one attestation replaced by an envelope
// carrying a forged "payload" beside the signed "PAYLOAD", the walk-through stops at
// the verifier instead of reading the forged statement.
func TestVerificationWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	for _, tool := range []string{"bash", "jq", "openssl", "sha256sum", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "enforcement-auditor"), ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	script := walkThrough(t)

	run := func(dir, script string) (string, error) {
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for kind, k := range map[string]struct{ key, pub, otherLine string }{
		"ed25519":    {testKey, testPub, "# ECDSA P-256 key"},
		"ecdsa-p256": {ecKey, ecPub, "# ed25519 key"},
	} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.Symlink(filepath.Join(root, "examples"), filepath.Join(dir, "examples")))
			require.NoError(t, os.Mkdir(filepath.Join(dir, "evidence"), 0o755))
			pub, err := os.ReadFile(k.pub)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "evidence-signing.pub.pem"), pub, 0o644))
			key, err := filepath.Abs(k.key)
			require.NoError(t, err)
			// A series as the daemon writes it: chained, OSCAL beside the newest.
			setup := strings.Join([]string{
				"enforcement-auditor evidence -f examples/platform --signing-key " + key + " -o intoto=evidence/evidence-1.json",
				"enforcement-auditor evidence -f examples/platform --signing-key " + key + " --previous evidence/evidence-1.json -o intoto=evidence/evidence-2.json",
				"enforcement-auditor evidence -f examples/platform --signing-key " + key + " --previous evidence/evidence-2.json" +
					" -o intoto=evidence/evidence-3.json -o oscal=evidence/assessment-results-3.json",
			}, "\n")
			out, err := run(dir, setup)
			require.NoError(t, err, out)

			// The openssl line for the other key type cannot verify this key's signature.
			var lines []string
			for _, l := range strings.Split(script, "\n") {
				if !strings.HasSuffix(strings.TrimSpace(l), k.otherLine) {
					lines = append(lines, l)
				}
			}
			steps := strings.Join(lines, "\n")
			out, err = run(dir, steps)
			require.NoError(t, err, out)
			assert.Contains(t, out, "evidence/evidence-2.json: OK (in-toto attestation, signature verified")
			assert.Contains(t, out, "chain: OK (3 documents")
			assert.Contains(t, out, "chain link OK: sha256:")
			assert.Contains(t, out, "evidence/evidence-3.json: OK", "sha256sum -c of the OSCAL link")
			assert.Contains(t, out, `"status":"violated"`, "the verdicts were read from the statement")

			// The same walk-through over a case-forged copy of the document it reads.
			envelope, err := os.ReadFile(filepath.Join(dir, "evidence", "evidence-2.json"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "evidence", "evidence-2.json"), caseForged(t, envelope), 0o644))
			require.NoError(t, os.Remove(filepath.Join(dir, "statement.json")))
			out, err = run(dir, steps)
			require.Error(t, err, out)
			assert.Contains(t, out, `evidence/evidence-2.json: verification FAILED: not a DSSE envelope of an in-toto statement: $: keys "payload" and "PAYLOAD" differ only in case`)
			assert.NotContains(t, out, `"status":"enforced"`, "the forged verdicts are never read")
			_, err = os.Stat(filepath.Join(dir, "statement.json"))
			assert.True(t, os.IsNotExist(err), "no statement is written from a forged envelope")
		})
	}
}
