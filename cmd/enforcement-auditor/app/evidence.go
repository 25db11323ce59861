package app

import (
	"context"
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
)

// EvidenceOptions configure compliance evidence in the daemon: the /evidence endpoint
// always, and a periodic writer when Dir is set (leader only).
type EvidenceOptions struct {
	Dir        string
	Interval   time.Duration
	Keep       int
	SigningKey ed25519.PrivateKey
}

var errNotEvaluated = errors.New("no evaluation completed yet")

// Evidence builds the current evidence document from the latest evaluation.
func (d *Daemon) Evidence() (*evidence.Document, error) {
	st := d.Store.State()
	ev := st.Evaluation
	if ev == nil {
		return nil, errNotEvaluated
	}
	doc, err := evidence.Build(evidence.Input{
		GeneratedAt:    time.Now().UTC(),
		AuditorVersion: version.Get().Version,
		Evaluation:     ev,
		Records:        st.Open,
		Rules:          d.rules,
		Config:         d.opts.Config,
	})
	if err != nil {
		return nil, err
	}
	if k := d.opts.Evidence.SigningKey; k != nil {
		if err := evidence.Sign(doc, k); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// writeEvidence writes a document every interval while this replica leads.
func (d *Daemon) writeEvidence(ctx context.Context) error {
	iv := d.opts.Evidence.Interval
	if iv <= 0 {
		iv = time.Hour
	}
	log := d.opts.Logger.With("component", "evidence")
	for {
		written := false
		if d.ready.Load() && d.IsLeader() {
			doc, err := d.Evidence()
			if err == nil {
				var path string
				if path, err = d.evidenceWriter.Write(doc); err == nil {
					written = true
					log.Info("evidence written", "path", path, "digest", doc.Digest)
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
