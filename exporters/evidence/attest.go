package evidence

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The attestation format: an in-toto Statement v1 in a DSSE envelope, the format
// cosign, in-toto and SLSA tools read.
const (
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateType names the predicate: a ComplianceEvidence document plus the chain link.
	PredicateType = "https://enforcement-auditor.llm-platform.io/ComplianceEvidence/v1"
)

// Attestation errors; VerifyEnvelope wraps them with detail.
var (
	ErrNotEnvelope     = errors.New("not a DSSE envelope of an in-toto statement")
	ErrNoKey           = errors.New("a public key is required to verify the signature")
	ErrEnvelopeBadSign = errors.New("no signature verifies with the key")
)

// Subject is one thing that was assessed: a manifest file as read, or the cluster's
// object identities.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is the assessment: the evidence document (without its legacy digest and
// signature) plus Previous, the digest of the previous statement of the series, so
// that the series is a hash chain ("" for the first).
type Predicate struct {
	Document
	Previous string `json:"previous"`
	// Signing is Unsigned in a statement sealed without a key, so that whoever reads it
	// (jq, OSCAL, verify) sees it; absent in a signed one.
	Signing string `json:"signing,omitempty"`
}

// Unsigned is Predicate.Signing of a statement sealed without a signing key.
const Unsigned = "UNSIGNED"

// Statement is an in-toto Statement v1 carrying a Predicate.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Attestation is a statement, its serialized form and its digest.
type Attestation struct {
	Statement Statement
	// Payload is the canonical JSON of Statement: the bytes the DSSE signature covers.
	Payload []byte
	// Digest is "sha256:<hex>" of Payload; the next document's Predicate.Previous.
	Digest string
	// Envelope is the DSSE envelope as written (after Seal).
	Envelope []byte
	// Signed is whether the envelope carries a signature (after Seal or VerifyEnvelope).
	Signed bool
}

// FileSubjects are the subjects of a manifest scan: each input's SHA-256 over the
// bytes that were decoded.
func FileSubjects(files []SourceFile) []Subject {
	out := make([]Subject, 0, len(files))
	for _, f := range files {
		out = append(out, Subject{Name: f.Path, Digest: map[string]string{"sha256": f.SHA256}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SnapshotSubject is the subject of a live run: a SHA-256 over the sorted identities
// (apiVersion, kind, namespace, name, uid, resourceVersion) of every object of the
// resources the rules read. Owners carry no resourceVersion in the snapshot.
func SnapshotSubject(clusterID string, rules []auditor.Rule, s *auditor.Snapshot) Subject {
	idx := newObjectIndex(s)
	seen := map[string]bool{}
	var lines []string
	for _, r := range rules {
		for _, in := range r.Meta().Inputs {
			if seen[in] {
				continue
			}
			seen[in] = true
			for _, o := range idx.of(in) {
				lines = append(lines, strings.Join([]string{o.ref.APIVersion, o.ref.Kind, o.ref.Namespace, o.ref.Name, o.uid, o.rv}, "\t"))
			}
		}
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return Subject{Name: "kubernetes-cluster/" + clusterID, Digest: map[string]string{"sha256": fmt.Sprintf("%x", h.Sum(nil))}}
}

// NewAttestation wraps a built document in a statement linked to previous.
func NewAttestation(doc *Document, subjects []Subject, previous string) (*Attestation, error) {
	d := *doc
	d.Digest, d.Signature = "", nil
	st := Statement{Type: intoto.StatementTypeUri, Subject: subjects, PredicateType: PredicateType,
		Predicate: Predicate{Document: d, Previous: previous}}
	payload, err := Canonical(st)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if err := validateStatement(payload); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return &Attestation{Statement: st, Payload: payload, Digest: digestPrefix + SHA256Hex(payload)}, nil
}

// validateStatement checks the payload with the in-toto attestation bindings.
func validateStatement(payload []byte) error {
	var st intoto.Statement
	if err := protojson.Unmarshal(payload, &st); err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("in-toto statement: %w", err)
	}
	return nil
}

// Seal signs the payload with signer (none: an unsigned envelope, verifiable only with
// --insecure-digest-only) and sets Envelope to its JSON, indented, with a final newline.
func (a *Attestation) Seal(ctx context.Context, signer *Signer) error {
	mark := ""
	if signer == nil {
		mark = Unsigned
	}
	if a.Statement.Predicate.Signing != mark {
		// The statement says whether it is signed: it changes, and with it the digest.
		a.Statement.Predicate.Signing = mark
		payload, err := Canonical(a.Statement)
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if err := validateStatement(payload); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		a.Payload, a.Digest = payload, digestPrefix+SHA256Hex(payload)
	}
	a.Signed = signer != nil
	env := &dsse.Envelope{PayloadType: PayloadType, Payload: b64(a.Payload), Signatures: []dsse.Signature{}}
	if signer != nil {
		es, err := dsse.NewEnvelopeSigner(signer)
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		if env, err = es.SignPayload(ctx, PayloadType, a.Payload); err != nil {
			return fmt.Errorf("evidence: signing: %w", err)
		}
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	a.Envelope = append(b, '\n')
	return nil
}

// VerifyEnvelope parses a DSSE envelope, checks its signature with v (nil: no signature
// check, the digest only, for --insecure-digest-only) and returns the statement it
// carries after checking it is an in-toto statement of this predicate type.
func VerifyEnvelope(ctx context.Context, data []byte, v *Verifier) (*Attestation, error) {
	// Strict and case-sensitive: an envelope with a forged "payload" beside the signed
	// "PAYLOAD" would otherwise verify here while jq and Python read the forged one.
	var env dsse.Envelope
	if err := decodeStrict(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%w: payloadType %q", ErrNotEnvelope, env.PayloadType)
	}
	payload, err := decodeStdBase64(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrNotEnvelope, err)
	}
	for i, s := range env.Signatures {
		if _, err := decodeStdBase64(s.Sig); err != nil {
			return nil, fmt.Errorf("%w: signatures[%d].sig: %v", ErrNotEnvelope, i, err)
		}
	}
	if v != nil {
		ev, err := dsse.NewEnvelopeVerifier(v)
		if err != nil {
			return nil, err
		}
		if _, err := ev.Verify(ctx, &env); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrEnvelopeBadSign, err)
		}
	}
	var st Statement
	if err := decodeStrict(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: statement: %v", ErrNotEnvelope, err)
	}
	if err := validateStatement(payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEnvelope, err)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("%w: predicateType %q, want %q", ErrNotEnvelope, st.PredicateType, PredicateType)
	}
	return &Attestation{Statement: st, Payload: payload, Digest: digestPrefix + SHA256Hex(payload), Envelope: data,
		Signed: len(env.Signatures) > 0}, nil
}

// Signer signs DSSE envelopes with an ed25519 or ECDSA P-256 key (SHA-256, ASN.1
// signatures, as cosign writes them).
type Signer struct {
	key crypto.Signer
}

// LoadSigner reads a private key in PEM: PKCS#8 ("PRIVATE KEY", from `openssl genpkey
// -algorithm ed25519` or `-algorithm EC -pkeyopt ec_paramgen_curve:P-256`) or SEC1
// ("EC PRIVATE KEY", from `openssl ecparam -genkey -name prime256v1`).
func LoadSigner(path string) (*Signer, error) {
	block, err := readPEM(path, true, "PRIVATE KEY", "EC PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	var k any
	if block.Type == "EC PRIVATE KEY" {
		k, err = x509.ParseECPrivateKey(block.Bytes)
	} else {
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not a signing key", path, k)
	}
	if _, err := checkPublic(s.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Signer{key: s}, nil
}

// NewSigner wraps an ed25519 or ECDSA P-256 private key.
func NewSigner(k crypto.Signer) (*Signer, error) {
	if _, err := checkPublic(k.Public()); err != nil {
		return nil, err
	}
	return &Signer{key: k}, nil
}

func checkPublic(pub crypto.PublicKey) (string, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		return "ed25519", nil
	case *ecdsa.PublicKey:
		if p.Curve == elliptic.P256() {
			return "ecdsa-p256", nil
		}
	}
	return "", fmt.Errorf("a %T key: want ed25519 or ECDSA P-256", pub)
}

// Sign implements dsse.Signer over the PAE bytes.
func (s *Signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		return s.key.Sign(rand.Reader, data, crypto.Hash(0))
	}
	sum := sha256.Sum256(data)
	return s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
}

// KeyID is empty: the envelope names no key, as cosign's do; the verifier brings it.
func (s *Signer) KeyID() (string, error) { return "", nil }

// Public is the public key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Legacy returns the ed25519 key for the deprecated document signature, or nil.
func (s *Signer) Legacy() ed25519.PrivateKey {
	k, _ := s.key.(ed25519.PrivateKey)
	return k
}

// Verifier checks DSSE signatures with an ed25519 or ECDSA P-256 public key.
type Verifier struct {
	pub crypto.PublicKey
	// ID is "sha256:<hex>" of the key's PKIX DER encoding.
	ID string
}

// LoadVerifier reads a public key in PEM PKIX (`openssl pkey -in key.pem -pubout`).
func LoadVerifier(path string) (*Verifier, error) {
	k, err := readPublicKey(path)
	if err != nil {
		return nil, err
	}
	v, err := NewVerifier(k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// NewVerifier wraps an ed25519 or ECDSA P-256 public key.
func NewVerifier(pub crypto.PublicKey) (*Verifier, error) {
	if _, err := checkPublic(pub); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return &Verifier{pub: pub, ID: digestPrefix + SHA256Hex(der)}, nil
}

// Verify implements dsse.Verifier.
func (v *Verifier) Verify(_ context.Context, data, sig []byte) error {
	switch p := v.pub.(type) {
	case ed25519.PublicKey:
		if ed25519.Verify(p, data, sig) {
			return nil
		}
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(data)
		if ecdsa.VerifyASN1(p, sum[:], sig) {
			return nil
		}
	}
	return ErrSignatureInvalid
}

// KeyID is empty: envelopes name no key (see Signer.KeyID).
func (v *Verifier) KeyID() (string, error) { return "", nil }

// Public is the public key.
func (v *Verifier) Public() crypto.PublicKey { return v.pub }

// Legacy returns the ed25519 key for deprecated documents, or nil.
func (v *Verifier) Legacy() ed25519.PublicKey {
	k, _ := v.pub.(ed25519.PublicKey)
	return k
}

// IsEnvelope tells a DSSE envelope from a legacy document: a JSON object with a
// "payloadType" key, spelled so (VerifyEnvelope then refuses any other spelling).
func IsEnvelope(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil {
		return false
	}
	for k := range probe {
		if foldKey(k) == foldKey("payloadType") {
			return true
		}
	}
	return false
}

// SubjectsOf are the subjects of a document built from in: the manifest files of an
// offline scan, else the snapshot's object identities.
func SubjectsOf(in Input) []Subject {
	if in.Offline {
		return FileSubjects(in.SourceFiles)
	}
	s := in.Evaluation.Snapshot
	return []Subject{SnapshotSubject(clusterOf(in, s).ID, in.Rules, s)}
}
