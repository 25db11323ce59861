package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
)

// AlgorithmEd25519 is Signature.Algorithm.
const AlgorithmEd25519 = "ed25519"

const digestPrefix = "sha256:"

// Verification errors; Verify wraps them with detail.
var (
	ErrNotCanonical     = errors.New("document is not in canonical form (edited after it was written?)")
	ErrDigestMismatch   = errors.New("digest does not match the document")
	ErrNotSigned        = errors.New("document is not signed")
	ErrSignatureInvalid = errors.New("signature is invalid")
	ErrWrongKey         = errors.New("document was signed with another key")
)

// Payload returns the bytes the digest and the signature cover: the canonical JSON of
// the document without its digest and signature fields.
func Payload(doc *Document) ([]byte, error) {
	c := *doc
	c.Digest = ""
	c.Signature = nil
	return Canonical(&c)
}

// Seal sets the digest. Build seals; call it again after changing a document.
func Seal(doc *Document) error {
	p, err := Payload(doc)
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	doc.Digest = digestPrefix + SHA256Hex(p)
	return nil
}

// Sign seals the document and signs its payload with an ed25519 key.
func Sign(doc *Document, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("evidence: not an ed25519 private key")
	}
	if err := Seal(doc); err != nil {
		return err
	}
	p, err := Payload(doc)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	id, err := KeyID(pub)
	if err != nil {
		return err
	}
	doc.Signature = &Signature{
		Algorithm: AlgorithmEd25519,
		KeyID:     id,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
		Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(key, p)),
	}
	return nil
}

// KeyID is "sha256:<hex>" of the key's PKIX DER encoding.
func KeyID(pub ed25519.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return digestPrefix + SHA256Hex(der), nil
}

// Marshal returns the document as written to files and served over HTTP: its
// canonical JSON indented by two spaces, plus a final newline. Verify accepts this
// form and the compact canonical form, nothing else.
func Marshal(doc *Document) ([]byte, error) {
	c, err := Canonical(doc)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, c, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// decodeTree parses one JSON value, numbers kept as written.
func decodeTree(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return tree, nil
}

// Verify checks a written document: it must be byte for byte the canonical (compact or
// Marshal-indented) form of what it contains, its digest must match, and a signature,
// when present, must verify. With pub, the document must be signed by that key; with
// nil, an unsigned document passes on its digest alone and a signed one is checked
// against the public key it carries (integrity, not authenticity).
func Verify(data []byte, pub ed25519.PublicKey) error {
	_, err := VerifyDocument(data, pub)
	return err
}

// VerifyDocument is Verify returning the verified document.
func VerifyDocument(data []byte, pub ed25519.PublicKey) (*Document, error) {
	// Byte-exact form first: it is the cheap check that rejects most changes.
	tree, err := decodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCanonical, err)
	}
	var cb bytes.Buffer
	if err := writeCanonical(&cb, tree); err != nil {
		return nil, err
	}
	canon := cb.Bytes()
	body := bytes.TrimSuffix(data, []byte("\n"))
	if !bytes.Equal(body, canon) {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, canon, "", "  "); err != nil {
			return nil, err
		}
		if !bytes.Equal(body, pretty.Bytes()) {
			return nil, ErrNotCanonical
		}
	}
	// Then the schema: exactly the fields of a Document, each in the form Build writes.
	var doc Document
	if err := decodeStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCanonical, err)
	}
	if re, err := Canonical(&doc); err != nil || !bytes.Equal(re, canon) {
		return nil, fmt.Errorf("%w: not a %s document as this auditor writes it", ErrNotCanonical, Kind)
	}
	payload, err := Payload(&doc)
	if err != nil {
		return nil, err
	}
	if want := digestPrefix + SHA256Hex(payload); doc.Digest != want {
		return nil, fmt.Errorf("%w: document says %q, content hashes to %q", ErrDigestMismatch, doc.Digest, want)
	}
	sig := doc.Signature
	if sig == nil {
		if pub != nil {
			return nil, ErrNotSigned
		}
		return &doc, nil
	}
	if sig.Algorithm != AlgorithmEd25519 {
		return nil, fmt.Errorf("%w: algorithm %q, want %q", ErrSignatureInvalid, sig.Algorithm, AlgorithmEd25519)
	}
	embedded, err := decodeExact(sig.PublicKey, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: publicKey: %v", ErrSignatureInvalid, err)
	}
	id, err := KeyID(embedded)
	if err != nil || id != sig.KeyID {
		return nil, fmt.Errorf("%w: keyId does not match the public key", ErrSignatureInvalid)
	}
	value, err := decodeExact(sig.Value, ed25519.SignatureSize)
	if err != nil {
		return nil, fmt.Errorf("%w: value: %v", ErrSignatureInvalid, err)
	}
	key := ed25519.PublicKey(embedded)
	if pub != nil {
		if !bytes.Equal(pub, embedded) {
			want, _ := KeyID(pub)
			return nil, fmt.Errorf("%w: signed by %s, expected %s", ErrWrongKey, sig.KeyID, want)
		}
		key = pub
	}
	if !ed25519.Verify(key, payload, value) {
		return nil, ErrSignatureInvalid
	}
	return &doc, nil
}

// decodeExact decodes standard base64 and insists on the one encoding of the bytes:
// a decoder that ignores padding bits would let a changed character verify.
func decodeExact(s string, size int) ([]byte, error) {
	b, err := decodeStdBase64(s)
	if err != nil {
		return nil, err
	}
	if len(b) != size {
		return nil, fmt.Errorf("want %d bytes in canonical base64", size)
	}
	return b, nil
}

// LoadPrivateKey reads an ed25519 private key in PEM PKCS#8, as written by
// `openssl genpkey -algorithm ed25519 -out key.pem`.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	block, err := readPEM(path, true, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an ed25519 key", path, k)
	}
	return ek, nil
}

// LoadPublicKey reads an ed25519 public key in PEM PKIX, as written by
// `openssl pkey -in key.pem -pubout -out pub.pem`.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	k, err := readPublicKey(path)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T, not an ed25519 key", path, k)
	}
	return ek, nil
}

// readPublicKey reads a public key of any algorithm in PEM PKIX; the callers say which
// ones they accept.
func readPublicKey(path string) (any, error) {
	block, err := readPEM(path, false, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// maxKeyFile bounds a key file: an ed25519 key in PEM is about 120 bytes.
const maxKeyFile = 64 << 10

// ErrKeyWritable is wrapped by the error for a private key file others may write.
var ErrKeyWritable = errors.New("group- or world-writable")

// readPEM reads the first PEM block of path, which must be one of types. A private
// key must not be writable by group or others: whoever can replace the key signs
// evidence in the platform's name.
func readPEM(path string, private bool, types ...string) (*pem.Block, error) {
	b, st, err := fileinput.ReadFileStat(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m := st.Mode().Perm(); private && m&0o022 != 0 {
		return nil, fmt.Errorf("%s: mode %04o is %w: anyone who can write the signing key can sign in its name (chmod go-w %s)", path, m, ErrKeyWritable, path)
	}
	block, rest := pem.Decode(b)
	if block != nil && block.Type == "EC PARAMETERS" {
		block, _ = pem.Decode(rest) // `openssl ecparam -genkey` writes the curve first
	}
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if !slices.Contains(types, block.Type) {
		typ := strings.Join(types, `" or "`)
		hint := ""
		if strings.Contains(block.Type, "ENCRYPTED") {
			hint = " (encrypted keys are not supported: mount the key from a Secret instead)"
		}
		return nil, fmt.Errorf("%s: PEM block %q, want \"%s\"%s", path, block.Type, typ, hint)
	}
	return block, nil
}
