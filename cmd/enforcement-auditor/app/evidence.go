package app

import (
	"context"
	"errors"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
)

// EvidenceOptions configure compliance evidence in the daemon: the /evidence endpoint
// always, and a periodic writer when Dir is set (leader only).
type EvidenceOptions struct {
	Dir      string
	Interval time.Duration
	Keep     int
	// SigningKey is the private key file (PEM: ed25519 or ECDSA P-256) the attestations
	// are signed with; "" writes them unsigned.
	SigningKey string
	// OSCAL also writes OSCAL assessment results beside each attestation.
	OSCAL bool
}

var errNotEvaluated = errors.New("no evaluation completed yet")

// latestEvidence builds the evidence document of the latest published evaluation, with
// the input it was built from (an attestation names the input's subjects).
func (d *Daemon) latestEvidence() (*evidence.Document, evidence.Input, error) {
	st := d.Store.State()
	ev := st.Evaluation
	if ev == nil {
		return nil, evidence.Input{}, errNotEvaluated
	}
	in := evidence.Input{
		GeneratedAt:    time.Now().UTC(),
		AuditorVersion: version.Get().Version,
		Evaluation:     ev,
		Records:        st.Open,
		Rules:          d.rules,
		Config:         d.opts.Config,
	}
	doc, err := evidence.Build(in)
	return doc, in, err
}

// Evidence builds the current evidence document (the deprecated legacy form /evidence
// serves) from the latest evaluation.
func (d *Daemon) Evidence() (*evidence.Document, error) {
	doc, _, err := d.latestEvidence()
	if err != nil {
		return nil, err
	}
	if s := d.signer; s != nil && s.Legacy() != nil {
		if err := evidence.Sign(doc, s.Legacy()); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// Attestation builds and seals an attestation of the latest evaluation linked to previous.
func (d *Daemon) Attestation(ctx context.Context, previous string) (*evidence.Attestation, error) {
	doc, in, err := d.latestEvidence()
	if err != nil {
		return nil, err
	}
	a, err := evidence.NewAttestation(doc, evidence.SubjectsOf(in), previous)
	if err != nil {
		return nil, err
	}
	if err := a.Seal(ctx, d.signer); err != nil {
		return nil, err
	}
	return a, nil
}

// writeEvidence writes an attestation every interval while this replica leads, each
// linked to the one before (across restarts: the newest in the directory that verifies
// with this replica's key).
func (d *Daemon) writeEvidence(ctx context.Context) error {
	iv := d.opts.Evidence.Interval
	log := d.opts.Logger.With("component", "evidence")
	if d.signer == nil {
		log.Warn("no --signing-key: evidence attestations are written UNSIGNED (marked so in each statement; enforcement_auditor_evidence_unsigned is 1); nothing shows who wrote them")
	}
	var verifier *evidence.Verifier
	if s := d.signer; s != nil {
		v, err := evidence.NewVerifier(s.Public())
		if err != nil {
			return err
		}
		verifier = v
	}
	previous, err := d.evidenceWriter.Latest(ctx, verifier)
	if err != nil {
		log.Error("evidence directory not readable; starting a new chain", "err", err)
	}
	for {
		written := false
		if d.ready.Load() && d.IsLeader() {
			a, err := d.Attestation(ctx, previous)
			if err == nil {
				var oscal []byte
				if d.opts.Evidence.OSCAL {
					oscal, err = evidence.AssessmentResults(a, evidence.AttestationFileName(a))
				}
				var path string
				if err == nil {
					path, err = d.evidenceWriter.WriteAttestation(a, oscal)
				}
				if err == nil {
					written, previous = true, a.Digest
					log.Info("evidence written", "path", path, "digest", a.Digest)
				}
			}
			if err != nil && !errors.Is(err, errNotEvaluated) {
				log.Error("evidence not written", "err", err)
			}
		}
		wait := iv
		if !written && d.evidenceWriter.LastSuccess().IsZero() && d.evidenceWriter.Errors() == 0 {
			wait = time.Second // the first document soon after the first evaluation
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}
