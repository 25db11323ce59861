package litellm

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Position says where a value is written, for messages, in PyYAML's line numbers:
// "line 3, column 37". A value reached through an alias names both places ("alias *d at
// line 9, column 37, of anchor &d at line 1, column 11"). Where a NEL (U+0085), LS
// (U+2028) or PS (U+2029) comes before it, which PyYAML reads as a line break and most
// editors do not, it says so and gives the line an editor shows too.
func (v Value) Position() string {
	if v.Line == 0 {
		return ""
	}
	if v.Alias == "" {
		return v.cfg.place(v.Line, v.Column)
	}
	return fmt.Sprintf("alias *%s at %s, of anchor &%s at %s", v.Alias, v.cfg.place(v.AliasLine, v.AliasColumn), v.Alias, v.cfg.place(v.Line, v.Column))
}

// unicodeBreaks are the line breaks PyYAML reads (yaml/reader.py, yaml/scanner.py) that
// editors and `wc -l` do not count.
var unicodeBreaks = map[rune]string{0x85: "NEL (U+0085)", 0x2028: "LS (U+2028)", 0x2029: "PS (U+2029)"}

// place renders a 1-based line and column as PyYAML counts them, and as an editor does
// when they differ.
func (c *Config) place(line, col int) string {
	at := fmt.Sprintf("line %d, column %d", line, col)
	if c == nil || c.src == nil || line < 1 {
		return at
	}
	off := c.offset(line, col)
	if off < 0 {
		return at
	}
	// Count the lines an editor sees (LF, CRLF, CR) and the Unicode breaks before off.
	edLine, edStart := 1, 0
	var seen []string
	for i := 0; i < off; {
		r, size := utf8.DecodeRune(c.src[i:])
		switch {
		case r == '\r' && i+1 < len(c.src) && c.src[i+1] == '\n':
			size = 2
			edLine, edStart = edLine+1, i+2
		case r == '\r' || r == '\n':
			edLine, edStart = edLine+1, i+size
		default:
			if name, ok := unicodeBreaks[r]; ok && !slices.Contains(seen, name) {
				seen = append(seen, name)
			}
		}
		i += size
	}
	if len(seen) == 0 {
		return at
	}
	edCol := utf8.RuneCount(c.src[edStart:off]) + 1
	return fmt.Sprintf("%s, as PyYAML counts lines: it ends a line at each %s before it, which an editor does not, so an editor shows it on line %d, column %d",
		at, strings.Join(seen, " and "), edLine, edCol)
}

// offset is the byte offset of a 1-based line and column (PyYAML's count) in the text
// parsed, -1 when outside it.
func (c *Config) offset(line, col int) int {
	if c == nil || line < 1 || col < 1 {
		return -1
	}
	starts, _ := lineBounds(c.src)
	if line > len(starts) {
		return -1
	}
	off := starts[line-1]
	for i := 1; i < col && off < len(c.src); i++ {
		_, size := utf8.DecodeRune(c.src[off:])
		off += size
	}
	return off
}

// nonSpecific reports whether a scalar is written with the non-specific tag `!`, which
// go-yaml turns into !!str and PyYAML's parser resolves like a plain scalar
// (`implicit = (True, False)` when tag == '!'): `! 'yes'` is the boolean true.
func (c *Config) nonSpecific(n *yaml.Node) bool {
	off := c.offset(n.Line, n.Column)
	return off >= 0 && off+1 < len(c.src) && c.src[off] == '!' && (c.src[off+1] == ' ' || c.src[off+1] == '\t')
}
