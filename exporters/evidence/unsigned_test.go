package evidence

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Evidence sealed without a key says so where every reader looks: the statement, the
// envelope verify reads, the OSCAL results (still schema-valid) and the writer's status.
func TestUnsignedEvidenceIsMarked(t *testing.T) {
	ctx := context.Background()
	signer, err := LoadSigner("testdata/test-signing-key.pem")
	require.NoError(t, err)
	for name, s := range map[string]*Signer{"unsigned": nil, "signed": signer} {
		t.Run(name, func(t *testing.T) {
			a, err := NewAttestation(mustBuild(t, fixture()), FileSubjects([]SourceFile{{Path: "p.yaml", SHA256: SHA256Hex([]byte("x"))}}), "")
			require.NoError(t, err)
			require.NoError(t, a.Seal(ctx, s))
			assert.Equal(t, s != nil, a.Signed)
			assert.Equal(t, "sha256:"+SHA256Hex(a.Payload), a.Digest, "the digest is of the payload sealed")

			var st map[string]any
			require.NoError(t, json.Unmarshal(a.Payload, &st))
			mark, present := st["predicate"].(map[string]any)["signing"]
			if s == nil {
				assert.Equal(t, "UNSIGNED", mark)
			} else {
				assert.False(t, present, "a signed statement carries no mark")
			}

			got, err := VerifyEnvelope(ctx, a.Envelope, nil)
			require.NoError(t, err)
			assert.Equal(t, s != nil, got.Signed)
			assert.Equal(t, a.Digest, got.Digest)

			oscal, err := AssessmentResults(a, "e.json")
			require.NoError(t, err)
			require.NoError(t, validateOSCAL(t, oscal))
			assert.Equal(t, s == nil, strings.Contains(string(oscal), `"evidence-signing"`), "%s", oscal[:600])

			w, err := NewWriter(WriterOptions{Dir: t.TempDir()})
			require.NoError(t, err)
			assert.False(t, w.Unsigned(), "nothing written yet")
			_, err = w.WriteAttestation(a, nil)
			require.NoError(t, err)
			assert.Equal(t, s == nil, w.Unsigned())

			// Sealing again with the other choice moves the mark and the digest with it.
			other := signer
			if s != nil {
				other = nil
			}
			before := a.Digest
			require.NoError(t, a.Seal(ctx, other))
			assert.NotEqual(t, before, a.Digest)
			assert.Equal(t, other == nil, a.Statement.Predicate.Signing == Unsigned)
		})
	}
}
