package manifests

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// yamlToJSON is sigs.k8s.io/yaml.YAMLToJSON without its intermediate copy: the document
// is parsed by the same parser into the same generic values (go.yaml.in/yaml/v2, YAML
// 1.1), which are then written as JSON directly instead of being copied into a
// map[string]any and handed to json.Marshal's reflection. The JSON decodes to the same
// values as YAMLToJSON's (FuzzYAMLToJSON); only the order of object keys may differ,
// which no decoder of it reads. A mapping with a key that is not a string (`1: a`,
// `true: b`) goes through YAMLToJSON itself, whose rules for such keys (and for two keys
// that become one string) are the reference.
//
// When the document is a mapping, top is its head (apiVersion, kind, and the JSON of
// metadata and items), so the caller need not scan the JSON again to identify it.
func yamlToJSON(b []byte) (j []byte, top *head, err error) {
	j, top, err = writeYAMLAsJSON(b)
	if err == errNonStringKey {
		j, err = yaml.YAMLToJSON(b)
		return j, nil, err
	}
	return j, top, err
}

// writeYAMLAsJSON is yamlToJSON but for documents with a key that is not a string,
// for which it returns errNonStringKey.
func writeYAMLAsJSON(b []byte) (j []byte, top *head, err error) {
	var v any
	if err := yamlv2.Unmarshal(b, &v); err != nil {
		return nil, nil, err
	}
	w := jsonWriter{b: make([]byte, 0, len(b)+len(b)/4+16)}
	m, isMap := v.(map[any]any)
	if !isMap {
		err = w.value(v)
	} else {
		top = &head{}
		err = w.object(m, top)
	}
	if err != nil {
		return nil, nil, err
	}
	if top != nil {
		if w.meta[1] > 0 {
			top.Metadata = w.b[w.meta[0]:w.meta[1]:w.meta[1]]
		}
		if w.items[1] > 0 {
			top.Items = w.b[w.items[0]:w.items[1]:w.items[1]]
		}
	}
	return w.b, top, nil
}

type jsonWriter struct {
	b []byte
	// meta and items are the offsets in b of the top-level metadata and items values.
	meta, items [2]int
}

// errNonStringKey sends a document to sigs.k8s.io/yaml.YAMLToJSON.
var errNonStringKey = errNonString{}

type errNonString struct{}

func (errNonString) Error() string { return "mapping key that is not a string" }

// value writes one generic value as json.Marshal would (floats and strings that need
// escaping through json.Marshal itself, so the bytes are its bytes).
func (w *jsonWriter) value(v any) error {
	switch x := v.(type) {
	case nil:
		w.b = append(w.b, "null"...)
	case string:
		return w.str(x)
	case bool:
		w.b = strconv.AppendBool(w.b, x)
	case int:
		w.b = strconv.AppendInt(w.b, int64(x), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, x, 10)
	case uint64:
		w.b = strconv.AppendUint(w.b, x, 10)
	case []any:
		w.b = append(w.b, '[')
		for i, e := range x {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			if err := w.value(e); err != nil {
				return err
			}
		}
		w.b = append(w.b, ']')
	case map[any]any:
		return w.object(x, nil)
	default: // float64 (NaN and infinities are json.Marshal's errors), anything else
		j, err := json.Marshal(x)
		if err != nil {
			return err
		}
		w.b = append(w.b, j...)
	}
	return nil
}

// object writes a mapping whose keys are all strings; top, when set, receives the head
// of the document's top-level mapping.
func (w *jsonWriter) object(m map[any]any, top *head) error {
	for k := range m {
		if _, ok := k.(string); !ok {
			return errNonStringKey
		}
	}
	w.b = append(w.b, '{')
	first := true
	for k, v := range m {
		key := k.(string)
		if !first {
			w.b = append(w.b, ',')
		}
		first = false
		if err := w.str(key); err != nil {
			return err
		}
		w.b = append(w.b, ':')
		start := len(w.b)
		if err := w.value(v); err != nil {
			return err
		}
		if top != nil {
			switch key {
			case "apiVersion":
				top.APIVersion = v
			case "kind":
				top.Kind = v
			case "metadata":
				w.meta = [2]int{start, len(w.b)}
			case "items":
				w.items = [2]int{start, len(w.b)}
			}
		}
	}
	w.b = append(w.b, '}')
	return nil
}

// str writes a string: as it is when json.Marshal would copy it unchanged (printable
// ASCII other than the quote, the backslash and the HTML characters it escapes), through
// json.Marshal otherwise (escapes, invalid UTF-8 replaced as it replaces it).
func (w *jsonWriter) str(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, err := json.Marshal(s)
			if err != nil {
				return err
			}
			w.b = append(w.b, j...)
			return nil
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
	return nil
}
