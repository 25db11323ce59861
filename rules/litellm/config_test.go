package litellm

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapEnv is a test Env: names absent from the map are unset; "?" values are unknown.
type mapEnv map[string]string

func (m mapEnv) Lookup(name string) EnvValue {
	v, ok := m[name]
	switch {
	case !ok:
		return EnvValue{State: EnvUnset}
	case v == "?":
		return EnvValue{State: EnvUnknown, Why: "Secret litellm/flags key " + name}
	}
	return EnvValue{State: EnvSet, Value: v, Source: "test env " + name}
}

func allow(t *testing.T, doc string, env Env) (value, known bool) {
	t.Helper()
	c, err := Parse([]byte(doc))
	require.NoError(t, err)
	return c.Setting(env, "general_settings", "allow_requests_on_db_unavailable").Lenient()
}

// TestAllowRequestsOnDBUnavailable pins should_allow_request_on_db_unavailable over
// PyYAML's YAML 1.1 scalars and LiteLLM's str_to_bool.
func TestAllowRequestsOnDBUnavailable(t *testing.T) {
	cases := map[string]struct {
		value string // the YAML text after the key
		env   mapEnv
		want  bool
		known bool
	}{
		"plain true":                {value: "true", want: true, known: true},
		"plain True":                {value: "True", want: true, known: true},
		"plain TRUE":                {value: "TRUE", want: true, known: true},
		"plain yes":                 {value: "yes", want: true, known: true},
		"plain Yes":                 {value: "Yes", want: true, known: true},
		"plain YES":                 {value: "YES", want: true, known: true},
		"plain on":                  {value: "on", want: true, known: true},
		"plain On":                  {value: "On", want: true, known: true},
		"plain ON":                  {value: "ON", want: true, known: true},
		"plain yEs is a string":     {value: "yEs", want: false, known: true},
		"plain y is a string":       {value: "y", want: false, known: true},
		"plain Y is a string":       {value: "Y", want: false, known: true},
		"plain n is a string":       {value: "n", want: false, known: true},
		"plain false":               {value: "false", want: false, known: true},
		"plain no":                  {value: "no", want: false, known: true},
		"plain off":                 {value: "off", want: false, known: true},
		"plain 1 is an int":         {value: "1", want: false, known: true},
		"null":                      {value: "~", want: false, known: true},
		"empty value is null":       {value: "", want: false, known: true},
		"double-quoted true":        {value: `"true"`, want: true, known: true},
		"single-quoted True":        {value: `'True'`, want: true, known: true},
		"quoted padded TRUE":        {value: `" TRUE "`, want: true, known: true},
		"quoted yes is false":       {value: `"yes"`, want: false, known: true},
		"quoted on is false":        {value: `'on'`, want: false, known: true},
		"quoted 1 is false":         {value: `"1"`, want: false, known: true},
		"literal block true":        {value: "|\n    true", want: true, known: true},
		"explicit str yes":          {value: "!!str yes", want: false, known: true},
		"explicit str true":         {value: "!!str true", want: true, known: true},
		"explicit bool quoted yes":  {value: `!!bool "yes"`, want: true, known: true},
		"sequence":                  {value: "[true]", want: false, known: true},
		"env true":                  {value: "os.environ/ALLOW", env: mapEnv{"ALLOW": "true"}, want: true, known: true},
		"env padded True":           {value: "os.environ/ALLOW", env: mapEnv{"ALLOW": " True\n"}, want: true, known: true},
		"env yes is false":          {value: "os.environ/ALLOW", env: mapEnv{"ALLOW": "yes"}, want: false, known: true},
		"env 1 is false":            {value: "os.environ/ALLOW", env: mapEnv{"ALLOW": "1"}, want: false, known: true},
		"env unset is false":        {value: "os.environ/ALLOW", env: mapEnv{}, want: false, known: true},
		"env unknown":               {value: "os.environ/ALLOW", env: mapEnv{"ALLOW": "?"}, want: false, known: false},
		"quoted env ref":            {value: `"os.environ/ALLOW"`, env: mapEnv{"ALLOW": "TRUE"}, want: true, known: true},
		"env name with repeats":     {value: "os.environ/os.environ/ALLOW", env: mapEnv{"ALLOW": "true"}, want: true, known: true},
		"env prefix not at start":   {value: "x-os.environ/ALLOW", env: mapEnv{"ALLOW": "true"}, want: false, known: true},
		"oidc reference is a token": {value: "os.environ/oidc/env/ALLOW", env: mapEnv{"ALLOW": "true"}, want: false, known: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, known := allow(t, "general_settings:\n  allow_requests_on_db_unavailable: "+tc.value+"\n", tc.env)
			assert.Equal(t, tc.known, known)
			assert.Equal(t, tc.want, got)
		})
	}
	t.Run("absent", func(t *testing.T) {
		got, known := allow(t, "general_settings:\n  master_key: os.environ/KEY\n", nil)
		assert.True(t, known)
		assert.False(t, got)
	})
}

// TestMappingSemantics pins how PyYAML builds the dict LiteLLM reads: duplicates,
// anchors, merge keys.
func TestMappingSemantics(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want bool
	}{
		"later duplicate wins":          {doc: "general_settings:\n  allow_requests_on_db_unavailable: false\n  allow_requests_on_db_unavailable: yes\n", want: true},
		"later duplicate wins (false)":  {doc: "general_settings:\n  allow_requests_on_db_unavailable: yes\n  allow_requests_on_db_unavailable: false\n", want: false},
		"duplicate section: later wins": {doc: "general_settings:\n  allow_requests_on_db_unavailable: true\ngeneral_settings:\n  master_key: x\n", want: false},
		"quoted key equals plain key":   {doc: "general_settings:\n  allow_requests_on_db_unavailable: false\n  \"allow_requests_on_db_unavailable\": on\n", want: true},
		"alias to a boolean":            {doc: "x: &t yes\ngeneral_settings:\n  allow_requests_on_db_unavailable: *t\n", want: true},
		"alias to a section":            {doc: "base: &b\n  allow_requests_on_db_unavailable: on\ngeneral_settings: *b\n", want: true},
		"merge key":                     {doc: "base: &b\n  allow_requests_on_db_unavailable: on\ngeneral_settings:\n  <<: *b\n", want: true},
		"own key overrides merge":       {doc: "base: &b\n  allow_requests_on_db_unavailable: on\ngeneral_settings:\n  allow_requests_on_db_unavailable: false\n  <<: *b\n", want: false},
		"first of merge list wins":      {doc: "a: &a {allow_requests_on_db_unavailable: yes}\nb: &b {allow_requests_on_db_unavailable: no}\ngeneral_settings:\n  <<: [*a, *b]\n", want: true},
		"later merge key wins":          {doc: "a: &a {allow_requests_on_db_unavailable: yes}\nb: &b {allow_requests_on_db_unavailable: no}\ngeneral_settings:\n  <<: *a\n  <<: *b\n", want: false},
		"nested merge":                  {doc: "a: &a {allow_requests_on_db_unavailable: yes}\nb: &b {<<: *a}\ngeneral_settings: {<<: *b}\n", want: true},
		"quoted << is a plain key":      {doc: "a: &a {allow_requests_on_db_unavailable: yes}\ngeneral_settings:\n  \"<<\": *a\n", want: false},
		"self-merge terminates":         {doc: "general_settings: &g\n  allow_requests_on_db_unavailable: yes\n  <<: *g\n", want: true},
		"boolean key is not the string": {doc: "general_settings:\n  allow_requests_on_db_unavailable: yes\ntrue: 1\n", want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, known := allow(t, tc.doc, nil)
			assert.True(t, known)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestParseErrors: every input the proxy cannot load is an *Error with its kind and
// position; never a panic.
func TestParseErrors(t *testing.T) {
	cases := map[string]struct {
		doc        string
		kind       ErrorKind
		line, col  int
		msgContain string
	}{
		"bad indentation":                  {doc: "general_settings:\n  master_key: x\n  allow: yes\n bad: 1\n", kind: ErrSyntax, line: 4, col: 2, msgContain: "did not find expected key"},
		"mapping in plain":                 {doc: "a: b: c\n", kind: ErrSyntax, line: 1, col: 5, msgContain: "mapping values are not allowed"},
		"columns count runes":              {doc: "é: ü: c\n", kind: ErrSyntax, line: 1, col: 5, msgContain: "mapping values are not allowed"},
		"CRLF line breaks":                 {doc: "a: 1\r\n  b: 2\r\n", kind: ErrSyntax, line: 2, col: 4, msgContain: "mapping values are not allowed"},
		"CR line breaks":                   {doc: "\"0\r\r", kind: ErrSyntax, line: 3, col: 1, msgContain: "end of stream"},
		"tab indentation":                  {doc: "a:\n\tb: 1\n", kind: ErrSyntax, line: 2, col: 1, msgContain: "cannot start any token"},
		"tab after colon":                  {doc: "general_settings:\n  allow_requests_on_db_unavailable:\ttrue\n", kind: ErrSyntax, line: 2, col: 36, msgContain: "found character '\\t' that cannot start any token"},
		"tab after colon, flow":            {doc: "general_settings: {allow_requests_on_db_unavailable:\ttrue}\n", kind: ErrSyntax, line: 1, col: 53, msgContain: "cannot start any token"},
		"tab after a space":                {doc: "a: \tb\n", kind: ErrSyntax, line: 1, col: 4, msgContain: "cannot start any token"},
		"tab inside plain":                 {doc: "a: b\tc\n", kind: ErrSyntax, line: 1, col: 5, msgContain: "cannot start any token"},
		"tab after a quote":                {doc: "a: 'b'\t# c\n", kind: ErrSyntax, line: 1, col: 7, msgContain: "cannot start any token"},
		"tab before a block's indentation": {doc: "a: |\n  x\n \t\n  y\n", kind: ErrSyntax, line: 3, col: 2, msgContain: "tab"},
		"tab after a NEL line":             {doc: "a: 1 # c\u0085\tb: 2\n", kind: ErrSyntax, line: 2, col: 1, msgContain: "cannot start any token"},
		"reserved character":               {doc: "a: @x\n", kind: ErrSyntax, line: 1, col: 4, msgContain: "cannot start any token"},
		"unclosed quote":                   {doc: "a: \"open\nb: 1\n", kind: ErrSyntax, line: 3, col: 1, msgContain: "end of stream"},
		"unknown alias":                    {doc: "a: *nope\n", kind: ErrSyntax, line: 1, msgContain: "unknown anchor"},
		"two documents":                    {doc: "a: 1\n---\nb: 2\n", kind: ErrSyntax, line: 2, col: 1, msgContain: "single document"},
		"empty":                            {doc: "", kind: ErrShape, line: 1, col: 1, msgContain: "empty"},
		"comments only":                    {doc: "# nothing\n", kind: ErrShape, msgContain: "empty"},
		"explicit null":                    {doc: "~\n", kind: ErrShape, msgContain: "empty"},
		"top-level sequence":               {doc: "- a\n", kind: ErrShape, line: 1, col: 1, msgContain: "sequence, not a mapping"},
		"top-level string":                 {doc: "hello\n", kind: ErrShape, msgContain: "string, not a mapping"},
		"general_settings list":            {doc: "general_settings: [1]\n", kind: ErrShape, line: 1, col: 19, msgContain: "general_settings is a sequence"},
		"litellm_settings str":             {doc: "litellm_settings: on please\n", kind: ErrShape, msgContain: "litellm_settings is a string"},
		"unknown tag":                      {doc: "a: !vault x\n", kind: ErrConstruct, line: 1, col: 4, msgContain: "constructor for the tag"},
		"python tag":                       {doc: "a: !!python/object:os.system x\n", kind: ErrConstruct, msgContain: "constructor"},
		"unhashable key":                   {doc: "? [a]\n: 1\n", kind: ErrConstruct, line: 1, col: 3, msgContain: "unhashable key"},
		"flow mapping key":                 {doc: "{a: 1}: x\n", kind: ErrConstruct, msgContain: "unhashable key"},
		"merge of a scalar":                {doc: "a: {<<: 1}\n", kind: ErrConstruct, msgContain: "for merging"},
		"merge list of scalars":            {doc: "a: {<<: [1]}\n", kind: ErrConstruct, msgContain: "for merging"},
		"impossible date":                  {doc: "a: 2024-02-30\n", kind: ErrConstruct, line: 1, col: 4, msgContain: "timestamp"},
		"impossible hour":                  {doc: "a: 2024-02-03 25:00:00\n", kind: ErrConstruct, msgContain: "timestamp"},
		"explicit bool y":                  {doc: "a: !!bool y\n", kind: ErrConstruct, msgContain: "!!bool"},
		"explicit int word":                {doc: "a: !!int ten\n", kind: ErrConstruct, msgContain: "!!int"},
		"implicit 0b_":                     {doc: "a: 0b_\n", kind: ErrConstruct, msgContain: "!!int"},
		"value tag as value":               {doc: "a: =\n", kind: ErrConstruct, msgContain: "!!value"},
		"merge tag as value":               {doc: "a: <<\n", kind: ErrConstruct, msgContain: "!!merge"},
		"str tag on mapping":               {doc: "a: !!str {b: 1}\n", kind: ErrConstruct, msgContain: "cannot construct a mapping"},
		"binary not base64":                {doc: "a: !!binary é\n", kind: ErrConstruct, msgContain: "base64"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			require.Error(t, err)
			assert.Nil(t, c)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.kind, e.Kind)
			assert.Contains(t, e.Msg, tc.msgContain)
			if tc.line != 0 {
				assert.Equal(t, tc.line, e.Line, "line")
			}
			if tc.col != 0 {
				assert.Equal(t, tc.col, e.Column, "column")
			}
		})
	}
}

// TestParseAccepts: inputs PyYAML loads must not be reported.
func TestParseAccepts(t *testing.T) {
	for name, doc := range map[string]string{
		"helm chart shape":     "model_list:\n  - model_name: llama\n    litellm_params:\n      model: hosted_vllm/llama\n      api_base: http://vllm.serving.svc:8000/v1\ngeneral_settings:\n  master_key: os.environ/PROXY_MASTER_KEY\n",
		"flow style":           "{general_settings: {allow_requests_on_db_unavailable: false}}\n",
		"valid date":           "a: 2024-02-29\n",
		"tab in quotes":        "a: \"x\ty\"\nb: 'x\ty'\n",
		"tab in a comment":     "a: 1 # x\ty\n",
		"tab in a block":       "a: |\n  x\n  \ty\n",
		"anchor on a key":      "&k a: 1\n",
		"set":                  "a: !!set {x, y}\n",
		"omap":                 "a: !!omap [{x: 1}, {y: 2}]\n",
		"binary":               "a: !!binary aGVsbG8=\n",
		"explicit document":    "---\na: 1\n...\n",
		"sexagesimal int":      "a: 1:30\n",
		"equals as a key":      "=: 1\n",
		"recursive sequence":   "a: &x [*x]\n",
		"null sections":        "general_settings:\nlitellm_settings: ~\n",
		"falsy non-mapping":    "general_settings: ''\nlitellm_settings: []\n",
		"unicode in a comment": "# é ✓\na: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(doc))
			assert.NoError(t, err)
		})
	}
}

// TestParseBounded: inputs that expand exponentially (merge keys of merge keys, alias
// fan-out) are refused or read without expanding, quickly.
func TestParseBounded(t *testing.T) {
	merges := "l0: &l0 {k: 1}\n"
	aliases := "l0: &l0 [x]\n"
	for i := 1; i <= 40; i++ {
		merges += fmt.Sprintf("l%d: &l%d {<<: [*l%d, *l%d]}\n", i, i, i-1, i-1)
		aliases += fmt.Sprintf("l%d: &l%d [*l%d, *l%d, *l%d]\n", i, i, i-1, i-1, i-1)
	}
	cases := map[string]struct {
		doc     string
		wantErr string
	}{
		"merge bomb": {doc: merges, wantErr: "too many entries"},
		"alias bomb": {doc: aliases + "general_settings: {allow_requests_on_db_unavailable: false}\n"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			c, err := Parse([]byte(tc.doc))
			assert.Less(t, time.Since(start), 2*time.Second)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			v, known := c.Setting(nil, "general_settings", "allow_requests_on_db_unavailable").Lenient()
			assert.True(t, known)
			assert.False(t, v)
		})
	}
}
