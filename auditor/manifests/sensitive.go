package manifests

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// secretKind is always sensitive.
var secretKind = schema.GroupKind{Kind: "Secret"}

func (r *reader) sensitive(apiVersion, kind string) bool {
	gk := schema.FromAPIVersionAndKind(apiVersion, kind).GroupKind()
	if gk == secretKind {
		return true
	}
	for _, s := range r.opts.SensitiveKinds {
		if gk == s {
			return true
		}
	}
	return false
}

// mentionsSensitive is a cheap filter: a document that does not spell a sensitive kind
// cannot hold one, and is decoded directly.
func (r *reader) mentionsSensitive(b []byte) bool {
	if bytes.Contains(b, []byte(secretKind.Kind)) {
		return true
	}
	for _, s := range r.opts.SensitiveKinds {
		if bytes.Contains(b, []byte(s.Kind)) {
			return true
		}
	}
	return false
}

// dropSensitiveJSON removes sensitive objects (and List items) from a JSON document
// looking only at their apiVersion and kind. drop is true when the whole document is
// one; out is the document to decode (b itself when nothing was removed).
func (r *reader) dropSensitiveJSON(b []byte) (out []byte, drop bool, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, false, err
	}
	id := func(m map[string]json.RawMessage) (string, string) {
		var av, k string
		_ = json.Unmarshal(m["apiVersion"], &av)
		_ = json.Unmarshal(m["kind"], &k)
		return av, k
	}
	av, k := id(top)
	if r.sensitive(av, k) {
		return nil, true, nil
	}
	var items []json.RawMessage
	if !strings.HasSuffix(k, "List") || json.Unmarshal(top["items"], &items) != nil {
		return b, false, nil
	}
	kept := items[:0]
	for _, it := range items {
		var m map[string]json.RawMessage
		if json.Unmarshal(it, &m) == nil && r.sensitive(id(m)) {
			continue
		}
		kept = append(kept, it)
	}
	if len(kept) == len(items) {
		return b, false, nil
	}
	if top["items"], err = json.Marshal(kept); err != nil {
		return nil, false, err
	}
	out, err = json.Marshal(top)
	return out, false, err
}

// dropSensitiveYAML is dropSensitiveJSON for YAML: the document is parsed into nodes,
// which constructs no value, so nothing in a Secret's body is decoded or can appear in
// an error.
func (r *reader) dropSensitiveYAML(b []byte) (out []byte, drop bool, err error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(b, &doc); err != nil {
		return nil, false, scrub(err)
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yamlv3.MappingNode {
		return b, false, nil
	}
	top := doc.Content[0]
	av, k := nodeID(top)
	if r.sensitive(av, k) {
		return nil, true, nil
	}
	items := mapValue(top, "items")
	if !strings.HasSuffix(k, "List") || items == nil || items.Kind != yamlv3.SequenceNode {
		return b, false, nil
	}
	kept := items.Content[:0]
	removed := false
	for _, it := range items.Content {
		if it.Kind == yamlv3.MappingNode && r.sensitive(nodeID(it)) {
			removed = true
			continue
		}
		kept = append(kept, it)
	}
	if !removed {
		return b, false, nil
	}
	items.Content = kept
	out, err = yamlv3.Marshal(&doc)
	return out, false, scrub(err)
}

func nodeID(m *yamlv3.Node) (apiVersion, kind string) {
	if n := mapValue(m, "apiVersion"); n != nil && n.Kind == yamlv3.ScalarNode {
		apiVersion = n.Value
	}
	if n := mapValue(m, "kind"); n != nil && n.Kind == yamlv3.ScalarNode {
		kind = n.Value
	}
	return apiVersion, kind
}

// mapValue is the value of the last key named key in a mapping node (the later of
// duplicate keys wins, as in the decoders).
func mapValue(m *yamlv3.Node, key string) *yamlv3.Node {
	var v *yamlv3.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yamlv3.ScalarNode && k.Value == key {
			v = m.Content[i+1]
		}
	}
	return v
}

// quotedValue matches what YAML decoders quote from the input in their messages
// ("cannot decode !!str `ZXQ-NOTINT` as a !!int"): values never reach a message.
var quotedValue = regexp.MustCompile("`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"")

type scrubbedError struct{ msg string }

func (e *scrubbedError) Error() string { return e.msg }

// scrub withholds every value a YAML decoder quotes in its message.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !quotedValue.MatchString(msg) {
		return err
	}
	return &scrubbedError{msg: quotedValue.ReplaceAllString(msg, "(value withheld)")}
}
