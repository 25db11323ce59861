package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEvidenceUnsignedDaemon: a daemon writing evidence without --signing-key warns once,
// sets enforcement_auditor_evidence_unsigned to 1 and marks every statement UNSIGNED;
// with a key the metric is 0 and the statements carry no mark. Either way the OSCAL
// results beside an attestation link it by its file's SHA-256.
func TestEvidenceUnsignedDaemon(t *testing.T) {
	key := filepath.Join(repoRoot(), "exporters", "evidence", "testdata", "test-signing-key.pem")
	for name, c := range map[string]struct {
		args   []string
		metric string
		mark   string
	}{
		"no key": {nil, "1", "UNSIGNED"},
		"a key":  {[]string{"--signing-key", key}, "0", ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a := startAuditor(t, append([]string{"--evidence-dir", dir, "--evidence-interval", "1s", "--evidence-oscal"}, c.args...)...)
			list := func(prefix string) []string {
				names, err := filepath.Glob(filepath.Join(dir, prefix+"*.json"))
				require.NoError(t, err)
				return names
			}
			require.True(t, assertEventually(30*time.Second, func() bool { return len(list("evidence-")) >= 2 }),
				"fewer than 2 attestations in %s", dir)
			a.waitMetric(t, 10*time.Second, `(?m)^enforcement_auditor_evidence_unsigned `+c.metric+`$`)
			a.stop(t, 15*time.Second)
			warnings := strings.Count(a.Logs(), "evidence attestations are written UNSIGNED")
			if c.mark != "" {
				assert.Equal(t, 1, warnings, "one warning, not one per document:\n%s", a.Logs())
			} else {
				assert.Zero(t, warnings)
			}

			for _, f := range list("evidence-") {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				var st struct {
					Predicate struct {
						Signing string `json:"signing"`
					} `json:"predicate"`
				}
				require.NoError(t, json.Unmarshal(evidencePayload(t, b), &st))
				assert.Equal(t, c.mark, st.Predicate.Signing, f)
			}
			oscal := list("assessment-results-")
			require.NotEmpty(t, oscal)
			for _, f := range oscal {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				var ar struct {
					AR struct {
						BackMatter struct {
							Resources []struct {
								Rlinks []struct {
									Href   string                   `json:"href"`
									Hashes []struct{ Value string } `json:"hashes"`
								} `json:"rlinks"`
							} `json:"resources"`
						} `json:"back-matter"`
					} `json:"assessment-results"`
				}
				require.NoError(t, json.Unmarshal(b, &ar))
				link := ar.AR.BackMatter.Resources[0].Rlinks[0]
				linked, err := os.ReadFile(filepath.Join(dir, link.Href))
				require.NoError(t, err, "%s links a file beside it", f)
				sum := sha256.Sum256(linked)
				assert.Equal(t, hex.EncodeToString(sum[:]), link.Hashes[0].Value, "%s: the link carries the linked file's SHA-256", f)
			}
		})
	}
}
