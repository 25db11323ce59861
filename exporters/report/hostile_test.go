package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// hostileEvaluation is the sample evaluation with text a tenant controls: the waiver
// reason, an object name, a file name and an inconclusive reason.
func hostileEvaluation(text string) (*auditor.Evaluation, []auditor.RuleMeta) {
	ev, metas := sampleEvaluation()
	ev.Findings[2].Waiver.Reason = text
	ev.Findings[1].Object.Name = "train-" + text
	ev.Findings[1].Location.File = "jobs/" + text + ".yaml"
	ev.Findings[0].Message = "no NetworkPolicy in " + text
	ev.Inconclusive["gpu-pod-not-admitted"] = []string{text}
	return ev, metas
}

// TestTableWorkflowCommandsInert: text a tenant writes (a waiver reason, an object name)
// cannot become a GitHub Actions workflow command in the table the Action prints: no line
// starts, after white space, with ::, and no line holds ##[ .
func TestTableWorkflowCommandsInert(t *testing.T) {
	for name, text := range map[string]string{
		"add-mask":                "::add-mask::x",
		"legacy error":            "##[error]boom",
		"both, after a newline":   "ok\n::add-mask::x\n  ##[error]boom",
		"stop-commands":           "::stop-commands::pwned",
		"after a carriage return": "ok\r::error::boom",
		"after tabs":              "\t\t::warning::x",
		"after Unicode spaces":    "\u00a0\u2003::error::x",
	} {
		t.Run(name, func(t *testing.T) {
			ev, metas := hostileEvaluation(text)
			var b bytes.Buffer
			require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteTable(&b))
			for line := range strings.Lines(b.String()) {
				assert.False(t, strings.HasPrefix(strings.TrimLeft(line, " \t\u00a0\u2003"), "::"), "a workflow command: %q", line)
				assert.NotContains(t, line, "##[", "a legacy workflow command")
				assert.NotContains(t, line, "\r", "a carriage return rewrites the line on a terminal")
			}
		})
	}
	// Word-wrapped so that the command starts a line: still shown, neutralised.
	long := strings.Repeat("a", 95) + " ::add-mask::x ##[error]boom"
	ev, metas := hostileEvaluation(long)
	var b bytes.Buffer
	require.NoError(t, New(ev, auditor.SeverityHigh, metas).WriteTable(&b))
	assert.Contains(t, b.String(), "\n            \\::add-mask::x #\\#[error]boom\n", "the wrapped waiver reason")
	assert.Contains(t, b.String(), "Pod/team-a/train-"+strings.Repeat("a", 95)+` ::add-mask::x #\#[error]boom`, "the object name, on its line")
}

// hostileTexts are characters no format may carry raw, or that used to make a format fail
// after others were written (DEL and U+FFFE: -o policyreport exited 2).
var hostileTexts = map[string]string{
	"DEL":                    "a\x7fb",
	"U+FFFE":                 "a\ufffeb",
	"U+FFFF and U+1FFFE":     "a\uffffb\U0001fffec",
	"non-character FDD0":     "a\ufdd0b",
	"C0 controls":            "a\x00b\x01c\x1bd[31m\x08e",
	"C1 controls":            "a\u0080b\u0085c\u009bd",
	"carriage return":        "a\rb",
	"line separator":         "a\u2028b\u2029c",
	"bidi override":          "a\u202eb\u2066c",
	"invalid UTF-8":          "a\xffb\xc3",
	"encoded lone surrogate": "a\xed\xa0\x80b",
	"everything":             "\x7f\ufffe\x00\u0085\r\xff::add-mask::x ##[error]boom",
}

// readers parse each format with the reader its consumers use; text formats are checked
// for raw control characters.
var readers = map[string]func([]byte) error{
	"table":  checkTable,
	"github": checkText,
	"json":   func(b []byte) error { var v any; return json.Unmarshal(b, &v) },
	"sarif":  func(b []byte) error { var v any; return json.Unmarshal(b, &v) },
	"junit": func(b []byte) error {
		var v junitSuites
		return xml.Unmarshal(b, &v)
	},
	"policyreport": func(b []byte) error {
		dec := yamlv3.NewDecoder(bytes.NewReader(b))
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	},
}

// checkTable: text, and no line a workflow command.
func checkTable(b []byte) error {
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[") {
			return errors.New("a workflow command: " + line)
		}
	}
	return checkText(b)
}

func checkText(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("not UTF-8")
	}
	for _, r := range string(b) {
		if r != '\n' && r != '\t' && escaped(r) {
			return errors.New("raw control character " + string(r))
		}
	}
	return nil
}

// TestFormatsEscapeControlCharacters: every format renders tenant text with control
// characters and non-characters, its output parses with the format's reader, and the
// characters come out as the same escapes in every format.
func TestFormatsEscapeControlCharacters(t *testing.T) {
	require.Len(t, readers, len(Formats), "a reader per format")
	for name, text := range hostileTexts {
		t.Run(name, func(t *testing.T) {
			ev, metas := hostileEvaluation(text)
			rep := New(ev, auditor.SeverityHigh, metas)
			want := clean(text)
			require.NotEqual(t, text, want, "the text needs escaping")
			for _, format := range Formats {
				var b bytes.Buffer
				require.NoError(t, rep.Write(format, &b), format)
				require.NoError(t, readers[format](b.Bytes()), "%s output does not parse:\n%s", format, b.String())
				assert.True(t, utf8.Valid(b.Bytes()), "%s is UTF-8", format)
			}
			// The waiver reason, read back from the machine formats, is the escaped text.
			var js struct {
				Findings []struct{ Waiver *auditor.Waiver }
			}
			var b bytes.Buffer
			require.NoError(t, rep.WriteJSON(&b))
			require.NoError(t, json.Unmarshal(b.Bytes(), &js))
			assert.Equal(t, want, js.Findings[2].Waiver.Reason)
			b.Reset()
			require.NoError(t, rep.WriteJUnit(&b))
			var ju junitSuites
			require.NoError(t, xml.Unmarshal(b.Bytes(), &ju))
			assert.Equal(t, "waived: "+want, ju.Suites[2].Cases[0].Skipped.Message)
		})
	}
	// The same escapes everywhere: DEL and U+FFFE as \x7f and \ufffe.
	ev, metas := hostileEvaluation("a\x7fb\ufffec")
	rep := New(ev, auditor.SeverityHigh, metas)
	for _, format := range Formats {
		var b bytes.Buffer
		require.NoError(t, rep.Write(format, &b))
		out := strings.ReplaceAll(b.String(), `\\`, `\`) // JSON writes a backslash as \\
		assert.Contains(t, out, `a\x7fb\ufffec`, format)
	}
}

// FuzzFormats: whatever a tenant writes in a waiver reason, every format renders it and
// its reader parses the output.
func FuzzFormats(f *testing.F) {
	for _, text := range hostileTexts {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ev, metas := hostileEvaluation(text)
		rep := New(ev, auditor.SeverityHigh, metas)
		for _, format := range Formats {
			var b bytes.Buffer
			if err := rep.Write(format, &b); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if err := readers[format](b.Bytes()); err != nil {
				t.Fatalf("%s output does not parse: %v\n%s", format, err, b.String())
			}
		}
	})
}
