package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// caseForged is envelope with a forged statement (every control enforced, no finding)
// as "payload" before the signed one renamed "PAYLOAD": encoding/json used to verify
// the signed one while jq, Python and the walk-through read the forged one.
func caseForged(t *testing.T, envelope []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(envelope, &m))
	var b64 string
	require.NoError(t, json.Unmarshal(m["payload"], &b64))
	body, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(body, &st))
	pred := st["predicate"].(map[string]any)
	pred["findings"] = []any{}
	for _, c := range pred["controls"].([]any) {
		c.(map[string]any)["status"] = "enforced"
	}
	forged, err := json.Marshal(st)
	require.NoError(t, err)
	return fmt.Appendf(nil, `{"payloadType":%s,"payload":%q,"PAYLOAD":%s,"signatures":%s}`,
		m["payloadType"], base64.StdEncoding.EncodeToString(forged), m["payload"], m["signatures"])
}

func TestVerifyOutputsTheVerifiedStatement(t *testing.T) {
	dir := t.TempDir()
	paths := writeSeries(t, dir, 2)
	envelope, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	want := statementOf(t, testPub, envelope)

	// To a file: the exact signed bytes, whose SHA-256 is the digest verify prints.
	stmt := filepath.Join(t.TempDir(), "statement.json")
	out, stderr, code := execute(t, "", "evidence", "verify", paths[1], "--public-key", testPub, "--output-payload", stmt)
	require.Equal(t, 0, code, stderr)
	b, err := os.ReadFile(stmt)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, want, got)
	sum := sha256.Sum256(b)
	assert.Contains(t, out, "; sha256:"+hex.EncodeToString(sum[:])+", generated")

	// To stdout: the statement alone on stdout, the status on stderr.
	out, stderr, code = execute(t, "", "evidence", "verify", paths[1], "--public-key", testPub, "--output-payload", "-")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, string(b), out)
	assert.Contains(t, stderr, paths[1]+": OK (in-toto attestation, signature verified")

	legacy := filepath.Join(t.TempDir(), "legacy.json")
	_, stderr, code = execute(t, "", "evidence", "-f", "../../examples/platform", "-o", "legacy", "--output-file", legacy)
	require.Equal(t, 0, code, stderr)

	forged := filepath.Join(t.TempDir(), "evidence-forged.json")
	require.NoError(t, os.WriteFile(forged, caseForged(t, envelope), 0o644))
	for name, c := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"the case-forged envelope":  {[]string{forged}, 1, forged + `: verification FAILED: not a DSSE envelope of an in-toto statement: $: keys "payload" and "PAYLOAD" differ only in case`},
		"several files":             {[]string{dir}, 2, "--output-payload writes the statement of one attestation; 2 files given"},
		"a legacy document":         {[]string{legacy, "--insecure-digest-only"}, 2, "is a legacy document, which has no statement"},
		"another key's attestation": {[]string{paths[0], "--public-key", "../../exporters/evidence/testdata/other-key.pub.pem"}, 1, "no signature verifies"},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if !strings.Contains(strings.Join(args, " "), "--") {
				args = append(args, "--public-key", testPub)
			}
			target := filepath.Join(t.TempDir(), "statement.json")
			out, stderr, code := execute(t, "", append([]string{"evidence", "verify", "--output-payload", target}, args...)...)
			assert.Equal(t, c.code, code, out+stderr)
			assert.Contains(t, out+stderr, c.msg)
			_, err := os.Stat(target)
			assert.True(t, os.IsNotExist(err), "no statement written when verification fails")
		})
	}
}

// evidence without a key still exits 0, but warns and marks its output UNSIGNED where
// verify, jq and the OSCAL reader see it.
func TestUnsignedEvidenceWarnsAndIsMarked(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "evidence-1.json")
	_, stderr, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--output-file", env)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "no --signing-key: the evidence is UNSIGNED")

	stmt := filepath.Join(dir, "statement.json")
	out, stderr, code := execute(t, "", "evidence", "verify", env, "--insecure-digest-only", "--output-payload", stmt)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, env+": OK (in-toto attestation, UNSIGNED: no signature, INSECURE")
	b, err := os.ReadFile(stmt)
	require.NoError(t, err)
	var st struct {
		Predicate struct {
			Signing string `json:"signing"`
		} `json:"predicate"`
	}
	require.NoError(t, json.Unmarshal(b, &st))
	assert.Equal(t, "UNSIGNED", st.Predicate.Signing)

	_, stderr, code = execute(t, "", "evidence", "verify", env, "--public-key", testPub)
	assert.Equal(t, 1, code, "an unsigned attestation never verifies with a key")
	assert.NotEmpty(t, stderr, "and says why")

	out, stderr, code = execute(t, "", "evidence", "-f", "../../examples/platform", "-o", "oscal")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "UNSIGNED")
	assert.Contains(t, out, `"name": "evidence-signing"`)

	out, stderr, code = execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", testKey)
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr+out, "UNSIGNED", "signed evidence carries no mark and no warning")
}
