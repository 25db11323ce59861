package prometheus

import (
	"testing"
	"time"
)

type fakeEvidence struct {
	errs     uint64
	last     time.Time
	unsigned bool
}

func (f fakeEvidence) Errors() uint64         { return f.errs }
func (f fakeEvidence) LastSuccess() time.Time { return f.last }
func (f fakeEvidence) Unsigned() bool         { return f.unsigned }

// TestEvidenceUnsigned: a daemon writing evidence without a signing key says so in a
// metric an alert can select; absent when the evidence writer is off.
func TestEvidenceUnsigned(t *testing.T) {
	const help = `# HELP enforcement_auditor_evidence_unsigned 1 when the last evidence attestation written carries no signature (no --signing-key: UNSIGNED evidence), else 0.
# TYPE enforcement_auditor_evidence_unsigned gauge
`
	compare(t, New(Options{}), "", "evidence_unsigned")
	compare(t, New(Options{Evidence: fakeEvidence{unsigned: true}}), "\n"+help+"enforcement_auditor_evidence_unsigned 1\n", "evidence_unsigned")
	compare(t, New(Options{Evidence: fakeEvidence{}}), "\n"+help+"enforcement_auditor_evidence_unsigned 0\n", "evidence_unsigned")
}
