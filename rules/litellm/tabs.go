package litellm

import (
	"unicode/utf8"
)

// pyTab finds the first tab PyYAML's scanner refuses. PyYAML (yaml/scanner.py) skips
// only spaces between tokens (scan_to_next_token), ends a plain scalar at a tab and
// never takes one back as separation (scan_plain, scan_plain_spaces), and counts only
// spaces as indentation (scan_block_scalar_indentation): a tab is accepted only inside
// a quoted scalar, in a block scalar's content after its indentation, and in a comment.
// Anywhere else yaml.safe_load raises "found character '\t' that cannot start any
// token", where go-yaml reads on: `allow_requests_on_db_unavailable:<TAB>true` is a
// value to go-yaml and an unloadable file to LiteLLM.
//
// The scan follows PyYAML's tokens only as far as tabs need (quotes and block scalars
// start where a node may start); where it cannot tell, it errs on accepting the tab.
func pyTab(data []byte) *Error {
	starts, ends := lineBounds(data)
	var (
		flow        int
		quote       byte // '\'' or '"' while inside a quoted scalar across lines
		block       bool // inside a block scalar's content
		blockIndent int  // its indentation; 0 until the first content line sets it
		blockParent int  // the indentation it must exceed
	)
	for ln, start := range starts {
		line := data[start:ends[ln]]
		if ln == 0 && len(line) >= 3 && string(line[:3]) == "\ufeff" {
			line, start = line[3:], start+3
		}
		spaces := 0
		for spaces < len(line) && line[spaces] == ' ' {
			spaces++
		}
		if block {
			switch {
			case spaces == len(line):
				continue // a blank line inside the block
			case blockIndent == 0 && spaces > blockParent:
				blockIndent = spaces
				continue
			case blockIndent > 0 && spaces >= blockIndent:
				continue // content: tabs are text
			}
			block = false // a less indented line ends the block
		}
		p := 0
		expectNode := true // a node (quoted or block scalar) may start here
		if quote != 0 {
			p = closeQuote(line, 0, quote)
			if p < 0 {
				continue
			}
			quote, expectNode = 0, false
		}
		for p < len(line) {
			ch := line[p]
			next := byte(' ')
			if p+1 < len(line) {
				next = line[p+1]
			}
			switch {
			case ch == '\t':
				return &Error{Kind: ErrSyntax, Line: ln + 1, Column: utf8.RuneCount(line[:p]) + 1,
					Msg: "found character '\\t' that cannot start any token (PyYAML takes a tab only inside a quoted or block scalar or a comment)"}
			case ch == ' ':
				p++
				continue
			case ch == '#' && (p == 0 || line[p-1] == ' '):
				p = len(line)
				continue
			case expectNode && (ch == '\'' || ch == '"'):
				end := closeQuote(line, p+1, ch)
				if end < 0 {
					quote, p = ch, len(line)
					continue
				}
				p, expectNode = end, false
				continue
			case expectNode && flow == 0 && (ch == '|' || ch == '>'):
				block, blockIndent, blockParent = true, 0, spaces
				if p >= 3 && string(line[:3]) == "---" {
					blockParent = -1
				}
				for q := p + 1; q < len(line) && q <= p+2; q++ {
					if d := line[q]; d >= '1' && d <= '9' {
						blockIndent = max(blockParent, 0) + int(d-'0')
					}
				}
				expectNode = false
			case ch == '[' || ch == '{':
				flow++
				expectNode = true
			case ch == ']' || ch == '}':
				flow = max(flow-1, 0)
				expectNode = false
			case ch == ',' && flow > 0:
				expectNode = true
			case ch == ':' && (flow > 0 || next == ' ' || next == '\t'):
				expectNode = true
			case (ch == '-' || ch == '?') && expectNode && (next == ' ' || next == '\t' || p+1 == len(line)):
				expectNode = true
			case (ch == '&' || ch == '!') && expectNode:
				// An anchor or a tag: the node follows it after a space.
				for p < len(line) && line[p] != ' ' && line[p] != '\t' {
					p++
				}
				continue
			case p == 0 && ch == '-' && len(line) >= 3 && string(line[:3]) == "---":
				p = 3
				expectNode = true
				continue
			default:
				expectNode = false
			}
			p++
		}
	}
	return nil
}

// closeQuote returns the offset just past the quote that closes a scalar opened with q,
// searching line from p; -1 when it does not close on this line.
func closeQuote(line []byte, p int, q byte) int {
	for ; p < len(line); p++ {
		switch {
		case q == '"' && line[p] == '\\':
			p++
		case line[p] == q && q == '\'' && p+1 < len(line) && line[p+1] == '\'':
			p++
		case line[p] == q:
			return p + 1
		}
	}
	return -1
}
