package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	"github.com/llm-platform/enforcement-auditor/rules"
)

type evidenceFlags struct {
	files      []string
	signingKey string
	output     string
	timeout    time.Duration
	input      inputFlags
}

func newEvidenceCommand(g *globalFlags) *cobra.Command {
	f := &evidenceFlags{}
	cmd := &cobra.Command{
		Use:   "evidence [-f PATH]... [--signing-key KEY] [-o FILE]",
		Short: "Write a compliance evidence document (digested, optionally signed)",
		Long: `evidence audits once (the live cluster, or manifests with -f) and writes a JSON
document for auditors: every check per control with the objects it inspected (identity and
a SHA-256 of what was read, never values), all findings, waivers, a SHA-256 digest over the
canonical document and, with --signing-key, an ed25519 signature.`,
		Example: `  openssl genpkey -algorithm ed25519 -out evidence.key
  openssl pkey -in evidence.key -pubout -out evidence.pub
  enforcement-auditor evidence -f examples/platform --signing-key evidence.key -o evidence.json
  enforcement-auditor evidence verify evidence.json --public-key evidence.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvidence(cmd.Context(), g, f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable); without it the live cluster is audited")
	fl.StringVar(&f.signingKey, "signing-key", "", "ed25519 private key (PEM, PKCS#8) to sign the document")
	fl.StringVarP(&f.output, "output", "o", "-", "file to write (- for stdout)")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for the cluster's caches to sync")
	f.input.register(cmd)
	cmd.AddCommand(newEvidenceVerifyCommand())
	return cmd
}

func runEvidence(ctx context.Context, g *globalFlags, f *evidenceFlags, stdin io.Reader, out, errOut io.Writer) error {
	opts, err := f.input.options()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	log, err := g.logger(errOut, "text")
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if f.signingKey != "" {
		if key, err = evidence.LoadPrivateKey(f.signingKey); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	opts.SensitiveKinds = cfg.SensitiveGroupKinds()
	snap, err := loadSnapshot(ctx, g, f.files, opts, f.timeout, stdin, log)
	if err != nil {
		return err
	}
	rs := rules.All(cfg)
	ev := engine.Evaluate(rs, snap, cfg.Waivers.MaxDuration.Duration)
	st := store.New()
	st.Apply(snap.Now, ev.Findings)
	in := evidence.Input{
		GeneratedAt: time.Now().UTC(), AuditorVersion: version.Get().Version,
		Evaluation: ev, Records: st.Open(), Rules: rs, Config: cfg,
	}
	if len(f.files) > 0 {
		in.Offline = true
		if in.SourceFiles, err = evidence.HashFiles(f.files); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	doc, err := evidence.Build(in)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if key != nil {
		if err := evidence.Sign(doc, key); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	b, err := evidence.Marshal(doc)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if f.output == "-" {
		_, err = out.Write(b)
	} else {
		err = writeFileAtomic(f.output, b)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// maxEvidenceFile bounds the document evidence verify reads (the documents the auditor
// writes are a few MiB at most).
const maxEvidenceFile = 64 << 20

func newEvidenceVerifyCommand() *cobra.Command {
	var publicKey string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check an evidence document's digest and, with --public-key, its signature",
		Long: `verify recomputes the SHA-256 digest over the canonical document and, with
--public-key, checks the ed25519 signature. It exits 0 when both hold and 1 on any change
to the document, however small.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := fileinput.ReadFile(args[0], maxEvidenceFile)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			var pub ed25519.PublicKey
			if publicKey != "" {
				if pub, err = evidence.LoadPublicKey(publicKey); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			doc, err := evidence.VerifyDocument(data, pub)
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("%s: verification FAILED: %w", args[0], err)}
			}
			signed := "digest only (no --public-key)"
			if pub != nil {
				signed = "digest and ed25519 signature"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: OK (%s verified; %s, generated %s)\n", args[0], signed, doc.Digest, doc.GeneratedAt.Format(time.RFC3339))
			return err
		},
	}
	cmd.Flags().StringVar(&publicKey, "public-key", "", "ed25519 public key (PEM, PKIX) to check the signature")
	return cmd
}
