package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/defenseunicorns/go-oscal/src/pkg/validation"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testKey = "../../exporters/evidence/testdata/test-signing-key.pem"
	testPub = "../../exporters/evidence/testdata/test-signing-key.pub.pem"
	ecKey   = "../../exporters/evidence/testdata/ec-key.pem"
	ecPub   = "../../exporters/evidence/testdata/ec-key.pub.pem"
)

// statementOf verifies an envelope with go-securesystemslib's DSSE verifier and key
// loader (not this project's code) and returns the statement.
func statementOf(t *testing.T, pubPath string, envelope []byte) map[string]any {
	t.Helper()
	pem, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	key, err := signerverifier.LoadKey(pem)
	require.NoError(t, err)
	var v dsse.Verifier
	if key.KeyType == signerverifier.ED25519KeyType {
		v, err = signerverifier.NewED25519SignerVerifierFromSSLibKey(key)
	} else {
		v, err = signerverifier.NewECDSASignerVerifierFromSSLibKey(key)
	}
	require.NoError(t, err)
	ev, err := dsse.NewEnvelopeVerifier(v)
	require.NoError(t, err)
	var env dsse.Envelope
	require.NoError(t, json.Unmarshal(envelope, &env))
	_, err = ev.Verify(context.Background(), &env)
	require.NoError(t, err)
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(body, &st))
	return st
}

// The README's example: a directory of manifests, each file read once; the subjects are
// the SHA-256 of the files as they are on disk.
func TestEvidenceOfADirectory(t *testing.T) {
	for name, k := range map[string][2]string{"ed25519": {testKey, testPub}, "ecdsa-p256": {ecKey, ecPub}} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", k[0])
			require.Equal(t, 0, code, errOut)
			st := statementOf(t, k[1], []byte(out))
			subjects := st["subject"].([]any)
			files, err := filepath.Glob("../../examples/platform/*.yaml")
			require.NoError(t, err)
			require.Len(t, subjects, len(files))
			for i, f := range files {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				sum := sha256.Sum256(b)
				s := subjects[i].(map[string]any)
				assert.Equal(t, f, s["name"])
				assert.Equal(t, hex.EncodeToString(sum[:]), s["digest"].(map[string]any)["sha256"])
			}
		})
	}
}

func TestEvidenceOutputFlags(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		args []string
		code int
		err  string
	}{
		"old -o FILE usage":          {[]string{"-o", "json"}, 2, `-o/--output is the format, intoto, oscal or legacy, optionally =PATH, not "json"; to write a file use -o intoto=json`},
		"old -o path usage":          {[]string{"-o", filepath.Join(dir, "e.json")}, 2, "use -o intoto=" + filepath.Join(dir, "e.json")},
		"two to stdout":              {[]string{"-o", "intoto", "-o", "oscal"}, 2, "-o oscal: intoto and oscal both go to stdout"},
		"one file twice":             {[]string{"-o", "intoto=" + filepath.Join(dir, "x"), "-o", "oscal=" + filepath.Join(dir, "x")}, 2, "is written twice"},
		"legacy with another":        {[]string{"-o", "legacy", "-o", "oscal=" + filepath.Join(dir, "y")}, 2, "-o legacy is written alone"},
		"an empty path":              {[]string{"-o", "oscal="}, 2, "-o oscal=: the path after = is empty"},
		"attestation file with json": {[]string{"--attestation-file", "a.json"}, 2, "--attestation-file goes with -o oscal"},
		"legacy with an ECDSA key":   {[]string{"-o", "legacy", "--signing-key", ecKey}, 2, "ed25519 keys only"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := execute(t, "", append([]string{"evidence", "-f", "../../examples/platform"}, c.args...)...)
			assert.Equal(t, c.code, code)
			assert.Contains(t, errOut, c.err)
		})
	}
	_, err := os.Stat("json")
	assert.True(t, os.IsNotExist(err), "no file named json was written")
}

func writeSeries(t *testing.T, dir string, n int) []string {
	t.Helper()
	var paths []string
	for i := range n {
		p := filepath.Join(dir, "evidence-"+string(rune('a'+i))+".json")
		args := []string{"evidence", "-f", "../../examples/platform", "--signing-key", testKey, "--output-file", p}
		if i > 0 {
			args = append(args, "--previous", paths[i-1])
		}
		_, errOut, code := execute(t, "", args...)
		require.Equal(t, 0, code, errOut)
		paths = append(paths, p)
	}
	return paths
}

func TestEvidenceVerify(t *testing.T) {
	dir := t.TempDir()
	paths := writeSeries(t, dir, 3)
	legacy := filepath.Join(t.TempDir(), "evidence-legacy.json")
	_, errOut, code := execute(t, "", "evidence", "-f", "../../examples/platform", "-o", "legacy", "--signing-key", testKey, "--output-file", legacy)
	require.Equal(t, 0, code, errOut)

	out, errOut, code := execute(t, "", "evidence", "verify", dir, "--public-key", testPub)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 3, strings.Count(out, ": OK (in-toto attestation, signature verified"), out)
	assert.Contains(t, out, "chain: OK (3 documents")

	cases := map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no key":                {[]string{paths[0]}, 2, "verify needs --public-key"},
		"key and insecure":      {[]string{paths[0], "--public-key", testPub, "--insecure-digest-only"}, 2, "verify needs --public-key"},
		"insecure":              {[]string{dir, "--insecure-digest-only"}, 0, "INSECURE: signature not checked"},
		"other key":             {[]string{paths[0], "--public-key", "../../exporters/evidence/testdata/other-key.pub.pem"}, 1, "no signature verifies with the key"},
		"middle removed":        {[]string{paths[0], paths[2], "--public-key", testPub}, 1, "chain broken between " + paths[0] + " and " + paths[2]},
		"reordered":             {[]string{paths[1], paths[0], paths[2], "--public-key", testPub}, 1, "are out of order"},
		"legacy, deprecated":    {[]string{legacy, "--public-key", testPub}, 0, "legacy document (deprecated), digest and ed25519 signature verified"},
		"legacy, ecdsa key":     {[]string{legacy, "--public-key", ecPub}, 1, "only be signed with an ed25519 key"},
		"directory of no files": {[]string{t.TempDir(), "--public-key", testPub}, 2, "no evidence-*.json file"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := execute(t, "", append([]string{"evidence", "verify"}, c.args...)...)
			assert.Equal(t, c.code, code, "%s%s", out, errOut)
			assert.Contains(t, out+errOut, c.msg)
		})
	}

	// One flipped byte in a file of the directory fails it, and the run.
	b, err := os.ReadFile(paths[1])
	require.NoError(t, err)
	i := strings.Index(string(b), `"payload": "`) + len(`"payload": "`) + 20
	b[i] ^= 0x01
	require.NoError(t, os.WriteFile(paths[1], b, 0o644))
	out, _, code = execute(t, "", "evidence", "verify", dir, "--public-key", testPub)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, paths[1]+": verification FAILED")
}

// cleanPlatform is examples/platform with its deliberate defects repaired.
func cleanPlatform(t *testing.T) (dir, config string) {
	t.Helper()
	dir = t.TempDir()
	files, err := filepath.Glob("../../examples/platform/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var keep []string
		for _, doc := range strings.Split(string(b), "\n---\n") {
			if !strings.Contains(doc, "name: allow-search-evaluation\n") && !strings.Contains(doc, "name: adhoc-mig-notebook\n") {
				keep = append(keep, doc)
			}
		}
		s := strings.ReplaceAll(strings.Join(keep, "\n---\n"), "instances: 2", "instances: 3")
		writeFile(t, dir, filepath.Base(f), s)
	}
	config = writeFile(t, t.TempDir(), "config.yaml", "apiVersion: enforcement-auditor.llm-platform.io/v1alpha1\nkind: AuditorConfig\nsr2:\n  gpuResources: [nvidia.com/gpu]\n")
	return dir, config
}

func TestEvidenceOSCAL(t *testing.T) {
	clean, cfg := cleanPlatform(t)
	out, errOut, code := execute(t, "", "scan", "-f", clean, "--config", cfg)
	require.Equal(t, 0, code, out+errOut)
	require.Contains(t, out, "0 findings")

	cases := map[string]struct {
		args     []string
		findings bool
	}{
		"examples/platform": {[]string{"-f", "../../examples/platform"}, true},
		"clean platform":    {[]string{"-f", clean, "--config", cfg}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			att := filepath.Join(dir, "evidence.intoto.json")
			args := append([]string{"evidence", "-o", "oscal", "--signing-key", testKey, "--attestation-file", att}, c.args...)
			out, errOut, code := execute(t, "", args...)
			require.Equal(t, 0, code, errOut)
			v, err := validation.NewValidatorDesiredVersion([]byte(out), "1.1.3")
			require.NoError(t, err)
			require.NoError(t, v.Validate(), "OSCAL 1.1.3 schema")

			envelope, err := os.ReadFile(att)
			require.NoError(t, err)
			statementOf(t, testPub, envelope)
			var env dsse.Envelope
			require.NoError(t, json.Unmarshal(envelope, &env))
			body, err := base64.StdEncoding.DecodeString(env.Payload)
			require.NoError(t, err)
			sum := sha256.Sum256(body)
			assert.Contains(t, out, `"value": "sha256:`+hex.EncodeToString(sum[:])+`"`, "the back-matter names the statement's digest")
			fileSum := sha256.Sum256(envelope)
			assert.Contains(t, out, `"value": "`+hex.EncodeToString(fileSum[:])+`"`, "the link's hash is the linked file's")
			assert.Contains(t, out, `"href": "evidence.intoto.json"`)
			// Offline, Kyverno's webhook is invisible: SR2 stays unknown (not-satisfied,
			// reason other) even on the clean platform; no control fails there.
			assert.Equal(t, c.findings, strings.Contains(out, `"reason": "fail"`))
		})
	}
}

// TestEvidenceOutputsLikeScan: -o FORMAT=PATH as scan takes it: one attestation written
// as intoto and as OSCAL assessment results linked to that file; the deprecated flags
// still work, with a warning naming the new form.
func TestEvidenceOutputsLikeScan(t *testing.T) {
	dir := t.TempDir()
	att, oscal := filepath.Join(dir, "evidence.intoto.json"), filepath.Join(dir, "assessment-results.json")
	out, errOut, code := execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", testKey, "-o", "intoto="+att, "-o", "oscal="+oscal)
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, out, "both went to files")
	assert.NotContains(t, errOut, "deprecated")
	envelope, err := os.ReadFile(att)
	require.NoError(t, err)
	statementOf(t, testPub, envelope)
	results, err := os.ReadFile(oscal)
	require.NoError(t, err)
	sum := sha256.Sum256(envelope)
	assert.Contains(t, string(results), `"href": "evidence.intoto.json"`)
	assert.Contains(t, string(results), `"value": "`+hex.EncodeToString(sum[:])+`"`, "the link's hash is the written file's")

	// The old form, kept for a release.
	old := filepath.Join(dir, "old.json")
	_, errOut, code = execute(t, "", "evidence", "-f", "../../examples/platform", "--signing-key", testKey, "--output-file", old)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "warning: --output-file is deprecated and removed in the next release: use -o FORMAT=PATH\n")
	b, err := os.ReadFile(old)
	require.NoError(t, err)
	statementOf(t, testPub, b)
}
