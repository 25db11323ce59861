package manifests

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestJSONKeepsNEL: kubectl decodes a JSON manifest as JSON, so a raw NEL inside a
// string reaches the API server as is (and LiteLLM's PyYAML takes it for a line break).
// A YAML parser would fold it into a space and hide the second key.
func TestJSONKeepsNEL(t *testing.T) {
	cfg := "general_settings:\n  allow_requests_on_db_unavailable: false # fail closed\u0085  allow_requests_on_db_unavailable: true\n"
	in := `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "litellm-config"}, "data": {"config.yaml": "` +
		strings.ReplaceAll(cfg, "\n", `\n`) + `"}}`
	objs, err := Decode("cm.json", strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, objs, 1)
	data := objs[0].Value.(*corev1.ConfigMap).Data["config.yaml"]
	assert.Equal(t, cfg, data)
}

// endless is an input that never ends: small documents forever.
type endless struct{ off int }

func (e *endless) Read(p []byte) (int, error) {
	const doc = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	n := 0
	for n < len(p) {
		c := copy(p[n:], doc[e.off:])
		n += c
		e.off = (e.off + c) % len(doc)
	}
	return n, nil
}

func TestBudgetStopsEndlessInput(t *testing.T) {
	tests := map[string]struct {
		opts Options
		what string
	}{
		"bytes":   {Options{MaxBytes: 1 << 20, MaxObjects: 1 << 30}, "1048576 bytes"},
		"objects": {Options{MaxBytes: 1 << 40, MaxObjects: 1000}, "1000 objects"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := ReadWith([]string{"-"}, &endless{}, tc.opts)
			require.Error(t, err)
			var b *BudgetError
			require.True(t, errors.As(err, &b), "%v", err)
			assert.Contains(t, err.Error(), "<stdin>: the input exceeds the budget of "+tc.what)
			assert.LessOrEqual(t, len(objs), 1<<20/40)
		})
	}
}

func TestBudgetAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	doc := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	for _, f := range []string{"a", "b", "c"} { // distinct names: one identity twice is one object
		require.NoError(t, os.WriteFile(filepath.Join(dir, f+".yaml"), []byte(strings.Replace(doc, "name: a", "name: "+f, 1)), 0o644))
	}
	objs, err := ReadWith([]string{dir}, nil, Options{MaxObjects: 2})
	require.ErrorContains(t, err, "c.yaml: the input exceeds the budget of 2 objects")
	assert.Len(t, objs, 2)
	_, err = ReadWith([]string{dir}, nil, Options{MaxBytes: int64(2*len(doc) + 1)})
	require.ErrorContains(t, err, "c.yaml: the input exceeds the budget of")
	objs, err = ReadWith([]string{dir}, nil, Options{MaxBytes: int64(3 * len(doc)), MaxObjects: 3})
	require.NoError(t, err)
	assert.Len(t, objs, 3)
}

func TestNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"), 0o644))
	fifo := filepath.Join(dir, "pipe.yaml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	var warnings []string
	objs, err := ReadWith([]string{dir}, nil, Options{Warn: func(m string) { warnings = append(warnings, m) }})
	require.NoError(t, err, "a FIFO in a directory is skipped, not read (reading it would hang)")
	assert.Len(t, objs, 1)
	assert.Equal(t, []string{fifo + ": skipped: not a regular file (a FIFO)"}, warnings)

	_, err = ReadWith([]string{fifo}, nil, Options{})
	require.EqualError(t, err, fifo+": not a regular file (a FIFO)")
	_, err = ReadWith([]string{"/dev/zero"}, nil, Options{})
	require.EqualError(t, err, "/dev/zero: not a regular file (a device)")
}

// TestSensitiveKindsDroppedUnread: a Secret's body is never decoded, so a broken
// Secret cannot echo its content in an error, and sensitive List items go too.
func TestSensitiveKindsDroppedUnread(t *testing.T) {
	const value = "ZXQ-NOTINT"
	tests := map[string]struct {
		in    string
		kinds []string
	}{
		"YAML Secret, bad int":      {in: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: !!int " + value + "}\n"},
		"YAML Secret, bad syntax":   {in: "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  a: " + value + "\n b: [\n"},
		"JSON Secret, bad value":    {in: `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": ` + value + `}}`},
		"List with a Secret":        {in: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}, data: {a: !!int " + value + "}}\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n"},
		"JSON List with a Secret":   {in: `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "` + value + `"}}, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}]}`},
		"configured sensitive kind": {in: "apiVersion: example.com/v1\nkind: Credential\nmetadata: {name: c}\nspec: {a: !!int " + value + "}\n", kinds: []string{"Credential.example.com"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var kinds []schema.GroupKind
			for _, k := range tc.kinds {
				kinds = append(kinds, schema.ParseGroupKind(k))
			}
			r := newReader(Options{SensitiveKinds: kinds})
			err := r.decode("in.yaml", strings.NewReader(tc.in))
			if err != nil {
				assert.NotContains(t, err.Error(), value)
			}
			for _, o := range r.objs {
				assert.NotEqual(t, "Secret", o.GetKind())
				assert.NotContains(t, o.GetName(), value)
			}
		})
	}
}

// TestErrorsWithholdValues: a decoder's message quoting a value loses the value.
func TestErrorsWithholdValues(t *testing.T) {
	_, err := Decode("cm.yaml", strings.NewReader("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: !!int hunter2-token}\n"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.Contains(t, err.Error(), "(value withheld)")
}

func TestGarbageCountsAgainstTheBudget(t *testing.T) {
	garbage := strings.NewReader(strings.Repeat("---\n[not, an, object]\n", 10000))
	_, err := ReadWith([]string{"-"}, garbage, Options{MaxObjects: 500})
	require.ErrorContains(t, err, "<stdin>: the input exceeds the budget of 500 objects")
	assert.Contains(t, err.Error(), "more than 50 documents cannot be read")
	assert.LessOrEqual(t, strings.Count(err.Error(), "\n"), 53)
}

func TestNestedListErrorNamesEveryIndex(t *testing.T) {
	in := "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n  - {apiVersion: v1, kind: Namespace}\n"
	_, err := Decode("l.yaml", strings.NewReader(in))
	require.EqualError(t, err, "l.yaml: document 1 (line 1): Namespace (items[0].items[1]): metadata.name is required")
}

var _ io.Reader = (*endless)(nil)

// TestMessagesNameFieldAndAbsoluteLine: type errors name the field path; YAML errors
// and object errors give lines of the file, not of the document.
func TestMessagesNameFieldAndAbsoluteLine(t *testing.T) {
	tests := map[string]struct {
		in, decodeErr, snapErr string
	}{
		"labels as a list": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: [a, b]\n",
			snapErr: `f.yaml: document 2 (line 5): Namespace "a": metadata.labels: a list where an object is expected`,
		},
		"limits as a string": {
			in:      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n      limits: 'x'\n",
			snapErr: `f.yaml: document 1 (line 1): Pod "p": spec.containers.resources.limits: a string where an object is expected`,
		},
		"YAML error line of the file": {
			in:        "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n   x: [\n",
			decodeErr: "f.yaml: document 2 (line 5): yaml: line 10: did not find expected key",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			objs, err := Decode("f.yaml", strings.NewReader(tc.in))
			if tc.decodeErr != "" {
				require.EqualError(t, err, tc.decodeErr)
				return
			}
			require.NoError(t, err)
			_, err = Snapshot(objs)
			require.EqualError(t, err, tc.snapErr)
		})
	}
}
