package litellm

import "bytes"

// pyDirectives rewrites the directives before the first document the way PyYAML reads
// them, keeping every byte offset: PyYAML accepts any %YAML 1.x (a minor version other
// than 1 is only a warning) where go-yaml accepts only 1.1, and it ignores directives
// it does not know (%FOO) where go-yaml refuses them. A %YAML 1.x becomes %YAML 1.1
// padded with spaces; an unknown directive becomes a comment, unless no `---` follows
// the directives (PyYAML then fails, and so does go-yaml on the original text).
func pyDirectives(data []byte) []byte {
	starts, ends := lineBounds(data)
	var out []byte
	for i, start := range starts {
		line := data[start:ends[i]]
		if i == 0 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
			start = ends[i] - len(line)
		}
		switch {
		case len(bytes.TrimLeft(line, " \t")) == 0 || bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("#")):
			continue
		case bytes.HasPrefix(line, []byte("---")) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t'):
			if out == nil {
				return data
			}
			return out
		case line[0] != '%':
			// A document without a start marker: with directives before it, both fail.
			return data
		}
		name, rest := directiveName(line[1:])
		if name == "" || len(rest) > 0 && rest[0] != ' ' {
			return data // PyYAML and go-yaml both fail on a malformed directive name
		}
		switch name {
		case "TAG":
			continue
		case "YAML":
			off, n := yamlVersion(rest)
			if n == 0 {
				continue // malformed: both fail
			}
			if out == nil {
				out = append([]byte(nil), data...)
			}
			at := start + 1 + len(name) + off
			copy(out[at:at+n], append([]byte("1.1"), bytes.Repeat([]byte(" "), n-3)...))
		default:
			if out == nil {
				out = append([]byte(nil), data...)
			}
			out[start] = '#'
		}
	}
	return data
}

// directiveName splits a directive line after its % into the name (PyYAML's
// scan_directive_name: letters, digits, - and _) and the rest.
func directiveName(b []byte) (string, []byte) {
	i := 0
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] >= 'A' && b[i] <= 'Z' || b[i] >= 'a' && b[i] <= 'z' || b[i] == '-' || b[i] == '_') {
		i++
	}
	return string(b[:i]), b[i:]
}

// yamlVersion finds, in what follows %YAML, a version PyYAML accepts (spaces, digits,
// a dot, digits, then a space or the end of the line) whose major number is 1. It
// returns the version's offset and length, length 0 when there is none.
func yamlVersion(b []byte) (off, n int) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i == 0 {
		return 0, 0
	}
	off = i
	major := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if string(bytes.TrimLeft(b[major:i], "0")) != "1" || i >= len(b) || b[i] != '.' {
		return 0, 0
	}
	i++
	minor := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == minor || i < len(b) && b[i] != ' ' {
		return 0, 0
	}
	return off, i - off
}
