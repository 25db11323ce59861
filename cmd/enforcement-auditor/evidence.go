package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
	"github.com/llm-platform/enforcement-auditor/auditor/fileoutput"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
)

type evidenceFlags struct {
	files      []string
	signingKey string
	// outputs are the -o values: FORMAT or FORMAT=PATH, as scan takes them.
	outputs []string
	// outputFile and attestationFile are the deprecated forms of -o FORMAT=PATH and
	// -o intoto=PATH (kept for one release).
	outputFile      string
	attestationFile string
	previous        string
	timeout         time.Duration
	input           inputFlags
}

// Evidence output formats (-o).
const (
	formatInToto = "intoto"
	formatOSCAL  = "oscal"
	formatLegacy = "legacy"
)

func newEvidenceCommand(g *globalFlags) *cobra.Command {
	f := &evidenceFlags{}
	cmd := &cobra.Command{
		Use:   "evidence [-f PATH]... [-o FORMAT[=PATH]]... [--signing-key KEY]",
		Short: "Write signed compliance evidence: an in-toto attestation or OSCAL assessment results",
		Long: `evidence audits once (the live cluster, or manifests with -f) and writes evidence for
auditors.

-o takes FORMAT or FORMAT=PATH, as scan does (repeatable; at most one to stdout):

-o intoto (default) writes an in-toto Statement v1 in a DSSE envelope, signed with
--signing-key (ed25519 or ECDSA P-256, PEM): its subjects are the SHA-256 of each manifest
file as read (or, for a live run, of the identities and resourceVersions of the objects the
rules read); its predicate is the assessment (every check per control with the objects it
inspected, never values; findings, waivers, auditor version, configuration digest) and the
digest of the previous document (--previous), so that a series is a hash chain.

-o oscal writes OSCAL 1.1.3 assessment-results: an observation per check, a finding per
unproven control mapped to NIST SP 800-53 rev5 (SR1: AC-4, SC-7; SR2: SC-6; SR3: SC-24),
and the attestation's digest as a back-matter resource, linked to the intoto file when one is
written beside it (-o intoto=PATH -o oscal=PATH).

-o legacy writes the deprecated ComplianceEvidence document (removed in the next release).

--output-file and --attestation-file are deprecated (removed in the next release): they are
-o FORMAT=PATH and -o intoto=PATH.`,
		Example: `  openssl genpkey -algorithm ed25519 -out evidence.key
  openssl pkey -in evidence.key -pubout -out evidence.pub
  enforcement-auditor evidence -f examples/platform --signing-key evidence.key \
    -o intoto=evidence.intoto.json
  enforcement-auditor evidence verify evidence.intoto.json --public-key evidence.pub
  enforcement-auditor evidence verify evidence.intoto.json --public-key evidence.pub \
    --output-payload - | jq .predicate
  enforcement-auditor evidence -f examples/platform --signing-key evidence.key \
    -o intoto=evidence.intoto.json -o oscal=assessment-results.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvidence(cmd.Context(), g, f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable); without it the live cluster is audited")
	fl.StringVar(&f.signingKey, "signing-key", "", "private key (PEM: ed25519 or ECDSA P-256) to sign the attestation")
	fl.StringArrayVarP(&f.outputs, "output", "o", []string{formatInToto}, "output format, intoto, oscal or legacy; FORMAT=PATH writes it to a file (repeatable; at most one to stdout)")
	fl.StringVar(&f.outputFile, "output-file", "-", "deprecated, use -o FORMAT=PATH: the file to write the one -o FORMAT to")
	fl.StringVar(&f.attestationFile, "attestation-file", "", "deprecated, use -o intoto=PATH beside -o oscal=PATH: with -o oscal, also write the attestation")
	_ = cmd.RegisterFlagCompletionFunc("output", outputCompletion([]string{formatInToto, formatOSCAL, formatLegacy}))
	fl.StringVar(&f.previous, "previous", "", "the previous attestation of the series, to link this one to it")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for the cluster's caches to sync")
	f.input.register(cmd)
	cmd.AddCommand(newEvidenceVerifyCommand())
	return cmd
}

// evidenceOutputs reads -o (FORMAT or FORMAT=PATH) and the deprecated --output-file
// and --attestation-file into the documents to write: at most one to stdout, no file
// twice, legacy alone.
func (f *evidenceFlags) evidenceOutputs() ([]output, error) {
	var outs []output
	stdout, paths := "", map[string]bool{}
	add := func(o output, flag string) error {
		switch {
		case o.path == "" && stdout != "":
			return fmt.Errorf("%s: %s and %s both go to stdout; write one to a file with -o FORMAT=PATH", flag, stdout, o.format)
		case o.path == "":
			stdout = o.format
		case paths[filepath.Clean(o.path)]:
			return fmt.Errorf("%s: %s is written twice", flag, o.path)
		default:
			paths[filepath.Clean(o.path)] = true
		}
		outs = append(outs, o)
		return nil
	}
	for _, v := range f.outputs {
		format, path, toFile := strings.Cut(v, "=")
		switch format {
		case formatInToto, formatOSCAL, formatLegacy:
		default:
			return nil, fmt.Errorf("-o/--output is the format, intoto, oscal or legacy, optionally =PATH, not %q; to write a file use -o intoto=%s", v, v)
		}
		if toFile && path == "" {
			return nil, fmt.Errorf("-o %s: the path after = is empty", v)
		}
		if !toFile && f.outputFile != "-" {
			path = f.outputFile // the deprecated form: -o FORMAT --output-file PATH
		}
		if path == "-" {
			path = "" // stdout
		}
		if err := add(output{format: format, path: path}, "-o "+v); err != nil {
			return nil, err
		}
	}
	has := func(format string) bool {
		return slices.ContainsFunc(outs, func(o output) bool { return o.format == format })
	}
	if f.attestationFile != "" {
		if !has(formatOSCAL) {
			return nil, errors.New("--attestation-file goes with -o oscal (with -o intoto the attestation is the output)")
		}
		if err := add(output{format: formatInToto, path: strings.TrimPrefix(f.attestationFile, "-")}, "--attestation-file"); err != nil {
			return nil, err
		}
	}
	if has(formatLegacy) && len(outs) > 1 {
		return nil, errors.New("-o legacy is written alone: it is not an attestation")
	}
	if has(formatLegacy) && f.previous != "" {
		return nil, errors.New("--previous needs -o intoto or oscal: legacy documents are not chained")
	}
	return outs, nil
}

func runEvidence(ctx context.Context, g *globalFlags, f *evidenceFlags, stdin io.Reader, out, errOut io.Writer) error {
	outputs, err := f.evidenceOutputs()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	legacy := outputs[0].format == formatLegacy
	if ctx == nil {
		ctx = context.Background()
	}
	a, err := newAudit(g, auditInput{files: f.files, input: f.input, timeout: f.timeout, keepSources: true}, errOut)
	if err != nil {
		return err
	}
	if f.outputFile != "-" {
		a.log.Warn("--output-file is deprecated and removed in the next release: use -o FORMAT=PATH")
	}
	if f.attestationFile != "" {
		a.log.Warn("--attestation-file is deprecated and removed in the next release: use -o intoto=PATH beside -o oscal=PATH")
	}
	var signer *evidence.Signer
	if f.signingKey != "" {
		if signer, err = evidence.LoadSigner(f.signingKey); err != nil {
			return &exitError{code: 2, err: err}
		}
		if legacy && signer.Legacy() == nil {
			return &exitError{code: 2, err: errors.New("-o legacy signs with ed25519 keys only")}
		}
	}
	if signer == nil {
		a.log.Warn("no --signing-key: the evidence is UNSIGNED; nothing shows who wrote it, and verify accepts it only with --insecure-digest-only")
	}
	previous := ""
	if f.previous != "" {
		if previous, err = previousDigest(ctx, f.previous, signer); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	if err := a.run(ctx, g, stdin); err != nil {
		return err
	}
	st := store.New()
	st.Apply(a.snap.Now, a.eval.Findings)
	in := evidence.Input{
		GeneratedAt: time.Now().UTC(), AuditorVersion: version.Get().Version,
		Evaluation: a.eval, Records: st.Open(), Rules: a.rules, Config: a.cfg, RuleChanges: a.ruleChanges,
	}
	if len(f.files) > 0 {
		in.Offline = true
		for _, s := range a.sources {
			in.SourceFiles = append(in.SourceFiles, evidence.SourceFile{Path: s.Name, SHA256: evidence.SHA256Hex(s.Data)})
		}
	}
	doc, err := evidence.Build(in)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	rendered := make([][]byte, len(outputs))
	if legacy {
		if signer != nil {
			err = evidence.Sign(doc, signer.Legacy())
		}
		if err == nil {
			rendered[0], err = evidence.Marshal(doc)
		}
	} else {
		err = attest(ctx, outputs, rendered, doc, evidence.SubjectsOf(in), previous, signer)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	for _, o := range outputs {
		if o.path != "" {
			if err := fileoutput.Check(o.path); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("-o %s: %w", o, err)}
			}
		}
	}
	for i, o := range outputs {
		if err := writeOutput(o.path, rendered[i], out); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("-o %s: %w", o, err)}
		}
	}
	return nil
}

// attest wraps the document in one signed attestation and renders each output from it:
// the envelope for intoto, the assessment results for oscal, which link to the intoto
// file written beside them, if any.
func attest(ctx context.Context, outputs []output, rendered [][]byte, doc *evidence.Document, subjects []evidence.Subject, previous string, signer *evidence.Signer) error {
	a, err := evidence.NewAttestation(doc, subjects, previous)
	if err != nil {
		return err
	}
	if err := a.Seal(ctx, signer); err != nil {
		return err
	}
	href := ""
	for _, o := range outputs {
		if o.format == formatInToto && o.path != "" {
			href = filepath.Base(o.path)
			break
		}
	}
	for i, o := range outputs {
		switch o.format {
		case formatInToto:
			rendered[i] = a.Envelope
		case formatOSCAL:
			if rendered[i], err = evidence.AssessmentResults(a, href); err != nil {
				return err
			}
		}
	}
	return nil
}

// previousDigest reads the previous attestation of a series; with a signing key, it
// must be signed by the same key.
func previousDigest(ctx context.Context, path string, signer *evidence.Signer) (string, error) {
	data, err := fileinput.ReadFile(path, maxEvidenceFile)
	if err != nil {
		return "", fmt.Errorf("--previous %s: %w", path, err)
	}
	var v *evidence.Verifier
	if signer != nil {
		if v, err = evidence.NewVerifier(signer.Public()); err != nil {
			return "", err
		}
	}
	a, err := evidence.VerifyEnvelope(ctx, data, v)
	if err != nil {
		return "", fmt.Errorf("--previous %s: %w", path, err)
	}
	return a.Digest, nil
}

func writeOutput(path string, b []byte, out io.Writer) error {
	if path == "" || path == "-" {
		_, err := out.Write(b)
		return err
	}
	return writeFileAtomic(path, b)
}

// writeFileAtomic writes b whole or not at all, with the umask's mode for a new file
// and the old mode for a replaced one (see fileoutput).
func writeFileAtomic(path string, b []byte) error { return fileoutput.WriteFile(path, b) }

// maxEvidenceFile bounds the document evidence verify reads (the documents the auditor
// writes are a few MiB at most).
const maxEvidenceFile = 64 << 20

func newEvidenceVerifyCommand() *cobra.Command {
	var publicKey, outputPayload string
	var insecure bool
	cmd := &cobra.Command{
		Use:   "verify PATH... (--public-key KEY | --insecure-digest-only)",
		Short: "Verify evidence files and the hash chain across them",
		Long: `verify checks each attestation's DSSE signature with --public-key (ed25519 or ECDSA
P-256, PEM) and that it carries an in-toto statement of enforcement-auditor evidence. A
directory stands for the evidence-*.json files in it. Across the attestations given, in
file-name order, it checks the hash chain: each document names the digest of the one before,
so a document removed from the middle, replaced or reordered is an error naming the
documents.

--insecure-digest-only skips the signature: anyone can write a document that passes it.

--output-payload FILE (- for stdout, the status lines then go to stderr) writes the
statement of the one attestation given, exactly the bytes the signature covers, once it
verifies: read the statement from there, never from the envelope's "payload" yourself.
Envelopes are decoded strictly (a key given twice, keys differing only in case, unknown
keys and anything but padded standard base64 fail), so no other reader can see another
statement in a file that verifies.

Documents in the deprecated legacy format are verified as before (canonical form, digest,
ed25519 signature) and are not part of the chain.

OSCAL assessment results carry no signature: verify the attestation they link to.

Exit status: 0 when every file verifies and the chain holds, 1 when not, 2 on usage errors.`,
		Example: `  enforcement-auditor evidence verify evidence.intoto.json --public-key evidence.pub
  enforcement-auditor evidence verify evidence/ --public-key evidence.pub   # a series: the chain
  enforcement-auditor evidence verify evidence.intoto.json --public-key evidence.pub \
    --output-payload statement.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			status := cmd.OutOrStdout()
			if outputPayload == "-" {
				status = cmd.ErrOrStderr()
			}
			return runVerify(cmd.Context(), args, publicKey, insecure, outputPayload, cmd.OutOrStdout(), status)
		},
	}
	cmd.Flags().StringVar(&outputPayload, "output-payload", "", "write the verified statement of the one attestation given to FILE (- for stdout)")
	cmd.Flags().StringVar(&publicKey, "public-key", "", "public key (PEM, PKIX) the documents must be signed with")
	cmd.Flags().BoolVar(&insecure, "insecure-digest-only", false, "check digests and the chain without a key (proves nothing about who wrote the documents)")
	return cmd
}

func runVerify(ctx context.Context, args []string, publicKey string, insecure bool, outputPayload string, stdout, out io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if (publicKey == "") == !insecure {
		return &exitError{code: 2, err: errors.New("verify needs --public-key KEY (or --insecure-digest-only, which does not check who wrote the documents)")}
	}
	var v *evidence.Verifier
	if publicKey != "" {
		var err error
		if v, err = evidence.LoadVerifier(publicKey); err != nil {
			return &exitError{code: 2, err: err}
		}
	}
	files, err := evidenceFiles(args)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if outputPayload != "" && len(files) != 1 {
		return &exitError{code: 2, err: fmt.Errorf("--output-payload writes the statement of one attestation; %d files given", len(files))}
	}
	// Every document must be a readable regular file within the size bound before any
	// is judged: a device or a FIFO is bad input (exit 2), not a failed verification.
	docs := make([][]byte, len(files))
	for i, path := range files {
		if docs[i], err = fileinput.ReadFile(path, maxEvidenceFile); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: %w", path, err)}
		}
	}
	var links []evidence.Link
	failed := 0
	for i, path := range files {
		line, link, err := verifyFile(ctx, path, docs[i], v)
		if err != nil {
			failed++
			fmt.Fprintf(out, "%s: verification FAILED: %v\n", path, err)
			continue
		}
		if link != nil {
			links = append(links, *link)
		}
		fmt.Fprintf(out, "%s: OK (%s)\n", path, line)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d documents failed verification", failed, len(files))}
	}
	if len(links) > 1 {
		if err := evidence.CheckChain(links); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("chain: verification FAILED: %w", err)}
		}
		fmt.Fprintf(out, "chain: OK (%d documents, each linked to the one before)\n", len(links))
	}
	if outputPayload != "" {
		return writeVerifiedPayload(outputPayload, files[0], links, stdout)
	}
	return nil
}

// writeVerifiedPayload writes the statement of the one attestation verified.
func writeVerifiedPayload(path, doc string, links []evidence.Link, stdout io.Writer) error {
	if len(links) != 1 {
		return &exitError{code: 2, err: fmt.Errorf("--output-payload: %s is a legacy document, which has no statement (the document is what was signed)", doc)}
	}
	if err := writeOutput(path, links[0].Attestation.Payload, stdout); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--output-payload: %w", err)}
	}
	return nil
}

// evidenceFiles expands directories to the evidence files in them, in name order.
func evidenceFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range entries {
			if !e.IsDir() && strings.HasPrefix(e.Name(), "evidence-") && strings.HasSuffix(e.Name(), ".json") {
				files = append(files, filepath.Join(a, e.Name()))
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: no evidence-*.json file", a)
		}
	}
	return files, nil
}

func verifyFile(ctx context.Context, path string, data []byte, v *evidence.Verifier) (string, *evidence.Link, error) {
	if msg, ok := oscalDocument(data); ok {
		return "", nil, errors.New(msg)
	}
	if !evidence.IsEnvelope(data) {
		var pub ed25519.PublicKey
		if v != nil {
			if pub = v.Legacy(); pub == nil {
				return "", nil, errors.New("a legacy document can only be signed with an ed25519 key")
			}
		}
		doc, err := evidence.VerifyDocument(data, pub)
		if err != nil {
			return "", nil, err
		}
		what := "legacy document (deprecated), digest and ed25519 signature verified"
		if pub == nil {
			what = "legacy document (deprecated), INSECURE: digest only, signature not checked"
		}
		return fmt.Sprintf("%s; %s, generated %s", what, doc.Digest, doc.GeneratedAt.Format(time.RFC3339)), nil, nil
	}
	a, err := evidence.VerifyEnvelope(ctx, data, v)
	if err != nil {
		return "", nil, err
	}
	what := "in-toto attestation, INSECURE: signature not checked"
	if !a.Signed {
		what = "in-toto attestation, UNSIGNED: no signature, INSECURE: nothing shows who wrote it"
	}
	if v != nil {
		what = "in-toto attestation, signature verified with key " + v.ID
	}
	p := a.Statement.Predicate
	return fmt.Sprintf("%s; %s, generated %s", what, a.Digest, p.GeneratedAt.Format(time.RFC3339)),
		&evidence.Link{Name: path, Attestation: a}, nil
}

// oscalDocument recognises OSCAL assessment results, which carry no signature of their
// own, and says what to verify instead: the attestation they link to.
func oscalDocument(data []byte) (string, bool) {
	var doc struct {
		AR *struct {
			BackMatter struct {
				Resources []struct {
					Rlinks []struct {
						Href string `json:"href"`
					} `json:"rlinks"`
				} `json:"resources"`
			} `json:"back-matter"`
		} `json:"assessment-results"`
	}
	if json.Unmarshal(data, &doc) != nil || doc.AR == nil {
		return "", false
	}
	link := "the attestation written with it (-o intoto=PATH)"
	for _, r := range doc.AR.BackMatter.Resources {
		for _, l := range r.Rlinks {
			if l.Href != "" {
				link = l.Href
			}
		}
	}
	return fmt.Sprintf("OSCAL assessment results carry no signature of their own: verify the in-toto attestation they reference (%s), "+
		"and check that file against the SHA-256 in their back-matter (sha256sum)", link), true
}
