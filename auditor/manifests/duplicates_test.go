package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// readDir writes files (name -> content) into a directory and reads it as a scan does,
// collecting the warnings.
func readDir(t *testing.T, files map[string]string) ([]Object, []string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	var warnings []string
	objs, err := ReadWith([]string{dir}, nil, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	require.NoError(t, err)
	for i, w := range warnings {
		warnings[i] = strings.ReplaceAll(w, dir+string(filepath.Separator), "") // relative, for the literal expectations
	}
	return objs, warnings
}

// kept lists the objects read as "kind namespace/name label" (label copy=...).
func kept(objs []Object) []string {
	var out []string
	for _, o := range objs {
		label := ""
		switch v := o.Value.(type) {
		case *auditor.Owner:
			label = v.Labels["copy"]
		case interface{ GetLabels() map[string]string }:
			label = v.GetLabels()["copy"]
		}
		out = append(out, fmt.Sprintf("%s %s/%s %s", o.GVK.Kind, o.Namespace, o.Name, label))
	}
	return out
}

// TestDuplicateIdentities: of two documents with one identity (group, kind, namespace,
// name) the later one wins, as `kubectl apply` of the inputs in order leaves it; a
// warning names both places.
func TestDuplicateIdentities(t *testing.T) {
	netpol := func(ns, name, copy string) string {
		return fmt.Sprintf("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: %s\n  namespace: %s\n  labels: {copy: '%s'}\nspec:\n  podSelector: {}\n", name, ns, copy)
	}
	cases := map[string]struct {
		files    map[string]string
		want     []string
		warnings []string
	}{
		"later document of one file wins": {
			files: map[string]string{"a.yaml": netpol("serving", "default-deny-ingress", "first") + "---\n" + netpol("serving", "default-deny-ingress", "second")},
			want:  []string{"NetworkPolicy serving/default-deny-ingress second"},
			warnings: []string{"a.yaml: document 1 (line 1): NetworkPolicy serving/default-deny-ingress is replaced by the later one at " +
				"a.yaml: document 2 (line 10) (the later document wins, as with kubectl apply)"},
		},
		"later file wins (files are read sorted)": {
			files: map[string]string{"b.yaml": netpol("serving", "x", "second"), "a.yaml": netpol("serving", "x", "first")},
			want:  []string{"NetworkPolicy serving/x second"},
			warnings: []string{"a.yaml: document 1 (line 1): NetworkPolicy serving/x is replaced by the later one at " +
				"b.yaml: document 1 (line 1) (the later document wins, as with kubectl apply)"},
		},
		"three copies: the last wins, each earlier one is named": {
			files: map[string]string{"a.yaml": netpol("serving", "x", "1") + "---\n" + netpol("serving", "x", "2") + "---\n" + netpol("serving", "x", "3")},
			want:  []string{"NetworkPolicy serving/x 3"},
			warnings: []string{
				"a.yaml: document 1 (line 1): NetworkPolicy serving/x is replaced by the later one at a.yaml: document 3 (line 19) (the later document wins, as with kubectl apply)",
				"a.yaml: document 2 (line 10): NetworkPolicy serving/x is replaced by the later one at a.yaml: document 3 (line 19) (the later document wins, as with kubectl apply)",
			},
		},
		"other namespace: both kept": {
			files: map[string]string{"a.yaml": netpol("serving", "x", "1") + "---\n" + netpol("inference", "x", "2")},
			want:  []string{"NetworkPolicy serving/x 1", "NetworkPolicy inference/x 2"},
		},
		"same kind in another group: both kept": {
			files: map[string]string{"a.yaml": netpol("serving", "x", "1") + "---\n" +
				"apiVersion: crd.projectcalico.org/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: serving, labels: {copy: '2'}}\n"},
			want: []string{"NetworkPolicy serving/x 1", "NetworkPolicy serving/x 2"},
		},
		"another version of the same group and kind is the same object": {
			files: map[string]string{"a.yaml": "apiVersion: kueue.x-k8s.io/v1beta1\nkind: Workload\nmetadata: {name: w, namespace: t, labels: {copy: '1'}}\n---\n" +
				"apiVersion: kueue.x-k8s.io/v1beta2\nkind: Workload\nmetadata: {name: w, namespace: t, labels: {copy: '2'}}\n"},
			want:     []string{"Workload t/w 2"},
			warnings: []string{"a.yaml: document 1 (line 1): Workload t/w is replaced by the later one at a.yaml: document 2 (line 5) (the later document wins, as with kubectl apply)"},
		},
		"no namespace is the default namespace": {
			files: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {copy: '1'}}\n---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default, labels: {copy: '2'}}\n"},
			want:     []string{"ConfigMap default/c 2"},
			warnings: []string{"a.yaml: document 1 (line 1): ConfigMap default/c is replaced by the later one at a.yaml: document 2 (line 5) (the later document wins, as with kubectl apply)"},
		},
		"a kind no rule reads": {
			files: map[string]string{"a.yaml": "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: q, labels: {copy: '1'}}\n---\n" +
				"apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata: {name: q, labels: {copy: '2'}}\n"},
			want:     []string{"ClusterQueue /q 2"},
			warnings: []string{"a.yaml: document 1 (line 1): ClusterQueue q is replaced by the later one at a.yaml: document 2 (line 5) (the later document wins, as with kubectl apply)"},
		},
		"List items": {
			files: map[string]string{"a.json": `{"apiVersion": "v1", "kind": "List", "items": [` +
				`{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {"copy": "1"}}},` +
				`{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {"copy": "2"}}}]}`},
			want:     []string{"Namespace /n 2"},
			warnings: []string{"a.json: document 1 (line 1): Namespace n is replaced by the later one at a.json: document 1 (line 1) (the later document wins, as with kubectl apply)"},
		},
		"generateName objects are distinct": {
			files: map[string]string{"a.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: j-, namespace: t, labels: {copy: '1'}}\n---\n" +
				"apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: j-, namespace: t, labels: {copy: '2'}}\n"},
			want: []string{"Job t/ 1", "Job t/ 2"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, warnings := readDir(t, tc.files)
			assert.Equal(t, tc.want, kept(objs))
			assert.Equal(t, tc.warnings, warnings)
		})
	}
}

// TestDuplicateIdentitiesEveryKind: for every kind of the table, a snapshot holds only
// the later of two documents with one identity, in the kind's slot and among the owners.
func TestDuplicateIdentitiesEveryKind(t *testing.T) {
	for _, r := range auditor.Kinds {
		t.Run(r.ID, func(t *testing.T) {
			ns := ""
			if r.Namespaced {
				ns = "namespace: t, "
			}
			doc := func(copy string) string {
				return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x, %slabels: {copy: %q}}\n", r.APIVersion(), r.Kind, ns, copy)
			}
			objs, warnings := readDir(t, map[string]string{"a.yaml": doc("first") + "---\n" + doc("second")})
			require.Len(t, warnings, 1)
			require.Len(t, objs, 1)
			s, err := Snapshot(objs)
			require.NoError(t, err)
			var owners []*auditor.Owner
			for _, o := range s.Owners {
				if o.Kind == r.Kind {
					owners = append(owners, o)
				}
			}
			require.Len(t, owners, 1, "owners")
			assert.Equal(t, "second", owners[0].Labels["copy"])
			if !r.OwnerOnly {
				require.Equal(t, 1, r.Len(s))
				assert.Equal(t, "second", r.Objects(s)[0].GetLabels()["copy"])
			}
			assert.Equal(t, 2, s.Locations[auditor.ObjectKeyOf(r.GroupKind(), objs[0].Namespace, "x")].Document)
		})
	}
}
