package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Tenant-controlled text (waiver reasons, object names, file names, messages that quote
// them) reaches every format. A character that one format cannot carry (YAML and XML
// refuse most controls and U+FFFE), that a terminal obeys (escape sequences, carriage
// returns) or that reorders what is read (bidi controls) is written the same way in every
// format: as its Go escape (\x7f, \u0085, \ufffe, \U0001fffe; an invalid UTF-8 byte as
// \xNN). Newlines and tabs stay: every format carries them, and the table folds them.

// clean escapes the characters no format shows as they are.
func clean(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case escaped(r):
			writeEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || escaped(r) {
			return true
		}
		i += size
	}
	return false
}

// escaped: C0 controls but tab and newline, DEL, C1 controls, Unicode non-characters,
// the line and paragraph separators (YAML 1.1 breaks lines on them) and the bidi
// controls.
func escaped(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
		return true
	case r == 0x2028 || r == 0x2029, r == 0x200e || r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func writeEscape(b *strings.Builder, r rune) {
	switch {
	case r < 0x80:
		fmt.Fprintf(b, `\x%02x`, r)
	case r <= 0xffff:
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		fmt.Fprintf(b, `\U%08x`, r)
	}
}

// oneLine escapes the newlines and tabs of a field the table prints on one line (an
// object name, a reason), so tenant text cannot start a line of its own.
func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
}

// inert neutralises the GitHub Actions workflow commands a line of the table could carry,
// since the Action prints the table to the job log: the runner reads `::command::` at the
// start of a line after white space, and the legacy `##[command]` anywhere in it. A
// backslash breaks each, visibly.
func inert(line string) string {
	if rest := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(rest, "::") {
		line = line[:len(line)-len(rest)] + `\` + rest
	}
	return strings.ReplaceAll(line, "##[", `#\#[`)
}

// cleanFindings copies findings with their text escaped (the evaluation's own findings
// are left as they are).
func cleanFindings(in []auditor.Finding) []auditor.Finding {
	out := make([]auditor.Finding, len(in))
	for i, f := range in {
		f.Message, f.Remediation, f.Environment = clean(f.Message), clean(f.Remediation), clean(f.Environment)
		if f.Object != nil {
			o := *f.Object
			o.APIVersion, o.Kind, o.Namespace, o.Name = clean(o.APIVersion), clean(o.Kind), clean(o.Namespace), clean(o.Name)
			f.Object = &o
		}
		if f.Waiver != nil {
			w := *f.Waiver
			w.Reason = clean(w.Reason)
			f.Waiver = &w
		}
		if f.Location != nil {
			l := *f.Location
			l.File = clean(l.File)
			f.Location = &l
		}
		out[i] = f
	}
	return out
}

// cleanReasons copies the inconclusive reasons with their text escaped.
func cleanReasons(in map[string][]string) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for rule, reasons := range in {
		rs := make([]string, len(reasons))
		for i, r := range reasons {
			rs[i] = clean(r)
		}
		out[clean(rule)] = rs
	}
	return out
}
