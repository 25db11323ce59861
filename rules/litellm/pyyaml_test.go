package litellm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKindNames(t *testing.T) {
	assert.Equal(t, "an integer", KindInt.Article())
	assert.Equal(t, "a string", KindString.Article())
	assert.Equal(t, "a collection", KindOther.Article())
	assert.Equal(t, "value", Kind(-1).String())
	assert.Equal(t, "value", Kind(99).String())
}

func TestImplicitTag(t *testing.T) {
	cases := map[string]string{
		"": "!!null", "~": "!!null", "Null": "!!null", "yes": "!!bool", "Off": "!!bool", "y": "!!str", "n": "!!str",
		"1.5": "!!float", "1e3": "!!str", ".inf": "!!float", "42": "!!int", "0x1f": "!!int", "1:30": "!!int",
		"<<": "!!merge", "2026-03-01": "!!timestamp", "2026-3-1": "!!str", "2026-03-01 10:00:00": "!!timestamp", "=": "!!value", "hello": "!!str",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, implicitTag(in)) })
	}
}

func TestPyBool(t *testing.T) {
	cases := map[string]struct{ val, ok bool }{
		"yes": {true, true}, "ON": {true, true}, "True": {true, true},
		"no": {false, true}, "Off": {false, true}, "FALSE": {false, true},
		"y": {false, false}, "1": {false, false},
	}
	for in, tc := range cases {
		t.Run(in, func(t *testing.T) {
			v, ok := pyBool(in)
			assert.Equal(t, tc, struct{ val, ok bool }{v, ok})
		})
	}
}

func TestValueTruthyAndDescribe(t *testing.T) {
	c, err := Parse([]byte(`general_settings:
  null_v: ~
  t: yes
  f: "no"
  empty: ''
  zero: 0x00
  num: 0b10
  fzero: 0.0
  fnum: 1.5
  list: [a, b]
  none: []
  map: {a: 1}
  tagged: !!str 3
`))
	require.NoError(t, err)
	cases := map[string]struct {
		truthy   bool
		describe string
	}{
		"null_v": {false, `plain "~"`},
		"t":      {true, `plain "yes"`},
		"f":      {true, `double-quoted "no"`},
		"empty":  {false, `single-quoted ""`},
		"zero":   {false, `plain "0x00"`},
		"num":    {true, `plain "0b10"`},
		"fzero":  {false, `plain "0.0"`},
		"fnum":   {true, `plain "1.5"`},
		"list":   {true, "sequence"},
		"none":   {false, "sequence"},
		"map":    {true, "mapping"},
		"tagged": {true, `!!str plain "3"`},
	}
	for key, tc := range cases {
		t.Run(key, func(t *testing.T) {
			v, ok := c.Lookup("general_settings", key)
			require.True(t, ok)
			assert.Equal(t, tc.truthy, v.Truthy())
			assert.Equal(t, tc.describe, v.Describe())
		})
	}
	list, _ := c.Lookup("general_settings", "list")
	assert.Equal(t, 2, list.Len())
	require.Len(t, list.Items(), 2)
	assert.Equal(t, "b", list.Items()[1].Str)
	m, _ := c.Lookup("general_settings", "map")
	assert.Equal(t, 1, m.Len())
	assert.Nil(t, m.Items(), "a mapping has no items")
	_, ok := c.Lookup("general_settings", "list", "a")
	assert.False(t, ok, "a sequence has no keys")
	_, ok = c.Lookup("nope")
	assert.False(t, ok)
}
