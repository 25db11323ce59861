package evidence

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var attestKeys = map[string]struct{ priv, pub string }{
	"ed25519":    {"testdata/test-signing-key.pem", "testdata/test-signing-key.pub.pem"},
	"ecdsa-p256": {"testdata/ec-key.pem", "testdata/ec-key.pub.pem"},
}

func sealed(t *testing.T, privPath string, in Input, previous string) *Attestation {
	t.Helper()
	signer, err := LoadSigner(privPath)
	require.NoError(t, err)
	a, err := NewAttestation(mustBuild(t, in), FileSubjects([]SourceFile{{Path: "platform.yaml", SHA256: SHA256Hex([]byte("x"))}}), previous)
	require.NoError(t, err)
	require.NoError(t, a.Seal(context.Background(), signer))
	return a
}

// independentVerify checks an envelope with go-securesystemslib's own key loader and
// verifiers (none of this package's code): the DSSE reference implementation in Go.
func independentVerify(t *testing.T, pubPath string, envelope []byte) error {
	t.Helper()
	pem, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	key, err := signerverifier.LoadKey(pem)
	require.NoError(t, err)
	var v dsse.Verifier
	switch key.KeyType {
	case signerverifier.ED25519KeyType:
		v, err = signerverifier.NewED25519SignerVerifierFromSSLibKey(key)
	default:
		v, err = signerverifier.NewECDSASignerVerifierFromSSLibKey(key)
	}
	require.NoError(t, err)
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return err
	}
	ev, err := dsse.NewEnvelopeVerifier(v)
	require.NoError(t, err)
	_, err = ev.Verify(context.Background(), &env)
	return err
}

// opensslVerify checks the signature with openssl over the DSSE pre-authentication
// encoding written out by hand from the DSSE v1 specification.
func opensslVerify(t *testing.T, kind, pubPath string, envelope []byte) error {
	t.Helper()
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	require.NoError(t, json.Unmarshal(envelope, &env))
	require.Len(t, env.Signatures, 1)
	body, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	require.NoError(t, err)
	dir := t.TempDir()
	pae := fmt.Sprintf("DSSEv1 %d %s %d %s", len(env.PayloadType), env.PayloadType, len(body), body)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pae"), []byte(pae), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sig"), sig, 0o644))
	var cmd *exec.Cmd
	if kind == "ed25519" {
		cmd = exec.Command("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", filepath.Join(dir, "pae"), "-sigfile", filepath.Join(dir, "sig"))
	} else {
		cmd = exec.Command("openssl", "dgst", "-sha256", "-verify", pubPath, "-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "pae"))
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// flipPayload changes one byte of the signed statement, keeping the envelope valid JSON.
func flipPayload(t *testing.T, envelope []byte, at int) []byte {
	var env dsse.Envelope
	require.NoError(t, json.Unmarshal(envelope, &env))
	body, err := env.DecodeB64Payload()
	require.NoError(t, err)
	body[at%len(body)] ^= 0x01
	env.Payload = base64.StdEncoding.EncodeToString(body)
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func flipSignature(t *testing.T, envelope []byte, at int) []byte {
	var env dsse.Envelope
	require.NoError(t, json.Unmarshal(envelope, &env))
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	require.NoError(t, err)
	sig[at%len(sig)] ^= 0x80
	env.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func TestEnvelopeVerifiesWithIndependentVerifiers(t *testing.T) {
	_, haveOpenSSL := exec.LookPath("openssl")
	for kind, k := range attestKeys {
		t.Run(kind, func(t *testing.T) {
			a := sealed(t, k.priv, fixture(), "")
			require.NoError(t, independentVerify(t, k.pub, a.Envelope))
			if haveOpenSSL == nil {
				require.NoError(t, opensslVerify(t, kind, k.pub, a.Envelope))
			}
			v, err := LoadVerifier(k.pub)
			require.NoError(t, err)
			got, err := VerifyEnvelope(context.Background(), a.Envelope, v)
			require.NoError(t, err)
			assert.Equal(t, a.Digest, got.Digest)
			assert.Equal(t, "SR1", got.Statement.Predicate.Controls[0].ID)

			for name, bad := range map[string][]byte{
				"payload byte 0":    flipPayload(t, a.Envelope, 0),
				"payload byte 100":  flipPayload(t, a.Envelope, 100),
				"payload last byte": flipPayload(t, a.Envelope, len(a.Payload)-1),
				"signature byte 0":  flipSignature(t, a.Envelope, 0),
				"signature byte 40": flipSignature(t, a.Envelope, 40),
			} {
				assert.Error(t, independentVerify(t, k.pub, bad), name)
				if haveOpenSSL == nil {
					assert.Error(t, opensslVerify(t, kind, k.pub, bad), name)
				}
				_, err := VerifyEnvelope(context.Background(), bad, v)
				assert.ErrorIs(t, err, ErrEnvelopeBadSign, name)
			}
		})
	}
}

func TestVerifyEnvelopeOutcomes(t *testing.T) {
	a := sealed(t, "testdata/test-signing-key.pem", fixture(), "")
	other, err := LoadVerifier("testdata/other-key.pub.pem")
	require.NoError(t, err)
	unsigned, err := NewAttestation(mustBuild(t, fixture()), []Subject{SnapshotSubject("c1", fixture().Rules, fixtureSnapshot())}, "")
	require.NoError(t, err)
	require.NoError(t, unsigned.Seal(context.Background(), nil))
	own, err := LoadVerifier("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)

	cases := map[string]struct {
		data []byte
		v    *Verifier
		want error
	}{
		"other key":                  {a.Envelope, other, ErrEnvelopeBadSign},
		"unsigned with a key":        {unsigned.Envelope, own, ErrEnvelopeBadSign},
		"unsigned, digest only":      {unsigned.Envelope, nil, nil},
		"signed, digest only":        {a.Envelope, nil, nil},
		"legacy document":            {signedBytes(t), own, ErrNotEnvelope},
		"not JSON":                   {[]byte("{"), own, ErrNotEnvelope},
		"another payload type":       {[]byte(`{"payloadType":"text/plain","payload":"","signatures":[]}`), nil, ErrNotEnvelope},
		"tampered, digest only: new": {flipPayload(t, a.Envelope, 3), nil, ErrNotEnvelope},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := VerifyEnvelope(context.Background(), c.data, c.v)
			if c.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, c.want)
			}
		})
	}
}

func TestStatementShape(t *testing.T) {
	in := fixture()
	a := sealed(t, "testdata/test-signing-key.pem", in, "sha256:"+SHA256Hex([]byte("prev")))
	var st map[string]any
	require.NoError(t, json.Unmarshal(a.Payload, &st))
	assert.Equal(t, "https://in-toto.io/Statement/v1", st["_type"])
	assert.Equal(t, PredicateType, st["predicateType"])
	pred := st["predicate"].(map[string]any)
	assert.Equal(t, "sha256:"+SHA256Hex([]byte("prev")), pred["previous"])
	assert.NotContains(t, pred, "digest", "the legacy digest is not part of the predicate")
	assert.NotContains(t, pred, "signature")
	for _, key := range []string{"controls", "findings", "waivers", "resources", "config", "auditorVersion", "generatedAt"} {
		assert.Contains(t, pred, key)
	}
	for _, s := range plantedSecrets {
		assert.NotContains(t, string(a.Payload), s)
	}

	// The live subject changes with any object's identity or resourceVersion.
	s1 := SnapshotSubject("c1", in.Rules, fixtureSnapshot())
	snap := fixtureSnapshot()
	snap.Pods[0].ResourceVersion = "4712"
	s2 := SnapshotSubject("c1", in.Rules, snap)
	assert.Equal(t, "kubernetes-cluster/c1", s1.Name)
	assert.Len(t, s1.Digest["sha256"], 64)
	assert.NotEqual(t, s1.Digest, s2.Digest)
	assert.Equal(t, s1, SnapshotSubject("c1", in.Rules, fixtureSnapshot()))
}

func series(t *testing.T, n int) []Link {
	t.Helper()
	var links []Link
	prev := ""
	for i := range n {
		in := smallInput()
		in.GeneratedAt = genAt.Add(time.Duration(i) * time.Hour)
		a := sealed(t, "testdata/test-signing-key.pem", in, prev)
		prev = a.Digest
		links = append(links, Link{Name: fmt.Sprintf("doc-%d", i), Attestation: a})
	}
	return links
}

func TestCheckChain(t *testing.T) {
	full := series(t, 4)
	forgedIn := smallInput()
	forgedIn.GeneratedAt, forgedIn.AuditorVersion = genAt.Add(time.Hour), "forged"
	forged := Link{Name: "doc-1", Attestation: sealed(t, "testdata/test-signing-key.pem", forgedIn, full[0].Attestation.Digest)}
	cases := map[string]struct {
		links []Link
		want  string
	}{
		"whole series":         {full, ""},
		"oldest pruned":        {full[1:], ""},
		"one document":         {full[2:3], ""},
		"middle removed":       {[]Link{full[0], full[1], full[3]}, "chain broken between doc-1 and doc-3"},
		"names swapped":        {[]Link{full[0], full[2], full[1], full[3]}, "doc-2 and doc-1 are out of order"},
		"replaced by a forged": {[]Link{full[0], forged, full[2]}, "chain broken between doc-1 and doc-2"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckChain(c.links)
			if c.want == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, c.want)
			}
		})
	}
}

func TestLoadSignerAndVerifier(t *testing.T) {
	_, err := LoadSigner("testdata/test-signing-key.pub.pem")
	require.ErrorContains(t, err, `want "PRIVATE KEY" or "EC PRIVATE KEY"`)
	_, err = LoadVerifier("testdata/test-signing-key.pem")
	require.ErrorContains(t, err, `want "PUBLIC KEY"`)
	for _, k := range attestKeys {
		s, err := LoadSigner(k.priv)
		require.NoError(t, err)
		v, err := LoadVerifier(k.pub)
		require.NoError(t, err)
		assert.Equal(t, s.Public(), v.Public())
	}
}

// A SEC1 key as `openssl ecparam -genkey -name prime256v1` writes it (curve block first).
func TestLoadSignerSEC1(t *testing.T) {
	s, err := LoadSigner("testdata/sec1-key.pem")
	require.NoError(t, err)
	v, err := NewVerifier(s.Public())
	require.NoError(t, err)
	a, err := NewAttestation(mustBuild(t, smallInput()), []Subject{{Name: "x", Digest: map[string]string{"sha256": SHA256Hex(nil)}}}, "")
	require.NoError(t, err)
	require.NoError(t, a.Seal(context.Background(), s))
	_, err = VerifyEnvelope(context.Background(), a.Envelope, v)
	require.NoError(t, err)
}

// VerifyEnvelope parses untrusted input: it never panics, and what it accepts with a
// key is signed by that key.
func FuzzVerifyEnvelope(f *testing.F) {
	signer, err := LoadSigner("testdata/test-signing-key.pem")
	require.NoError(f, err)
	v, err := NewVerifier(signer.Public())
	require.NoError(f, err)
	in := smallInput()
	doc, err := Build(in)
	require.NoError(f, err)
	a, err := NewAttestation(doc, []Subject{{Name: "x", Digest: map[string]string{"sha256": SHA256Hex(nil)}}}, "")
	require.NoError(f, err)
	require.NoError(f, a.Seal(context.Background(), signer))
	f.Add(a.Envelope)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := VerifyEnvelope(context.Background(), data, v)
		if err == nil && got.Digest != a.Digest {
			t.Fatalf("accepted a statement the key never signed: %s", got.Payload)
		}
		_, _ = VerifyEnvelope(context.Background(), data, nil)
	})
}
