package litellm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidInt(t *testing.T) {
	cases := map[string]bool{
		"0": true, "42": true, "-1_000": true, "+7": true, "0b101": true, "0b_": false, "0b2": false,
		"0x1F": true, "0xG": false, "017": true, "08": false, "1:30:00": true, "1:x": false, "": false, "-": false,
		"99999999999999999999999":     true, // Python ints do not overflow
		"0x" + "ffffffffffffffffffff": true,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, validInt(in)) })
	}
}

func TestValidFloat(t *testing.T) {
	cases := map[string]bool{
		"1.5": true, "-1_0.5": true, ".inf": true, "-.INF": true, ".NaN": true, "1:30.5": true, "1:x": false,
		"abc": false, "1e400": true, "": false,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, validFloat(in)) })
	}
}

func TestValidBinary(t *testing.T) {
	cases := map[string]bool{
		"aGVsbG8=": true, "aGVs\nbG8=": true, "": true, "a": false, "abcde": false, "ab!c": false, "é": false,
		// binascii.a2b_base64 (non-strict), checked against Python: padding counts only after two data characters of a quad.
		"yes": false, "yes=": true, "ye=": false, "ye==": true, "y=es": false, "ab=cd": true, "a=bc=": true, "a===": false, "abc=d": true,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, validBinary(in)) })
	}
}

func TestValidTimestamp(t *testing.T) {
	cases := map[string]bool{
		"2026-03-01":                 true,
		"2026-02-29":                 false, // not a leap year
		"2024-02-29":                 true,
		"2026-13-01":                 false,
		"0000-01-01":                 false,
		"2026-3-1 10:00:00":          true,
		"2026-03-01T24:00:00":        false,
		"2026-03-01T23:60:00":        false,
		"2026-03-01T23:59:59.5Z":     true,
		"2026-03-01 10:00:00 +05:30": true,
		"2026-03-01 10:00:00 -24":    false,
		"2026-03-01 10:00:00 +23:59": true,
		"yesterday":                  false,
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) { assert.Equal(t, want, validTimestamp(in)) })
	}
}
