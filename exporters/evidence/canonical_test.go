package evidence

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonical(t *testing.T) {
	cases := map[string]struct {
		in   any
		want string
	}{
		"members sorted, no whitespace": {in: map[string]any{"b": 1, "a": []any{true, nil, "x"}}, want: `{"a":[true,null,"x"],"b":1}`},
		"struct fields sorted by JSON name": {in: struct {
			Z string `json:"z"`
			A int    `json:"a"`
		}{"v", 2}, want: `{"a":2,"z":"v"}`},
		"no HTML escaping, UTF-8 kept":         {in: "<a&b> é \u2028", want: "\"<a&b> é \u2028\""},
		"control characters escaped minimally": {in: "q\"b\\\n\t\x01\x1f\x7f", want: `"q\"b\\\n\t\u0001\u001f` + "\x7f\""},
		"numbers in ECMAScript form":           {in: []any{1.0, 0.5, 1e21, 1e-7, math.Copysign(0, -1), int64(9007199254740991)}, want: `[1,0.5,1e+21,1e-7,0,9007199254740991]`},
		// RFC 8785 section 3.2.3: UTF-16 code-unit order puts U+1F600 (surrogates D83D..) before U+FB01.
		"keys by UTF-16 code units": {in: map[string]any{"\uFB01": 1, "\U0001F600": 2, "a": 3}, want: "{\"a\":3,\"\U0001F600\":2,\"\uFB01\":1}"},
		"invalid UTF-8 replaced":    {in: "a\xffb", want: "\"a\uFFFDb\""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Canonical(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
	_, err := Canonical(map[string]any{"nan": func() {}})
	assert.Error(t, err, "a value JSON cannot carry is an error, not a panic")
}
