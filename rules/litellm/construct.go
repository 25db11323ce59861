package litellm

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// knownTags are the tags SafeConstructor can construct; any other tag makes
// yaml.safe_load raise a ConstructorError.
var knownTags = map[string]bool{
	"!!null": true, "!!bool": true, "!!int": true, "!!float": true, "!!binary": true, "!!timestamp": true,
	"!!str": true, "!!seq": true, "!!map": true, "!!set": true, "!!omap": true, "!!pairs": true,
}

// validate walks every node once, as yaml.safe_load constructs the whole document, and
// reports what would make it raise: unknown tags, scalars an explicit tag cannot
// construct, unhashable keys, bad merges, impossible timestamps.
func (c *Config) validate() error {
	seen := map[*yaml.Node]bool{}
	type item struct {
		n     *yaml.Node
		key   bool
		depth int
	}
	stack := []item{{n: c.root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := deref(it.n)
		if n == nil {
			continue
		}
		if it.depth > maxDepth {
			return &Error{Kind: ErrConstruct, Line: n.Line, Column: n.Column, Msg: "the document nests too deeply"}
		}
		// Every collection PyYAML builds (dict, list, set, omap/pairs lists) is unhashable.
		if it.key && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) {
			return &Error{Kind: ErrConstruct, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("found unhashable key (%s)", c.value(n).Kind.Article())}
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		if err := c.checkNode(n, it.key); err != nil {
			return err
		}
		switch n.Kind {
		case yaml.MappingNode:
			if _, err := c.pairs(n, 0); err != nil {
				return err
			}
			for i := len(n.Content) - 1; i >= 0; i-- {
				stack = append(stack, item{n: n.Content[i], key: i%2 == 0, depth: it.depth + 1})
			}
		case yaml.SequenceNode:
			for i := len(n.Content) - 1; i >= 0; i-- {
				stack = append(stack, item{n: n.Content[i], depth: it.depth + 1})
			}
		}
	}
	return nil
}

func (c *Config) checkNode(n *yaml.Node, key bool) error {
	tag, explicit := c.tagOf(n)
	fail := func(format string, a ...any) error {
		return &Error{Kind: ErrConstruct, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, a...)}
	}
	if explicit && !knownTags[tag] && !(key && (tag == "!!value" || tag == "!!merge")) {
		return fail("could not determine a constructor for the tag %q", tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		if tag != "!!map" && tag != "!!set" {
			return fail("tag %s cannot construct a mapping", tag)
		}
		return nil
	case yaml.SequenceNode:
		if tag != "!!seq" && tag != "!!omap" && tag != "!!pairs" {
			return fail("tag %s cannot construct a sequence", tag)
		}
		if tag == "!!omap" || tag == "!!pairs" {
			for _, it := range n.Content {
				if m := deref(it); m == nil || m.Kind != yaml.MappingNode || len(m.Content) != 2 {
					return fail("%s expects a sequence of single-entry mappings", tag)
				}
			}
		}
		return nil
	}
	s := n.Value
	switch tag {
	case "!!bool":
		if _, ok := pyBool(s); !ok {
			return fail("!!bool cannot construct this scalar")
		}
	case "!!int":
		if !validInt(s) {
			return fail("!!int cannot construct this scalar")
		}
	case "!!float":
		if explicit && !validFloat(s) {
			return fail("!!float cannot construct this scalar")
		}
	case "!!timestamp":
		if !validTimestamp(s) {
			return fail("invalid timestamp (not a real date or time)")
		}
	case "!!binary":
		if !validBinary(s) {
			return fail("!!binary is not valid base64")
		}
	case "!!set", "!!omap", "!!pairs", "!!seq", "!!map":
		return fail("tag %s cannot construct a scalar", tag)
	case "!!value", "!!merge":
		// flatten_mapping consumes these in key position; anywhere else nothing constructs them.
		if !key {
			return fail("could not determine a constructor for the tag %s", tag)
		}
	}
	return nil
}

// validInt is construct_yaml_int: underscores dropped, then sign, 0b/0x/0 prefix or
// base-60 parts; it raises on an empty digit string such as "0b_".
func validInt(s string) bool {
	s = strings.ReplaceAll(s, "_", "")
	s = strings.TrimLeft(s, "+-")
	switch {
	case s == "":
		return false
	case s == "0":
		return true
	case strings.HasPrefix(s, "0b"):
		_, err := strconv.ParseUint(s[2:], 2, 64)
		return err == nil || isRange(err)
	case strings.HasPrefix(s, "0x"):
		_, err := strconv.ParseUint(s[2:], 16, 64)
		return err == nil || isRange(err)
	case strings.HasPrefix(s, "0"):
		_, err := strconv.ParseUint(s[1:], 8, 64)
		return err == nil || isRange(err)
	case strings.Contains(s, ":"):
		for _, p := range strings.Split(s, ":") {
			if _, err := strconv.ParseUint(p, 10, 64); err != nil && !isRange(err) {
				return false
			}
		}
		return true
	}
	_, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return err == nil || isRange(err)
}

// validBinary approximates base64.decodebytes (binascii.a2b_base64, non-strict): the
// text must be ASCII; characters outside the alphabet are skipped; a count of data
// characters one more than a multiple of four cannot decode.
func validBinary(s string) bool {
	// construct_yaml_binary: .encode('ascii'), then base64.decodebytes, whose
	// binascii.a2b_base64 (non-strict) skips characters outside the alphabet, counts
	// "=" only after two data characters of a quad, stops at a complete pad, and
	// raises when the data ends inside a quad.
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= 0x80:
			return false
		case b == '=':
			if quad >= 2 {
				if pads++; quad+pads >= 4 {
					return true
				}
			}
		case b >= 'A' && b <= 'Z', b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '+', b == '/':
			quad = (quad + 1) % 4
		}
	}
	return quad == 0
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// validFloat approximates construct_yaml_float for explicitly tagged scalars.
func validFloat(s string) bool {
	t := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	t = strings.TrimLeft(t, "+-")
	if t == ".inf" || t == ".nan" {
		return true
	}
	if strings.Contains(t, ":") {
		for _, p := range strings.Split(t, ":") {
			if _, err := strconv.ParseFloat(p, 64); err != nil {
				return false
			}
		}
		return true
	}
	_, err := strconv.ParseFloat(t, 64)
	return err == nil || isRange(err)
}

// validTimestamp is construct_yaml_timestamp: Python's date/datetime reject impossible
// fields with ValueError.
func validTimestamp(s string) bool {
	m := reTime.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	if y < 1 || mo < 1 || mo > 12 || d < 1 || d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return false
	}
	if m[4] == "" {
		return true
	}
	h, _ := strconv.Atoi(m[4])
	mi, _ := strconv.Atoi(m[5])
	sec, _ := strconv.Atoi(m[6])
	if h > 23 || mi > 59 || sec > 59 {
		return false
	}
	if tz := m[8]; tz != "" && tz != "Z" {
		parts := strings.SplitN(tz[1:], ":", 2)
		th, _ := strconv.Atoi(parts[0])
		tm := 0
		if len(parts) == 2 {
			tm, _ = strconv.Atoi(parts[1])
		}
		// datetime.timezone(timedelta) requires |offset| < 24h.
		if th*60+tm >= 24*60 {
			return false
		}
	}
	return true
}
