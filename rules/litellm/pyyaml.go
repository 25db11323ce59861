package litellm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind is the Python type PyYAML's safe loader constructs for a node.
type Kind int

const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindTimestamp
	KindBinary
	KindSequence
	KindMapping
	// KindOther: !!set, !!omap, !!pairs.
	KindOther
)

var kindNames = []string{"null", "boolean", "integer", "float", "string", "timestamp", "binary", "sequence", "mapping", "collection"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "value"
	}
	return kindNames[k]
}

// Article is the name with its indefinite article: "an integer", "a string".
func (k Kind) Article() string {
	if k == KindInt {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// Value is one node as PyYAML constructs it, with where and how it was written.
type Value struct {
	Kind Kind
	// Bool is the value of a KindBool.
	Bool bool
	// Str is the Python str of a KindString; for other scalars the source text.
	Str string
	// Style is how the scalar was written: plain, double-quoted, single-quoted,
	// literal, folded; "" for collections.
	Style string
	// Tag is the explicit tag (e.g. "!!str"), "" when none.
	Tag          string
	Line, Column int
	// Alias is the anchor name when the value was reached through an alias (*name), and
	// AliasLine/AliasColumn where that alias is written; Line and Column are the anchor's.
	Alias                  string
	AliasLine, AliasColumn int

	node *yaml.Node
	cfg  *Config
}

// PyYAML's implicit resolvers (yaml/resolver.py, Resolver), YAML 1.1. Note `y`/`n` are
// strings and `1e3` is a string (a float needs a dot).
var (
	reBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reTime  = regexp.MustCompile(`^(?:([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?)$`)
	// The date-only form must have two-digit month and day to resolve implicitly.
	reDate = regexp.MustCompile(`^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$`)
)

// implicitTag resolves a plain scalar as PyYAML does.
func implicitTag(s string) string {
	switch {
	case s == "":
		return "!!null"
	case reBool.MatchString(s):
		return "!!bool"
	case reFloat.MatchString(s):
		return "!!float"
	case reInt.MatchString(s):
		return "!!int"
	case s == "<<":
		return "!!merge"
	case reNull.MatchString(s):
		return "!!null"
	case reDate.MatchString(s) || (reTime.MatchString(s) && strings.ContainsAny(s, ":")):
		return "!!timestamp"
	case s == "=":
		return "!!value"
	}
	return "!!str"
}

func style(n *yaml.Node) string {
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return "double-quoted"
	case n.Style&yaml.SingleQuotedStyle != 0:
		return "single-quoted"
	case n.Style&yaml.LiteralStyle != 0:
		return "literal"
	case n.Style&yaml.FoldedStyle != 0:
		return "folded"
	}
	return "plain"
}

// tagOf returns the tag PyYAML constructs a node with, and whether it was explicit.
func tagOf(n *yaml.Node) (string, bool) {
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != "" {
		return n.Tag, true
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "!!map", false
	case yaml.SequenceNode:
		return "!!seq", false
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return "!!str", false
	}
	return implicitTag(n.Value), false
}

// tagOf is the package's tagOf with the non-specific tag `!` on a quoted or block
// scalar, which go-yaml drops, resolved as PyYAML's parser does: like a plain scalar,
// with Python's `$` in the resolver patterns matching before a final line break.
func (c *Config) tagOf(n *yaml.Node) (string, bool) {
	tag, explicit := tagOf(n)
	if explicit || tag != "!!str" || n.Kind != yaml.ScalarNode || n.Style == 0 || !c.nonSpecific(n) {
		return tag, explicit
	}
	if t := implicitTag(n.Value); t != "!!str" {
		return t, false
	}
	if v, ok := strings.CutSuffix(n.Value, "\n"); ok {
		return implicitTag(v), false
	}
	return "!!str", false
}

// deref follows aliases (bounded: an alias always names an earlier node).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func (c *Config) scalar(n *yaml.Node) Value {
	v := Value{Str: n.Value, Style: style(n), Line: n.Line, Column: n.Column, node: n, cfg: c}
	tag, explicit := c.tagOf(n)
	if c.nonSpecific(n) {
		v.Tag = "!"
	}
	if explicit {
		v.Tag = tag
	}
	switch tag {
	case "!!null":
		v.Kind = KindNull
	case "!!bool":
		v.Kind = KindBool
		b, _ := pyBool(n.Value)
		v.Bool = b
	case "!!int":
		v.Kind = KindInt
	case "!!float":
		v.Kind = KindFloat
	case "!!timestamp":
		v.Kind = KindTimestamp
	case "!!binary":
		v.Kind = KindBinary
	default:
		v.Kind = KindString
	}
	return v
}

// value builds the Value of a node (aliases followed, the first alias remembered).
func (c *Config) value(n *yaml.Node) Value {
	v := c.derefValue(n)
	if n != nil && n.Kind == yaml.AliasNode {
		v.Alias, v.AliasLine, v.AliasColumn = n.Value, n.Line, n.Column
	}
	return v
}

func (c *Config) derefValue(n *yaml.Node) Value {
	n = deref(n)
	if n == nil {
		return Value{Kind: KindNull, cfg: c}
	}
	if n.Kind == yaml.ScalarNode {
		return c.scalar(n)
	}
	v := Value{Line: n.Line, Column: n.Column, node: n, cfg: c}
	tag, explicit := tagOf(n)
	if explicit {
		v.Tag = tag
	}
	switch {
	case n.Kind == yaml.MappingNode && (tag == "!!map"):
		v.Kind = KindMapping
	case n.Kind == yaml.SequenceNode && tag == "!!seq":
		v.Kind = KindSequence
	default:
		v.Kind = KindOther
	}
	return v
}

// pyBool is SafeConstructor.construct_yaml_bool: bool_values[value.lower()].
func pyBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true, true
	case "no", "false", "off":
		return false, true
	}
	return false, false
}

// Root is the top-level mapping.
func (c *Config) Root() Value { return c.value(c.root) }

// Lookup follows a path of mapping keys from the top level.
func (c *Config) Lookup(path ...string) (Value, bool) {
	v := c.Root()
	for _, k := range path {
		var ok bool
		if v, ok = v.Get(k); !ok {
			return Value{}, false
		}
	}
	return v, true
}

// Get returns the value of a string key of a mapping as a Python dict holds it: merge
// keys expanded, the later of duplicate keys winning. ok is false when v is not a
// mapping or has no such key.
func (v Value) Get(key string) (Value, bool) {
	if v.Kind != KindMapping || v.cfg == nil {
		return Value{}, false
	}
	pairs, err := v.cfg.pairs(v.node, 0)
	if err != nil {
		return Value{}, false
	}
	for i := len(pairs) - 1; i >= 0; i-- {
		k := deref(pairs[i].k)
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		if kv := v.cfg.scalar(k); kv.Kind == KindString && kv.Str == key {
			return v.cfg.value(pairs[i].v), true
		}
	}
	return Value{}, false
}

// Len is the number of entries of a mapping (distinct keys are not computed: it is
// only ever compared with zero) or items of a sequence.
func (v Value) Len() int {
	switch {
	case v.node != nil && v.node.Kind == yaml.MappingNode && v.cfg != nil:
		// A mapping, or a !!set written as one (PyYAML builds a set of its keys).
		p, _ := v.cfg.pairs(v.node, 0)
		return len(p)
	case v.node != nil && v.node.Kind == yaml.SequenceNode:
		return len(v.node.Content)
	}
	return 0
}

// Items returns the items of a sequence.
func (v Value) Items() []Value {
	if v.Kind != KindSequence || v.node == nil {
		return nil
	}
	out := make([]Value, 0, len(v.node.Content))
	for _, n := range v.node.Content {
		out = append(out, v.cfg.value(n))
	}
	return out
}

// Truthy is Python's bool() of the constructed value.
func (v Value) Truthy() bool {
	switch v.Kind {
	case KindNull:
		return false
	case KindBool:
		return v.Bool
	case KindString, KindBinary:
		return v.Str != ""
	case KindInt:
		n := strings.TrimLeft(strings.NewReplacer("_", "", "0b", "", "0x", "", "-", "", "+", "", ":", "").Replace(v.Str), "0")
		return n != ""
	case KindFloat:
		f, err := strconv.ParseFloat(strings.ReplaceAll(v.Str, "_", ""), 64)
		return err != nil || f != 0
	case KindMapping, KindSequence, KindOther:
		return v.Len() > 0
	}
	return true
}

// Describe says how a scalar was written, for messages: `plain "yes"`. Callers use it
// only for values that cannot be secrets (booleans, flags).
func (v Value) Describe() string {
	if v.node == nil || v.node.Kind != yaml.ScalarNode {
		return v.Kind.String()
	}
	d := fmt.Sprintf("%s %q", v.Style, v.Str)
	if v.Tag != "" {
		d = v.Tag + " " + d
	}
	return d
}

// pairs is PyYAML's SafeConstructor.flatten_mapping: merge keys are removed and the
// pairs they merge are put first (for a list of mappings, earlier ones last, so they
// win), the mapping's own pairs after them, so own keys override merged ones. Like
// PyYAML it works in place, so a mapping that merges itself terminates.
func (c *Config) pairs(n *yaml.Node, depth int) ([]pair, error) {
	if depth > maxDepth {
		return nil, &Error{Kind: ErrConstruct, Line: n.Line, Column: n.Column, Msg: "merge keys nest too deeply"}
	}
	if p, ok := c.flat[n]; ok {
		return p, nil
	}
	own := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		own = append(own, pair{n.Content[i], n.Content[i+1]})
	}
	c.flat[n] = own
	var merge []pair
	for i := 0; i < len(c.flat[n]); {
		cur := c.flat[n]
		k := deref(cur[i].k)
		if k == nil || k.Kind != yaml.ScalarNode {
			i++
			continue
		}
		if t, _ := tagOf(k); t != "!!merge" {
			i++
			continue
		}
		val := deref(cur[i].v)
		rest := make([]pair, 0, len(cur)-1)
		rest = append(append(rest, cur[:i]...), cur[i+1:]...)
		c.flat[n] = rest
		if val == nil {
			return nil, &Error{Kind: ErrConstruct, Line: k.Line, Column: k.Column, Msg: "expected a mapping or list of mappings for merging"}
		}
		switch val.Kind {
		case yaml.MappingNode:
			p, err := c.pairs(val, depth+1)
			if err != nil {
				return nil, err
			}
			merge = append(merge, p...)
		case yaml.SequenceNode:
			var sub [][]pair
			for _, item := range val.Content {
				m := deref(item)
				if m == nil || m.Kind != yaml.MappingNode {
					line, col := val.Line, val.Column
					if m != nil {
						line, col = m.Line, m.Column
					}
					return nil, &Error{Kind: ErrConstruct, Line: line, Column: col, Msg: "expected a mapping for merging"}
				}
				p, err := c.pairs(m, depth+1)
				if err != nil {
					return nil, err
				}
				sub = append(sub, p)
			}
			for j := len(sub) - 1; j >= 0; j-- {
				merge = append(merge, sub[j]...)
			}
		default:
			return nil, &Error{Kind: ErrConstruct, Line: val.Line, Column: val.Column, Msg: "expected a mapping or list of mappings for merging"}
		}
	}
	if len(merge) > 0 {
		// Merges of merges multiply: a few lines can expand to billions of pairs.
		if c.expanded += len(merge); c.expanded > maxMergedPairs {
			return nil, &Error{Kind: ErrConstruct, Line: n.Line, Column: n.Column, Msg: "merge keys expand to too many entries"}
		}
		c.flat[n] = append(append(make([]pair, 0, len(merge)+len(c.flat[n])), merge...), c.flat[n]...)
	}
	return c.flat[n], nil
}

// maxMergedPairs bounds the pairs merge keys may copy in one document.
const maxMergedPairs = 1 << 16
