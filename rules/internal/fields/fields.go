// Package fields reads CRD-backed objects held as unstructured: a Reader that takes a field
// of the wrong type as absent and records it as a problem (rules report problems instead
// of panicking), status conditions, and the label selectors such objects carry.
package fields

import (
	"fmt"
	"iter"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// Condition is one status condition as read from an unstructured object.
type Condition struct {
	Found                   bool
	Status, Reason, Message string
}

func (c Condition) String() string {
	if !c.Found {
		return "absent"
	}
	s := c.Status
	if c.Reason != "" {
		s += ", reason " + c.Reason
	}
	if c.Message != "" {
		s += ": " + Shorten(c.Message, 160)
	}
	return s
}

// Reader reads unstructured fields tolerantly: a field of the wrong type reads as absent
// and is recorded in Problems, naming What (the object) and the field path.
type Reader struct {
	What     string
	Problems []string
}

// Bad records that the field at path holds got instead of want.
func (r *Reader) Bad(path, want string, got any) {
	r.Problems = append(r.Problems, fmt.Sprintf("%s: %s is %s, want %s", r.What, path, JSONTypeName(got), want))
}

// JSONTypeName names the JSON type of a decoded value, for problem messages.
func JSONTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int, int32:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Obj reads an object; nil when absent, null or of the wrong type.
func (r *Reader) Obj(m map[string]any, key, path string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		r.Bad(path, "an object", v)
		return nil
	}
	return o
}

// List reads a list; nil when absent, null or of the wrong type.
func (r *Reader) List(m map[string]any, key, path string) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.Bad(path, "a list", v)
		return nil
	}
	return l
}

// Objects yields the objects of the list at key with their paths ("path[i]"); an item
// that is not an object is recorded and skipped.
func (r *Reader) Objects(m map[string]any, key, path string) iter.Seq2[string, map[string]any] {
	return func(yield func(string, map[string]any) bool) {
		for i, v := range r.List(m, key, path) {
			p := fmt.Sprintf("%s[%d]", path, i)
			o, ok := v.(map[string]any)
			if !ok {
				r.Bad(p, "an object", v)
				continue
			}
			if !yield(p, o) {
				return
			}
		}
	}
}

// Str reads a string; "" when absent, null or of the wrong type.
func (r *Reader) Str(m map[string]any, key, path string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.Bad(path, "a string", v)
		return ""
	}
	return s
}

// Strs reads a list of strings, leaving out (and recording) elements that are not strings.
func (r *Reader) Strs(m map[string]any, key, path string) []string {
	l := r.List(m, key, path)
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			r.Bad(fmt.Sprintf("%s[%d]", path, i), "a string", v)
			continue
		}
		out = append(out, s)
	}
	return out
}

// Boolean reads an optional boolean; nil when absent or of the wrong type.
func (r *Reader) Boolean(m map[string]any, key, path string) *bool {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		r.Bad(path, "a boolean", v)
		return nil
	}
	return &b
}

// Condition reads the first condition of type typ from the conditions list at key.
func (r *Reader) Condition(m map[string]any, key, path, typ string) Condition {
	for p, cm := range r.Objects(m, key, path) {
		if r.Str(cm, "type", p+".type") != typ {
			continue
		}
		return Condition{
			Found:   true,
			Status:  r.Str(cm, "status", p+".status"),
			Reason:  r.Str(cm, "reason", p+".reason"),
			Message: r.Str(cm, "message", p+".message"),
		}
	}
	return Condition{}
}

// Selector reads a label selector; an invalid one is recorded and reads as one that
// matches nothing, as Kyverno and the API server treat a selector they cannot parse.
func (r *Reader) Selector(m map[string]any, key, path string) *metav1.LabelSelector {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	sm, ok := v.(map[string]any)
	if !ok {
		r.Bad(path, "a label selector", v)
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "-", Operator: metav1.LabelSelectorOpIn}}}
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(sm, &sel); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %s is not a label selector: %v", r.What, path, err))
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "-", Operator: metav1.LabelSelectorOpIn}}}
	}
	if _, err := metav1.LabelSelectorAsSelector(&sel); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %s is not a valid label selector: %v", r.What, path, err))
	}
	return &sel
}

// SelectorAllows evaluates a label selector; nil matches everything, an invalid one nothing.
func SelectorAllows(sel *metav1.LabelSelector, l map[string]string) bool {
	if sel == nil {
		return true
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(l))
}

// SelectorText renders a selector for messages.
func SelectorText(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "<none>"
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return "<invalid>"
	}
	if str := s.String(); str != "" {
		return str
	}
	return "<everything>"
}

// Shorten collapses whitespace and cuts s to n runes, marking the cut with "...".
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
