package manifests

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

var yamlJSONSeeds = []string{
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {x: 'y'}}\n",
	"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c}]}}\n",
	"a: yes\nb: no\nc: on\nd: 0777\ne: 1e3\nf: .inf\ng: ~\nh: 2001-12-14\ni: 0x1F\nj: 9223372036854775808\nk: -0\n",
	"metadata: null\nkind: 3\napiVersion: [a]\n",
	"s: \"<a&b>\\u2028\\x01\"\nt: \"caf\\xe9\"\nu: é\nv: \"\\\"q\\\\\"\n",
	"1: a\ntrue: b\n1.5: c\n",
	"a: {1: x, '1': y}\n",
	"base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
	"b: !!binary aGVsbG8=\nc: !!binary /w==\n",
	"- 1\n- [2, {a: b}]\n",
	"just a string\n",
	"f: .nan\n",
	"items: null\nkind: PodList\napiVersion: v1\n",
	"",
}

// writeYAMLAsJSON writes JSON that decodes to what sigs.k8s.io/yaml.YAMLToJSON's decodes to,
// fails where it fails, and hands back the head the JSON holds.
func TestYAMLToJSONMatchesSigsYAML(t *testing.T) {
	for _, s := range yamlJSONSeeds {
		checkYAMLToJSON(t, []byte(s))
	}
}

func FuzzYAMLToJSON(f *testing.F) {
	for _, s := range yamlJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkYAMLToJSON(t, b) })
}

func checkYAMLToJSON(t *testing.T, b []byte) {
	t.Helper()
	want, wantErr := yaml.YAMLToJSON(b)
	got, top, err := writeYAMLAsJSON(b)
	if err == errNonStringKey {
		// yamlToJSON hands these to YAMLToJSON itself (two keys that become one string
		// take either value there: Go's map order).
		return
	}
	if wantErr != nil {
		require.Error(t, err, "input %q", b)
		assert.Equal(t, wantErr.Error(), err.Error(), "input %q", b)
		return
	}
	require.NoError(t, err, "input %q", b)
	var wv, gv any
	require.NoError(t, sigsjson.UnmarshalCaseSensitivePreserveInts(want, &wv))
	require.NoError(t, sigsjson.UnmarshalCaseSensitivePreserveInts(got, &gv), "invalid JSON %q from %q", got, b)
	assert.Equal(t, wv, gv, "input %q", b)
	if top == nil {
		return
	}
	var h head
	require.NoError(t, sigsjson.UnmarshalCaseSensitivePreserveInts(got, &h))
	assert.Equal(t, str(h.APIVersion), str(top.APIVersion))
	assert.Equal(t, str(h.Kind), str(top.Kind))
	assert.Equal(t, h.Metadata == nil, top.Metadata == nil)
	assert.Equal(t, h.Items == nil, top.Items == nil)
	if h.Metadata != nil {
		assert.True(t, bytes.Equal(h.Metadata, top.Metadata))
	}
	if h.Items != nil {
		assert.True(t, bytes.Equal(h.Items, top.Items))
	}
}
