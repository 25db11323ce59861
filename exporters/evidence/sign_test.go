package evidence

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func testKeys(t *testing.T) (ed25519.PrivateKey, ed25519.PublicKey, ed25519.PublicKey) {
	t.Helper()
	priv, err := LoadPrivateKey("testdata/test-signing-key.pem")
	require.NoError(t, err)
	pub, err := LoadPublicKey("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	other, err := LoadPublicKey("testdata/other-key.pub.pem")
	require.NoError(t, err)
	return priv, pub, other
}

func signedBytes(t *testing.T) []byte {
	t.Helper()
	priv, _, _ := testKeys(t)
	doc := mustBuild(t, fixture())
	require.NoError(t, Sign(doc, priv))
	b, err := Marshal(doc)
	require.NoError(t, err)
	return b
}

// smallInput is a document with every kind of field (signature, waiver, object hash,
// probe, fact) but few objects, so that every byte of it can be tampered with quickly.
func smallInput() Input {
	in := fixture()
	s := in.Evaluation.Snapshot
	s.Namespaces = s.Namespaces[:1]
	s.Pods, s.Deployments, s.NetworkPolicies, s.Owners = nil, nil, nil, nil
	var rules []auditor.Rule
	for _, r := range in.Rules {
		if id := r.Meta().ID; id == cnpgRule.ID || id == workloadRule.ID {
			rules = append(rules, r)
		}
	}
	in.Rules = rules
	in.Evaluation.Findings = in.Evaluation.Findings[2:3] // the waived CNPG finding
	return in
}

// Changing any single byte of a written document, signed or not, fails verification,
// with or without the expected public key.
func TestVerifyDetectsEveryByteChange(t *testing.T) {
	priv, pub, _ := testKeys(t)
	signed := mustBuild(t, smallInput())
	require.NoError(t, Sign(signed, priv))
	signedPretty, err := Marshal(signed)
	require.NoError(t, err)
	signedCompact, err := Canonical(signed)
	require.NoError(t, err)
	unsigned, err := Marshal(mustBuild(t, smallInput()))
	require.NoError(t, err)
	require.Contains(t, string(signedPretty), `"waiver"`)
	require.Contains(t, string(signedPretty), `"sha256"`)

	cases := map[string]struct {
		data   []byte
		pub    ed25519.PublicKey
		stride int
	}{
		"signed, expected key, every byte": {data: signedPretty, pub: pub, stride: 1},
		"signed, embedded key":             {data: signedPretty, stride: 5},
		"signed compact, embedded key":     {data: signedCompact, stride: 5},
		"unsigned":                         {data: unsigned, stride: 5},
		"full fixture":                     {data: signedBytes(t), pub: pub, stride: 37},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, Verify(tc.data, tc.pub), "the untouched document verifies")
			for i := 0; i < len(tc.data); i += tc.stride {
				flips := []byte{0x01}
				if c := tc.data[i] | 0x20; c >= 'a' && c <= 'z' {
					flips = append(flips, 0x20) // the case of a letter: JSON keys match case-insensitively
				}
				for _, flip := range flips {
					tampered := bytes.Clone(tc.data)
					tampered[i] ^= flip
					if err := Verify(tampered, tc.pub); err == nil {
						t.Fatalf("byte %d (%q) xor %#x verified: %q", i, tc.data[i], flip, tampered[max(0, i-30):min(len(tampered), i+30)])
					}
				}
			}
		})
	}
}

func TestVerifyOutcomes(t *testing.T) {
	priv, pub, other := testKeys(t)
	_, attackerKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)

	resign := func(mutate func(d *Document), key ed25519.PrivateKey) []byte {
		d := mustBuild(t, fixture())
		require.NoError(t, Sign(d, priv))
		mutate(d)
		if key != nil {
			require.NoError(t, Sign(d, key))
		}
		b, err := Marshal(d)
		require.NoError(t, err)
		return b
	}
	cases := map[string]struct {
		data []byte
		pub  ed25519.PublicKey
		err  error
	}{
		"signed, right key":   {data: signedBytes(t), pub: pub},
		"signed, other key":   {data: signedBytes(t), pub: other, err: ErrWrongKey},
		"unsigned, no key":    {data: resign(func(d *Document) { d.Signature = nil }, nil)},
		"unsigned, key given": {data: resign(func(d *Document) { d.Signature = nil }, nil), pub: pub, err: ErrNotSigned},
		"content changed and digest recomputed": {data: resign(func(d *Document) {
			d.Controls[1].Status = "enforced"
			require.NoError(t, Seal(d))
		}, nil), err: ErrSignatureInvalid},
		"content changed and re-signed by another key, checked with ours": {data: resign(func(d *Document) {
			d.Controls[1].Status = "enforced"
		}, attackerKey), pub: pub, err: ErrWrongKey},
		"signature from another document": {data: resign(func(d *Document) {
			d.AuditorVersion = "v9"
			require.NoError(t, Seal(d))
			other := mustBuild(t, fixture())
			require.NoError(t, Sign(other, priv))
			d.Signature = other.Signature
		}, nil), pub: pub, err: ErrSignatureInvalid},
		"keyId not matching the embedded key": {data: resign(func(d *Document) {
			d.Signature.KeyID = "sha256:" + strings.Repeat("0", 64)
		}, nil), err: ErrSignatureInvalid},
		"re-indented":   {data: reindent(t, signedBytes(t)), err: ErrNotCanonical},
		"unknown field": {data: bytes.Replace(signedBytes(t), []byte(`"apiVersion"`), []byte(`"extra": 1, "apiVersion"`), 1), err: ErrNotCanonical},
		"trailing data": {data: append(signedBytes(t), []byte("{}")...), err: ErrNotCanonical},
		"empty":         {data: nil, err: ErrNotCanonical},
		"not JSON":      {data: []byte("hello"), err: ErrNotCanonical},
		"compact form ok": {data: func() []byte {
			var b bytes.Buffer
			require.NoError(t, json.Compact(&b, signedBytes(t)))
			return b.Bytes()
		}(), pub: pub},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			doc, err := VerifyDocument(tc.data, tc.pub)
			if tc.err == nil {
				require.NoError(t, err)
				assert.Equal(t, Kind, doc.Kind)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

func reindent(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	require.NoError(t, json.Indent(&out, bytes.TrimSpace(b), "", "    "))
	return out.Bytes()
}

// The signature is plain ed25519 over the payload, so an auditor can check it with
// openssl alone, following the commands in docs/telemetry-events-evidence.md.
func TestSignatureVerifiesWithOpenSSLAndJq(t *testing.T) {
	for _, tool := range []string{"openssl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "evidence.json")
	require.NoError(t, os.WriteFile(doc, signedBytes(t), 0o644))
	run := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return string(out)
	}
	// The documented recipe: payload = canonical document without digest and signature.
	payload := filepath.Join(dir, "payload.json")
	require.NoError(t, os.WriteFile(payload, []byte(run("jq", "-cjS", "del(.digest, .signature)", doc)), 0o644))
	d, err := VerifyDocument(signedBytes(t), nil)
	require.NoError(t, err)
	want, err := Payload(d)
	require.NoError(t, err)
	got, err := os.ReadFile(payload)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "jq -cjS reproduces the canonical payload")
	assert.Contains(t, run("sh", "-c", "sha256sum "+payload), strings.TrimPrefix(d.Digest, "sha256:"))

	sig, err := base64.StdEncoding.DecodeString(d.Signature.Value)
	require.NoError(t, err)
	sigFile := filepath.Join(dir, "sig.bin")
	require.NoError(t, os.WriteFile(sigFile, sig, 0o644))
	assert.Contains(t, run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "testdata/test-signing-key.pub.pem", "-rawin",
		"-in", payload, "-sigfile", sigFile), "Signature Verified Successfully")
	keyID := run("sh", "-c", "openssl pkey -pubin -in testdata/test-signing-key.pub.pem -outform DER | sha256sum")
	assert.Equal(t, d.Signature.KeyID, "sha256:"+strings.Fields(keyID)[0])
}

func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a key"), 0o600))
	encrypted := filepath.Join(dir, "enc.pem")
	require.NoError(t, os.WriteFile(encrypted, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"), 0o600))

	privCases := map[string]string{
		"testdata/test-signing-key.pem":     "",
		"testdata/ec-key.pem":               "not an ed25519 key",
		"testdata/test-signing-key.pub.pem": `PEM block "PUBLIC KEY", want "PRIVATE KEY"`,
		garbage:                             "no PEM block",
		encrypted:                           "encrypted keys are not supported",
		filepath.Join(dir, "missing.pem"):   "no such file",
	}
	for path, wantErr := range privCases {
		t.Run("private "+filepath.Base(path), func(t *testing.T) {
			k, err := LoadPrivateKey(path)
			if wantErr == "" {
				require.NoError(t, err)
				assert.Len(t, k, ed25519.PrivateKeySize)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), wantErr)
		})
	}
	pubCases := map[string]string{
		"testdata/test-signing-key.pub.pem": "",
		"testdata/test-signing-key.pem":     `PEM block "PRIVATE KEY", want "PUBLIC KEY"`,
		garbage:                             "no PEM block",
	}
	for path, wantErr := range pubCases {
		t.Run("public "+filepath.Base(path), func(t *testing.T) {
			k, err := LoadPublicKey(path)
			if wantErr == "" {
				require.NoError(t, err)
				assert.Len(t, k, ed25519.PublicKeySize)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), wantErr)
		})
	}
	priv, err := LoadPrivateKey("testdata/test-signing-key.pem")
	require.NoError(t, err)
	pub, err := LoadPublicKey("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	assert.Equal(t, pub, priv.Public(), "the pair generated by openssl matches")
	assert.Error(t, Sign(mustBuild(t, fixture()), ed25519.PrivateKey("short")))
}
