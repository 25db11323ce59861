package evidence

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envelopeFields returns the three members of a sealed envelope as raw JSON.
func envelopeFields(t *testing.T, envelope []byte) (payloadType, payload, signatures string) {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(envelope, &m))
	return string(m["payloadType"]), string(m["payload"]), string(m["signatures"])
}

// forgedStatement is a's statement with every control enforced and no finding:
// what a forger wants an auditor to read.
func forgedStatement(t *testing.T, a *Attestation) []byte {
	t.Helper()
	st := a.Statement
	st.Predicate.Findings = nil
	st.Predicate.Controls = append([]Control(nil), st.Predicate.Controls...)
	for i := range st.Predicate.Controls {
		st.Predicate.Controls[i].Status = "enforced"
	}
	b, err := Canonical(st)
	require.NoError(t, err)
	return b
}

// signRaw signs payload as this package's Seal does, for statements Seal would
// never write.
func signRaw(t *testing.T, payload []byte) []byte {
	t.Helper()
	signer, err := LoadSigner("testdata/test-signing-key.pem")
	require.NoError(t, err)
	es, err := dsse.NewEnvelopeSigner(signer)
	require.NoError(t, err)
	env, err := es.SignPayload(context.Background(), PayloadType, payload)
	require.NoError(t, err)
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func TestVerifyEnvelopeReadsOneWayOnly(t *testing.T) {
	a := sealed(t, "testdata/test-signing-key.pem", fixture(), "")
	v, err := LoadVerifier("testdata/test-signing-key.pub.pem")
	require.NoError(t, err)
	typ, payload, sigs := envelopeFields(t, a.Envelope)
	forged := `"` + base64.StdEncoding.EncodeToString(forgedStatement(t, a)) + `"`
	var sig string
	require.NoError(t, json.Unmarshal([]byte(sigs), &[]*struct {
		Sig *string `json:"sig"`
	}{{Sig: &sig}}))

	// A signed statement whose base64 has a "/" (six '?' hold an aligned "???", "Pz8/")
	// and needs padding.
	odd := strings.Replace(string(a.Payload), `"migration PLAT-7"`, `"migration PLAT-7 ??????"`, 1)
	for len(odd)%3 == 0 {
		odd += " "
	}
	oddEnv := signRaw(t, []byte(odd))
	_, err = VerifyEnvelope(context.Background(), oddEnv, v)
	require.NoError(t, err, "the statement itself is valid")
	_, _, oddSigs := envelopeFields(t, oddEnv)
	urlSafe := base64.URLEncoding.EncodeToString([]byte(odd))
	require.Contains(t, urlSafe, "_")

	// A signature whose URL-safe form differs: the real one unless its base64 happens to
	// hold no "+" or "/" (it depends on every byte of the statement, the configuration's
	// digest included); then one of the same length that does.
	slashSig := sig
	if !strings.ContainsAny(slashSig, "+/") {
		slashSig = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 64))
	}

	cases := map[string]struct{ envelope, want string }{
		// encoding/json matches keys case-insensitively and keeps the last: this one
		// verified while jq and Python read the forged statement.
		"forged payload, then the signed one in upper case": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%s,"PAYLOAD":%s,"signatures":%s}`, typ, forged, payload, sigs),
			`keys "payload" and "PAYLOAD" differ only in case`},
		"signed payload in mixed case only": {
			fmt.Sprintf(`{"payloadType":%s,"Payload":%s,"signatures":%s}`, typ, payload, sigs),
			`unknown field "Payload"`},
		"payload twice": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%s,"payload":%s,"signatures":%s}`, typ, forged, payload, sigs),
			`key "payload" given twice`},
		"payload type in another case": {
			fmt.Sprintf(`{"payloadType":%s,"PayloadType":%s,"payload":%s,"signatures":%s}`, typ, typ, payload, sigs),
			`differ only in case`},
		"Kelvin sign in a nested key": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%s,"signatures":[{"keyid":"","sig":%q,"\u212aeyid":"x"}]}`, typ, payload, sig),
			"$.\"signatures\"[0]: keys \"keyid\" and \"\u212aeyid\" differ only in case"},
		"sig twice in a signature": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%s,"signatures":[{"keyid":"","sig":"AAAA","sig":%q}]}`, typ, payload, sig),
			`$."signatures"[0]: key "sig" given twice`},
		"URL-safe base64 payload": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%q,"signatures":%s}`, typ, urlSafe, oddSigs),
			"payload: not standard base64"},
		"unpadded base64 payload": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%q,"signatures":%s}`, typ, base64.RawStdEncoding.EncodeToString([]byte(odd)), oddSigs),
			"payload: not standard base64"},
		"URL-safe base64 signature": {
			fmt.Sprintf(`{"payloadType":%s,"payload":%s,"signatures":[{"keyid":"","sig":%q}]}`, typ, payload, strings.NewReplacer("+", "-", "/", "_").Replace(slashSig)),
			"signatures[0].sig: not standard base64"},
		"data after the envelope": {string(a.Envelope) + "{}", "data after the JSON value"},
		// Signed by the real key, but a statement two readers read two ways.
		"signed statement with a case-variant key": {
			string(signRaw(t, []byte(strings.Replace(string(a.Payload), `{"_type"`, `{"PredicateType":"x","_type"`, 1)))),
			`statement: $: keys "PredicateType" and "predicateType" differ only in case`},
		"signed statement with a duplicate nested key": {
			string(signRaw(t, []byte(strings.Replace(string(a.Payload), `"previous":""`, `"previous":"sha256:00","previous":""`, 1)))),
			`key "previous" given twice`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, key := range []*Verifier{v, nil} {
				_, err := VerifyEnvelope(context.Background(), []byte(c.envelope), key)
				require.ErrorIs(t, err, ErrNotEnvelope)
				assert.Contains(t, err.Error(), c.want)
			}
		})
	}

	t.Run("the forged envelope is what jq reads", func(t *testing.T) {
		jq, err := exec.LookPath("jq")
		if err != nil {
			t.Skip("no jq")
		}
		env := fmt.Sprintf(`{"payloadType":%s,"payload":%s,"PAYLOAD":%s,"signatures":%s}`, typ, forged, payload, sigs)
		cmd := exec.Command(jq, "-r", ".payload")
		cmd.Stdin = strings.NewReader(env)
		out, err := cmd.Output()
		require.NoError(t, err)
		assert.Equal(t, strings.Trim(forged, `"`), strings.TrimSpace(string(out)), "the case test above is the attack")
	})

	got, err := VerifyEnvelope(context.Background(), a.Envelope, v)
	require.NoError(t, err, "the envelope as sealed verifies")
	assert.Equal(t, a.Payload, got.Payload)
}

func TestStrictJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,"b":{"c":[{"d":1,"e":2}]}}`: "",
		`{"a":1,"A":2}`:                     `$: keys "a" and "A" differ only in case`,
		`{"a":{"x":[{"k":1,"k":2}]}}`:       `$."a"."x"[0]: key "k" given twice`,
		`{"ſ":1,"s":2}`:                     `differ only in case`,
		`{"a":1} {"a":1}`:                   "data after the JSON value",
		`{"a":`:                             "$.\"a\": ",
		strings.Repeat("[", 100) + strings.Repeat("]", 100): "nested deeper than 64",
	} {
		err := strictJSON([]byte(in))
		if want == "" {
			assert.NoError(t, err, in)
		} else if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want, in)
		}
	}
}
