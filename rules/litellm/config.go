// Package litellm reads a LiteLLM proxy config.yaml the way the proxy does: PyYAML's
// yaml.safe_load (YAML 1.1 scalars, merge keys, later duplicate keys win), then
// LiteLLM's os.environ/ substitution and its boolean coercions (str_to_bool).
//
// It is pure: environment variables are answered by an Env the caller supplies, so the
// same reader serves the live cluster and manifests. Nothing here returns or formats a
// config value except the ones callers ask for, so error messages never carry secrets.
package litellm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ErrorKind says why a config cannot be used.
type ErrorKind string

const (
	// ErrSyntax: the text is not YAML (the proxy's yaml.safe_load raises a ScannerError or ParserError).
	ErrSyntax ErrorKind = "syntax"
	// ErrConstruct: valid YAML that PyYAML's safe loader refuses to construct (unknown tag,
	// unhashable key, bad merge, impossible date): yaml.safe_load raises.
	ErrConstruct ErrorKind = "construct"
	// ErrShape: loads, but not as LiteLLM needs it (empty, top level or a settings
	// section not a mapping): the proxy fails at startup.
	ErrShape ErrorKind = "shape"
)

// Error is a config the proxy cannot load, with where. Line and Column are 1-based; 0
// means unknown. Msg never contains a value from the config.
type Error struct {
	Kind         ErrorKind
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Config is a parsed LiteLLM config. Its zero value is not usable; call Parse.
type Config struct {
	root *yaml.Node
	// flat holds each mapping's key/value pairs after PyYAML's flatten_mapping (merge
	// keys expanded in place), computed on first use.
	flat map[*yaml.Node][]pair
	// expanded counts the pairs merge keys copied, against maxMergedPairs.
	expanded int
	// src is the text parsed, for positions as an editor shows them (position.go).
	src []byte
}

type pair struct{ k, v *yaml.Node }

// maxDepth mirrors the point where PyYAML's recursive constructor would give up
// (RecursionError) and keeps every walk here bounded.
const maxDepth = 1000

// Parse reads a config.yaml. Errors are *Error.
func Parse(data []byte) (cfg *Config, err error) {
	data = pyDirectives(data)
	root, err := parseYAML(data)
	if err != nil {
		if pe, ok := err.(*Error); ok && pe.Kind == ErrSyntax && pe.Column == 0 {
			pe.Line, pe.Column = locate(data, pe.Msg, pe.Line)
		}
		return nil, err
	}
	// PyYAML refuses tabs go-yaml reads as separation (tabs.go); syntax errors come
	// before construction errors, as yaml.safe_load composes the document first.
	if te := pyTab(data); te != nil {
		return nil, te
	}
	c := &Config{root: root, flat: map[*yaml.Node][]pair{}, src: data}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if root.Kind == yaml.ScalarNode && c.scalar(root).Kind == KindNull {
		return nil, &Error{Kind: ErrShape, Line: root.Line, Column: root.Column, Msg: "the document is empty: yaml.safe_load returns None and the proxy fails at startup"}
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Kind: ErrShape, Line: root.Line, Column: root.Column, Msg: fmt.Sprintf("the top level is %s, not a mapping", c.value(root).Kind.Article())}
	}
	// Sections the proxy iterates with .get/.items at startup: a truthy non-mapping
	// raises AttributeError there.
	for _, sec := range []string{"general_settings", "litellm_settings", "environment_variables"} {
		v, ok := c.Root().Get(sec)
		if ok && v.Kind != KindMapping && v.Kind != KindNull && v.Truthy() {
			return nil, &Error{Kind: ErrShape, Line: v.Line, Column: v.Column, Msg: fmt.Sprintf("%s is %s, not a mapping: the proxy fails at startup", sec, v.Kind.Article())}
		}
	}
	return c, nil
}

// parseYAML runs the YAML parser and insists on exactly one document, as
// yaml.safe_load does. The parser's internal-error panics become errors.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Kind: ErrSyntax, Msg: "the YAML parser failed on this input"}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Kind: ErrShape, Line: 1, Column: 1, Msg: "the document is empty: yaml.safe_load returns None and the proxy fails at startup"}
		}
		line, msg := splitYAMLError(err)
		return nil, &Error{Kind: ErrSyntax, Line: line, Msg: msg}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		line, msg := splitYAMLError(err)
		return nil, &Error{Kind: ErrSyntax, Line: line, Msg: msg}
	default:
		return nil, &Error{Kind: ErrSyntax, Line: next.Line, Column: next.Column, Msg: "expected a single document in the stream, but found another document"}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{Kind: ErrShape, Line: 1, Column: 1, Msg: "the document is empty: yaml.safe_load returns None and the proxy fails at startup"}
	}
	return doc.Content[0], nil
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// splitYAMLError turns "yaml: line 3: did not find expected key" into (3, "did not ...").
func splitYAMLError(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, strings.TrimSpace(msg[len(m[0]):])
	}
	return 0, msg
}

// parseMsg parses data and returns the parser's message, "" when it parses.
func parseMsg(data []byte) (msg string) {
	defer func() {
		if recover() != nil {
			msg = "the YAML parser failed on this input"
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; i < 2; i++ {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return ""
			}
			_, m := splitYAMLError(err)
			return m
		}
	}
	return ""
}

// Probe budgets for locate: each probe re-parses a prefix of the document.
const (
	maxProbes      = 400
	maxProbeLine   = 512
	maxProbeDocLen = 256 << 10
)

// locate finds where the parser fails, since go-yaml reports only a line (and often the
// line where the enclosing block started): the shortest prefix of the document that
// fails with the same message ends at the offending character. Without a budget for
// that it returns the reported line and its first non-blank column.
func locate(data []byte, msg string, reported int) (line, col int) {
	starts, ends := lineBounds(data)
	end := func(l int) int { return ends[l-1] } // offset just past line l (1-based), without its break
	// Columns count characters, as the YAML parsers do.
	column := func(start, stop int) int { return utf8.RuneCount(data[start:stop]) + 1 }
	fallback := func(l int) (int, int) {
		if l < 1 || l > len(starts) {
			return l, 0
		}
		text := data[starts[l-1]:end(l)]
		return l, column(starts[l-1], end(l)-len(bytes.TrimLeft(text, " \t")))
	}
	if reported < 1 {
		reported = 1
	}
	if len(data) > maxProbeDocLen || msg == "" {
		return fallback(reported)
	}
	probes := 0
	found := 0
	for l := reported; l <= len(starts) && probes < maxProbes; l++ {
		probes++
		if parseMsg(data[:end(l)]) == msg {
			found = l
			break
		}
	}
	if found == 0 {
		return fallback(reported)
	}
	start := starts[found-1]
	if end(found)-start > maxProbeLine {
		return fallback(found)
	}
	for off := start; off < end(found) && probes < maxProbes; {
		_, size := utf8.DecodeRune(data[off:])
		off += size
		probes++
		if parseMsg(data[:off]) == msg {
			return found, column(start, off) - 1
		}
	}
	return fallback(found)
}

// lineBounds splits data into lines the way YAML counts them: \r\n, \r, \n, and the
// Unicode breaks NEL, LS and PS each end a line.
func lineBounds(data []byte) (starts, ends []int) {
	starts = []int{0}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		brk := 0
		switch {
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
			brk = 2
		case r == '\r', r == '\n', r == 0x85, r == 0x2028, r == 0x2029:
			brk = size
		}
		if brk > 0 {
			ends = append(ends, i)
			starts = append(starts, i+brk)
			i += brk
			continue
		}
		i += size
	}
	ends = append(ends, len(data))
	return starts, ends
}
