package fields

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestJSONTypeName(t *testing.T) {
	cases := map[string]struct {
		v    any
		want string
	}{
		"null": {nil, "null"}, "string": {"x", "a string"}, "bool": {true, "a boolean"},
		"int64": {int64(1), "a number"}, "float": {1.5, "a number"}, "int": {1, "a number"}, "int32": {int32(1), "a number"},
		"list": {[]any{}, "a list"}, "object": {map[string]any{}, "an object"}, "other": {uint8(1), "uint8"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, JSONTypeName(tc.v)) })
	}
}

func TestReaderScalars(t *testing.T) {
	m := map[string]any{"s": "v", "n": int64(3), "b": true, "o": map[string]any{"k": "v"}, "l": []any{"a", 2, "c"}, "null": nil}
	cases := map[string]struct {
		read     func(r *Reader) any
		want     any
		problems []string
	}{
		"string":              {read: func(r *Reader) any { return r.Str(m, "s", "p.s") }, want: "v"},
		"string absent":       {read: func(r *Reader) any { return r.Str(m, "x", "p.x") }, want: ""},
		"string null":         {read: func(r *Reader) any { return r.Str(m, "null", "p.null") }, want: ""},
		"string wrong type":   {read: func(r *Reader) any { return r.Str(m, "n", "p.n") }, want: "", problems: []string{"Obj o: p.n is a number, want a string"}},
		"object":              {read: func(r *Reader) any { return r.Obj(m, "o", "p.o") }, want: map[string]any{"k": "v"}},
		"object absent":       {read: func(r *Reader) any { return r.Obj(m, "x", "p.x") }, want: map[string]any(nil)},
		"object wrong type":   {read: func(r *Reader) any { return r.Obj(m, "s", "p.s") }, want: map[string]any(nil), problems: []string{"Obj o: p.s is a string, want an object"}},
		"object of nil map":   {read: func(r *Reader) any { return r.Obj(nil, "o", "p.o") }, want: map[string]any(nil)},
		"list":                {read: func(r *Reader) any { return r.List(m, "l", "p.l") }, want: []any{"a", 2, "c"}},
		"list wrong type":     {read: func(r *Reader) any { return r.List(m, "o", "p.o") }, want: []any(nil), problems: []string{"Obj o: p.o is an object, want a list"}},
		"strings skip others": {read: func(r *Reader) any { return r.Strs(m, "l", "p.l") }, want: []string{"a", "c"}, problems: []string{"Obj o: p.l[1] is a number, want a string"}},
		"strings absent":      {read: func(r *Reader) any { return r.Strs(m, "x", "p.x") }, want: []string{}},
		"boolean":             {read: func(r *Reader) any { return *r.Boolean(m, "b", "p.b") }, want: true},
		"boolean absent":      {read: func(r *Reader) any { return r.Boolean(m, "x", "p.x") }, want: (*bool)(nil)},
		"boolean wrong type":  {read: func(r *Reader) any { return r.Boolean(m, "s", "p.s") }, want: (*bool)(nil), problems: []string{"Obj o: p.s is a string, want a boolean"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &Reader{What: "Obj o"}
			assert.Equal(t, tc.want, tc.read(r))
			assert.Equal(t, tc.problems, r.Problems)
		})
	}
}

func TestReaderCondition(t *testing.T) {
	status := map[string]any{"conditions": []any{
		"junk",
		map[string]any{"type": "Other", "status": "True"},
		map[string]any{"type": "Ready", "status": "False", "reason": "Failed", "message": "a   long\nmessage"},
		map[string]any{"type": "Ready", "status": "True"},
	}}
	r := &Reader{What: "X"}
	c := r.Condition(status, "conditions", "status.conditions", "Ready")
	assert.Equal(t, Condition{Found: true, Status: "False", Reason: "Failed", Message: "a   long\nmessage"}, c, "the first condition of the type wins")
	assert.Equal(t, "False, reason Failed: a long message", c.String())
	assert.Equal(t, []string{"X: status.conditions[0] is a string, want an object"}, r.Problems)

	missing := r.Condition(status, "conditions", "status.conditions", "Admitted")
	assert.False(t, missing.Found)
	assert.Equal(t, "absent", missing.String())
	assert.Equal(t, "True", Condition{Found: true, Status: "True"}.String())
}

func TestReaderSelector(t *testing.T) {
	matchNothing := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "-", Operator: metav1.LabelSelectorOpIn}}}
	cases := map[string]struct {
		v       any
		want    *metav1.LabelSelector
		problem string
	}{
		"absent":      {v: nil},
		"labels":      {v: map[string]any{"matchLabels": map[string]any{"a": "b"}}, want: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}},
		"empty":       {v: map[string]any{}, want: &metav1.LabelSelector{}},
		"not a map":   {v: "x", want: matchNothing, problem: "X: p is a string, want a label selector"},
		"wrong shape": {v: map[string]any{"matchLabels": []any{1}}, want: matchNothing, problem: "X: p is not a label selector"},
		"bad operator": {v: map[string]any{"matchExpressions": []any{map[string]any{"key": "k", "operator": "Bogus"}}}, problem: "X: p is not a valid label selector",
			want: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Bogus"}}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &Reader{What: "X"}
			m := map[string]any{}
			if tc.v != nil {
				m["sel"] = tc.v
			}
			assert.Equal(t, tc.want, r.Selector(m, "sel", "p"))
			if tc.problem == "" {
				assert.Empty(t, r.Problems)
			} else if assert.Len(t, r.Problems, 1) {
				assert.Contains(t, r.Problems[0], tc.problem)
			}
		})
	}
}

func TestSelectorAllowsAndText(t *testing.T) {
	invalid := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Bogus"}}}
	cases := map[string]struct {
		sel    *metav1.LabelSelector
		labels map[string]string
		allows bool
		text   string
	}{
		"nil matches everything":   {sel: nil, allows: true, text: "<none>"},
		"empty matches everything": {sel: &metav1.LabelSelector{}, allows: true, text: "<everything>"},
		"match":                    {sel: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}, labels: map[string]string{"a": "b", "c": "d"}, allows: true, text: "a=b"},
		"no match":                 {sel: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}, labels: map[string]string{"a": "c"}, text: "a=b"},
		"invalid matches nothing":  {sel: invalid, labels: map[string]string{"k": "v"}, text: "<invalid>"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.allows, SelectorAllows(tc.sel, tc.labels))
			assert.Equal(t, tc.text, SelectorText(tc.sel))
		})
	}
}

func TestShorten(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"short":                {"abc", 5, "abc"},
		"exact":                {"abcde", 5, "abcde"},
		"cut":                  {"abcdef", 5, "abcde..."},
		"whitespace collapsed": {" a \n\t b ", 10, "a b"},
		"runes, not bytes":     {"ééééé", 4, "éééé..."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, Shorten(tc.in, tc.n)) })
	}
}

func TestReaderObjects(t *testing.T) {
	r := &Reader{What: "X"}
	m := map[string]any{"items": []any{map[string]any{"a": "1"}, "oops", map[string]any{"a": "3"}}}
	var paths []string
	for p, o := range r.Objects(m, "items", "spec.items") {
		paths = append(paths, p+"="+o["a"].(string))
	}
	assert.Equal(t, []string{"spec.items[0]=1", "spec.items[2]=3"}, paths)
	assert.Equal(t, []string{"X: spec.items[1] is a string, want an object"}, r.Problems)

	for range r.Objects(m, "items", "spec.items") {
		break // stopping early must not record the later items
	}
	assert.Len(t, r.Problems, 1)
	for range r.Objects(map[string]any{"items": "x"}, "items", "spec.items") {
		t.Fatal("a non-list yields nothing")
	}
	assert.Equal(t, "X: spec.items is a string, want a list", r.Problems[1])
}
