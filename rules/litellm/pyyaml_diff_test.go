package litellm

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPyYAMLDifferential runs real PyYAML (yaml.safe_load, as LiteLLM loads its config)
// on the whole fuzz corpus and on generated inputs, and requires the reader to agree on
// every one: the same value of allow_requests_on_db_unavailable, or the same "does not
// load". Without python3 and PyYAML the test is skipped, except in CI (CI=true), where
// `make test` installs them.
func TestPyYAMLDifferential(t *testing.T) {
	python := pyYAML(t)
	var inputs [][]byte
	inputs = append(inputs, fuzzCorpus(t)...)
	inputs = append(inputs, generatedInputs()...)
	inputs = append(inputs, tabInputs()...)
	inputs = append(inputs, tagInputs()...)
	require.Greater(t, len(inputs), 1000)

	var stdin bytes.Buffer
	for _, in := range inputs {
		stdin.WriteString(base64.StdEncoding.EncodeToString(in))
		stdin.WriteByte('\n')
	}
	cmd := exec.Command(python, filepath.Join("testdata", "pyyaml_flag.py"))
	cmd.Stdin = &stdin
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	require.NoError(t, err, "the PyYAML oracle failed")
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, want, len(inputs), "the oracle answers once per input")

	mismatches := 0
	for i, in := range inputs {
		if got := goOutcome(in); got != want[i] {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("input %q: PyYAML/LiteLLM %s, reader %s", in, want[i], got)
			}
		}
	}
	require.Zero(t, mismatches, "of %d inputs", len(inputs))
}

// goOutcome is what the reader makes of an input, in the oracle's words.
func goOutcome(data []byte) string {
	c, err := Parse(data)
	if err != nil {
		return "error"
	}
	r := c.Setting(NoEnv{Why: "test"}, "general_settings", "allow_requests_on_db_unavailable")
	v, known := r.Lenient()
	switch {
	case !known:
		return "env"
	case v:
		return "true"
	}
	return "false"
}

// pyYAML returns python3 when it can import yaml.
func pyYAML(t *testing.T) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import yaml").Run()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3 with PyYAML is required in CI (make test installs python3-yaml): %v", err)
		}
		t.Skipf("python3 with PyYAML not available (make test installs python3-yaml): %v", err)
	}
	return python
}

// fuzzCorpus is every input of testdata/fuzz/FuzzParseConfig plus the fuzz seeds.
func fuzzCorpus(t *testing.T) [][]byte {
	t.Helper()
	out := make([][]byte, 0, 128)
	for _, s := range fuzzSeeds {
		out = append(out, []byte(s))
	}
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseConfig", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		require.Len(t, lines, 2, "%s: one []byte value after the header", f)
		require.Equal(t, "go test fuzz v1", lines[0], f)
		q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		s, err := strconv.Unquote(q)
		require.NoError(t, err, f)
		out = append(out, []byte(s))
	}
	return out
}

// lineBreaks are every line break PyYAML knows, and characters it does not take for one.
var lineBreaks = []string{"\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\n\u0085", "\r\u0085", "\u0085\n", "\v", "\f"}

// generatedInputs put each line break, and each directive, where an adversary would.
func generatedInputs() [][]byte {
	const key = "allow_requests_on_db_unavailable"
	var out [][]byte
	templates := []string{
		"general_settings:{B}  " + key + ": false # fail closed{B}  " + key + ": true{B}",
		"general_settings:{B}  " + key + ": false{B}  " + key + ": true{B}",
		"general_settings:{B}  " + key + ": true # x{B}  " + key + ": false{B}",
		"general_settings:{B}  # comment{B}  " + key + ": yes{B}",
		"general_settings: # c{B}  " + key + ": on{B}",
		"general_settings:{B}  " + key + ": 'tr{B}  ue'{B}",
		"general_settings:{B}  " + key + ": \"true{B}  \"{B}",
		"general_settings:{B}  " + key + ": \"fa{B}lse\"{B}",
		"general_settings:{B}  " + key + ": |{B}    true{B}",
		"general_settings:{B}  " + key + ": >-{B}    true{B}",
		"general_settings:{B}  " + key + ": >{B}    tr{B}    ue{B}",
		"general_settings:{B}  " + key + ":{B}    true{B}",
		"general_settings:{B}  " + key + ": tr{B}   ue{B}",
		"general_settings: {" + key + ": false,{B} " + key + ": true}{B}",
		"general_settings: {" + key + ": false # c{B}, " + key + ": true}{B}",
		"general_settings:{B}- " + key + ": true{B}",
		"general_settings:{B}  " + key + ": false{B}general_settings:{B}  " + key + ": true{B}",
		"general_settings:{B}  " + key + ": false{B}---{B}general_settings:{B}  " + key + ": true{B}",
		"general_settings:{B}  " + key + ": false{B}...{B}",
		"---{B}general_settings:{B}  " + key + ": true{B}...{B}",
		"--- # c{B}general_settings: {" + key + ": true}{B}",
		"general_settings:{B}  " + key + ": true{B}  # c{B}litellm_settings:{B}  cache: true{B}",
		"#c{B}general_settings:{B}    " + key + ": true{B}",
		"general_settings:{B}  " + key + ": !!bool 'yes'{B}",
		"general_settings:{B}  " + key + ": !!str true{B}",
		"? general_settings{B}: " + key + ": true{B}",
		"a: &a{B}  " + key + ": true{B}general_settings:{B}  <<: *a{B}",
		"general_settings:{B}\t" + key + ": true{B}",
		"general_settings:{B}  " + key + ": true #{B}#{B}",
		"general_settings:{B}  " + key + ": os.environ/ALLOW{B}",
	}
	for _, tpl := range templates {
		for _, b := range lineBreaks {
			out = append(out, []byte(strings.ReplaceAll(tpl, "{B}", b)))
			// One odd break among plain newlines, at each position in turn.
			parts := strings.Split(tpl, "{B}")
			for i := 1; i < len(parts); i++ {
				var s strings.Builder
				for j, p := range parts {
					if j > 0 {
						if j == i {
							s.WriteString(b)
						} else {
							s.WriteString("\n")
						}
					}
					s.WriteString(p)
				}
				out = append(out, []byte(s.String()))
			}
		}
	}
	body := "---\ngeneral_settings:\n  " + key + ": yes\n"
	for _, d := range []string{
		"%YAML 1.1\n", "%YAML 1.2\n", "%YAML 1.0\n", "%YAML 1.3 # c\n", "%YAML 2.0\n", "%YAML 0.9\n", "%YAML 01.01\n",
		"%YAML 1.1\n%YAML 1.1\n", "%YAML  1.2\n", "%YAML 1.2\u0085", "%YAML 1.2\r\n", "%YAML 1.1x\n", "%YAML 1\n", "%YAML\n",
		"%TAG ! tag:example.com,2000:\n", "%TAG !e! tag:example.com,2000:\n", "%TAG !! tag:example.com,2000:\n",
		"%TAG !e! tag:a:\n%TAG !e! tag:b:\n", "%TAG !e!\n", "%FOO bar baz\n", "%FOO\n", "%YAML 1.2\n%TAG !e! tag:a:\n",
		"%YAML 1.2\n---\n...\n%YAML 1.2\n", "# c\n%YAML 1.2\n", "\ufeff%YAML 1.2\n", "%YAML 1.2\n# c\n\n",
	} {
		out = append(out, []byte(d+body))
		out = append(out, []byte(d+"general_settings:\n  "+key+": yes\n"))
		out = append(out, []byte(d+"--- !e!x\ngeneral_settings:\n  "+key+": yes\n"))
		out = append(out, []byte(d+"---\ngeneral_settings:\n  "+key+": !e!bool yes\n"))
	}
	return out
}

// TestDirectivesAsPyYAML pins, without Python, what PyYAML does with directives: any
// %YAML 1.x loads (a warning), another major version fails, unknown directives are
// ignored, and directives need a `---` after them.
func TestDirectivesAsPyYAML(t *testing.T) {
	const body = "general_settings:\n  allow_requests_on_db_unavailable: yes\n"
	tests := map[string]struct{ in, want string }{
		"1.2 loads":                 {"%YAML 1.2\n---\n" + body, "true"},
		"1.0 with comment":          {"%YAML 1.0 # old\n---\n" + body, "true"},
		"leading zeros":             {"%YAML 01.01\n---\n" + body, "true"},
		"NEL ends the directive":    {"%YAML 1.2\u0085---\n" + body, "true"},
		"CRLF":                      {"%YAML 1.2\r\n---\r\n" + body, "true"},
		"BOM":                       {"\ufeff%YAML 1.2\n---\n" + body, "true"},
		"with TAG":                  {"%YAML 1.2\n%TAG !e! tag:a:\n---\n" + body, "true"},
		"unknown directive ignored": {"%FOO bar\n---\n" + body, "true"},
		"2.0 fails":                 {"%YAML 2.0\n---\n" + body, "error"},
		"duplicate fails":           {"%YAML 1.2\n%YAML 1.2\n---\n" + body, "error"},
		"no document start fails":   {"%YAML 1.2\n" + body, "error"},
		"unknown without start":     {"%FOO bar\n" + body, "error"},
		"malformed version fails":   {"%YAML 1.2x\n---\n" + body, "error"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, goOutcome([]byte(tc.in)))
		})
	}
}

// tabInputs put a tab where PyYAML refuses one (after a colon, a space, a value, a
// quote, an anchor, in indentation, in flow collections) and where it takes one (in
// quotes, block scalars, comments), beside every kind of value.
func tabInputs() [][]byte {
	const key = "allow_requests_on_db_unavailable"
	var out [][]byte
	vals := []string{"true", "false", "yes", "'true'", "\"true\"", "[true]", "{a: 1}", "# c", "", "*a", "&b true", "!!bool yes", "!!str true", "|\n    true",
		"\"tr\tue\"", "'a\tb'", "true # a\tb"}
	for _, sep := range []string{":\t", ": \t", ":\t ", ":  \t", ":\t\t"} {
		for _, v := range vals {
			out = append(out,
				[]byte("a: &a true\ngeneral_settings:\n  "+key+sep+v+"\n"),
				[]byte("general_settings: {"+key+sep+v+"}\n"),
				[]byte("general_settings:"+strings.TrimPrefix(sep, ":")+"\n  "+key+": "+v+"\n"),
				[]byte("general_settings:\n  - "+key+sep+v+"\n"),
				[]byte("general_settings:\n  ? "+key+"\n  "+sep+v+"\n"),
				[]byte("general_settings:\n  "+key+": "+v+sep+"x\n"),
				[]byte("general_settings:\n  "+key+":\t\n    "+v+"\n"),
				[]byte("general_settings:\n  "+key+": "+v+"\t# c\n"),
				[]byte("general_settings:\n  "+key+": "+v+"\n\t\n"),
				[]byte("general_settings:\n  x: |\n    a\n    \tb\n  "+key+": "+v+"\n"),
				[]byte("general_settings:\n  x: |\n    a\n   \tb\n  "+key+": "+v+"\n"),
				[]byte("general_settings:\n  x: 'a\n\tb'\n  "+key+": "+v+"\n"),
				[]byte("general_settings:\n  x: [a,\tb]\n  "+key+": "+v+"\n"),
				[]byte("general_settings:\n  x: a\tb\n  "+key+": "+v+"\n"),
			)
		}
	}
	return out
}

// tagInputs put each tag PyYAML's safe loader knows, a few it refuses, and the
// non-specific `!`, on the flag, on the section, on another key and on a key, with
// values each tag can and cannot construct.
func tagInputs() [][]byte {
	const key = "allow_requests_on_db_unavailable"
	var out [][]byte
	tags := []string{"!!bool", "!!int", "!!float", "!!null", "!!str", "!!binary", "!!timestamp", "!!map", "!!seq", "!!set", "!!omap", "!!pairs",
		"!!merge", "!!value", "!!yaml", "!", "!foo", "!<tag:yaml.org,2002:bool>", "!<tag:yaml.org,2002:str>", "!<!foo>", "!!python/none",
		"!!python/bool", "!!python/str", "!<tag:yaml.org,2002:python/bool>", "!!Bool", "!e!bool"}
	vals := []string{"yes", "true", "maybe", "'yes'", "\"true\"", "1", "0", "", "~", "[]", "{}", "[true]", "2001-12-14", "3.5", "abc",
		"aGVsbG8=", "yes=", "ab=cd", "|\n    yes"}
	for _, tg := range tags {
		for _, v := range vals {
			out = append(out,
				[]byte("general_settings:\n  "+key+": "+tg+" "+v+"\n"),
				[]byte("general_settings: "+tg+" {"+key+": "+v+"}\n"),
				[]byte("general_settings:\n  x: "+tg+" "+v+"\n  "+key+": true\n"),
				[]byte("general_settings:\n  "+tg+" "+key+": "+v+"\n"),
			)
		}
	}
	return out
}
