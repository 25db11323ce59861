package integration

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
	"time"

	"github.com/defenseunicorns/go-oscal/src/pkg/validation"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evidencePayload returns the statement a DSSE envelope carries, or doc itself when it
// is not an envelope (a scan report, a legacy evidence document).
func evidencePayload(t testing.TB, doc []byte) []byte {
	t.Helper()
	var env struct {
		PayloadType *string `json:"payloadType"`
		Payload     string  `json:"payload"`
	}
	if json.Unmarshal(doc, &env) != nil || env.PayloadType == nil {
		return doc
	}
	b, err := base64.StdEncoding.DecodeString(env.Payload)
	require.NoError(t, err)
	return b
}

// independentVerify verifies an envelope with go-securesystemslib's DSSE verifier and
// PEM key loader: none of the auditor's code.
func independentVerify(t testing.TB, pubPath string, envelope []byte) error {
	t.Helper()
	pem, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	key, err := signerverifier.LoadKey(pem)
	require.NoError(t, err)
	v, err := signerverifier.NewED25519SignerVerifierFromSSLibKey(key)
	require.NoError(t, err)
	ev, err := dsse.NewEnvelopeVerifier(v)
	require.NoError(t, err)
	var env dsse.Envelope
	if err := json.Unmarshal(envelope, &env); err != nil {
		return err
	}
	_, err = ev.Verify(context.Background(), &env)
	return err
}

// flipByte changes one byte of the envelope's payload ("payload") or signature ("sig").
func flipByte(t testing.TB, envelope []byte, field string, at int) []byte {
	t.Helper()
	var env dsse.Envelope
	require.NoError(t, json.Unmarshal(envelope, &env))
	s := &env.Payload
	if field == "sig" {
		s = &env.Signatures[0].Sig
	}
	b, err := base64.StdEncoding.DecodeString(*s)
	require.NoError(t, err)
	b[at%len(b)] ^= 0x01
	*s = base64.StdEncoding.EncodeToString(b)
	out, err := json.Marshal(env)
	require.NoError(t, err)
	return out
}

// TestEvidenceAttestations (issue requirement): the daemon on a real apiserver writes
// signed in-toto attestations that an independent DSSE implementation verifies; one
// flipped byte of payload or signature fails it; the series is a hash chain that
// `evidence verify` checks, and removing a document from its middle fails the check;
// the OSCAL assessment results beside them validate against the OSCAL 1.1.3 schema.
func TestEvidenceAttestations(t *testing.T) {
	dir := t.TempDir()
	testdata := filepath.Join(repoRoot(), "exporters", "evidence", "testdata")
	key, pub := filepath.Join(testdata, "test-signing-key.pem"), filepath.Join(testdata, "test-signing-key.pub.pem")
	a := startAuditor(t, "--evidence-dir", dir, "--evidence-interval", "1s", "--signing-key", key, "--evidence-oscal")

	list := func(prefix string) []string {
		names, err := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
		require.NoError(t, err)
		return names
	}
	require.True(t, assertEventually(30*time.Second, func() bool { return len(list("evidence-")) >= 3 }),
		"fewer than 3 attestations in %s", dir)
	a.stop(t, 15*time.Second) // no write races the checks below
	files := list("evidence-")

	prev := ""
	for i, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, independentVerify(t, pub, b), f)
		var st struct {
			Type          string `json:"_type"`
			PredicateType string `json:"predicateType"`
			Subject       []struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			Predicate struct {
				Previous string `json:"previous"`
				Cluster  struct{ ID, Source string }
			} `json:"predicate"`
		}
		payload := evidencePayload(t, b)
		require.NoError(t, json.Unmarshal(payload, &st))
		assert.Equal(t, "https://in-toto.io/Statement/v1", st.Type)
		require.Len(t, st.Subject, 1)
		assert.Equal(t, "kubernetes-cluster/"+st.Predicate.Cluster.ID, st.Subject[0].Name)
		assert.Len(t, st.Subject[0].Digest["sha256"], 64)
		if i > 0 {
			assert.Equal(t, prev, st.Predicate.Previous, "%s links to the document before it", f)
		}
		sum := sha256.Sum256(payload)
		prev = "sha256:" + hex.EncodeToString(sum[:])

		for _, field := range []string{"payload", "sig"} {
			for _, at := range []int{0, 17, 63} {
				assert.Error(t, independentVerify(t, pub, flipByte(t, b, field, at)), "%s with %s byte %d flipped", f, field, at)
			}
		}
	}

	out, errOut, code := sr3CLI(t, "evidence", "verify", dir, "--public-key", pub)
	require.Equal(t, 0, code, "%s%s", out, errOut)
	assert.Contains(t, out, "chain: OK")
	// The CLI's verdict on a tampered file.
	tampered := filepath.Join(t.TempDir(), "evidence-tampered.json")
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tampered, flipByte(t, b, "payload", 40), 0o644))
	out, _, code = sr3CLI(t, "evidence", "verify", tampered, "--public-key", pub)
	assert.Equal(t, 1, code, out)
	// A document removed from the middle of the series.
	require.NoError(t, os.Remove(files[1]))
	out, errOut, code = sr3CLI(t, "evidence", "verify", dir, "--public-key", pub)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "chain broken between "+files[0]+" and "+files[2])

	oscal := list("assessment-results-")
	require.NotEmpty(t, oscal)
	for _, f := range oscal {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		v, err := validation.NewValidatorDesiredVersion(b, "1.1.3")
		require.NoError(t, err)
		require.NoError(t, v.Validate(), "%s against the OSCAL 1.1.3 schema", f)
		assert.True(t, strings.Contains(string(b), `"href": "evidence-`), "the results reference their attestation")
	}
}
