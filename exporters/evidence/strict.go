package evidence

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	kjson "sigs.k8s.io/json"
)

// maxStrictDepth bounds the nesting strictJSON walks (the documents this package
// writes nest about ten deep).
const maxStrictDepth = 64

// decodeStrict decodes data, one JSON value, into v so that every reader reads it the
// same way: a key given twice in one object, two keys of one object that differ only
// in case (encoding/json would match either to the same field, and keep the last),
// a key v has no field for and data after the value are errors. jq, Python and the
// verifiers of other tools then see exactly what this package decoded.
func decodeStrict(data []byte, v any) error {
	if err := strictJSON(data); err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(data, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// strictJSON checks that data is one JSON value in which no object has two keys
// that are equal, or equal but for case (Unicode simple folding, as encoding/json
// matches), naming the object's path.
func strictJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := strictValue(dec, "$", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func strictValue(dec *json.Decoder, path string, depth int) error {
	if depth > maxStrictDepth {
		return fmt.Errorf("%s: nested deeper than %d", path, maxStrictDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]string{} // folded key -> key as written
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			k := kt.(string)
			fk := foldKey(k)
			if prev, ok := seen[fk]; ok {
				if prev == k {
					return fmt.Errorf("%s: key %q given twice", path, k)
				}
				return fmt.Errorf("%s: keys %q and %q differ only in case", path, prev, k)
			}
			seen[fk] = k
			if err := strictValue(dec, path+"."+strconv.Quote(k), depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := strictValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// foldKey maps keys that encoding/json would match to the same field (bytes.EqualFold:
// Unicode simple folding, the Kelvin sign matching k) to one string: each rune becomes
// the smallest rune of its folding orbit.
func foldKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// decodeStdBase64 decodes padded standard base64 (RFC 4648 section 4) and nothing
// else: no URL-safe alphabet, no missing padding, no line breaks, no non-zero padding
// bits; each byte string has exactly one accepted encoding.
func decodeStdBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not standard base64 (RFC 4648 section 4, padded; the URL-safe alphabet is refused)")
	}
	return b, nil
}
