package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func TestDecode(t *testing.T) {
	cases := map[string]struct {
		in        string
		wantKinds []string
		wantErr   string
	}{
		"multi-document YAML with comments and empty documents": {
			in:        "# header\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n",
			wantKinds: []string{"Namespace", "Pod"},
		},
		"JSON object": {
			in:        `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}`,
			wantKinds: []string{"Namespace"},
		},
		"kind List as kubectl get -o yaml prints it": {
			in:        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: d, namespace: a}\n  spec: {podSelector: {}}\n",
			wantKinds: []string{"Namespace", "NetworkPolicy"},
		},
		"typed list (PodList)": {
			in:        "apiVersion: v1\nkind: PodList\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n",
			wantKinds: []string{"Pod"},
		},
		"empty List": {
			in:        "apiVersion: v1\nkind: List\nitems: []\n",
			wantKinds: nil,
		},
		"broken YAML names document and line": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
			wantErr: "in.yaml: document 2 (line 5)",
		},
		"not a Kubernetes object": {
			in:      "model_list:\n- model_name: llama\n",
			wantErr: "in.yaml: document 1 (line 1): not a Kubernetes object",
		},
		"a scalar document": {
			in:      "just text\n",
			wantErr: "not a Kubernetes object",
		},
		"missing name": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: {}\n",
			wantErr: "metadata.name is required",
		},
		"metadata of the wrong type": {
			in:      "apiVersion: v1\nkind: Namespace\nmetadata: 3\n",
			wantErr: "metadata is not an object",
		},
		"List item that is not an object": {
			in:      "apiVersion: v1\nkind: List\nitems: [3]\n",
			wantErr: "items[0] is not an object",
		},
		"file with only comments": {
			in:      "# nothing\n",
			wantErr: "no Kubernetes object in file",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := Decode("in.yaml", strings.NewReader(tc.in))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var ie *InputError
				assert.True(t, errors.As(err, &ie), "errors are InputErrors naming the file")
				return
			}
			require.NoError(t, err)
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
			}
			assert.Equal(t, tc.wantKinds, kinds)
		})
	}
}

func TestReadDirectoryRecursiveAndStdin(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o755))
	write := func(p, s string) { require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644)) }
	write("a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
	write("sub/b.yml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
	write("sub/deeper/c.json", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"c"}}`)
	write("sub/README.md", "not read")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	write(".git/x.yaml", "broken: [")

	objs, err := Read([]string{dir, "-"}, strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: stdin}\n"))
	require.NoError(t, err)
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	assert.Equal(t, []string{"a", "b", "c", "stdin"}, names)
	assert.Equal(t, "<stdin>", objs[3].File)
}

func TestReadReportsEveryBadFileAndKeepsGoodOnes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("kind: [\n"), 0o644))
	objs, err := Read([]string{dir, filepath.Join(dir, "missing.yaml")}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "broken.yaml: document 1")
	assert.Contains(t, err.Error(), "missing.yaml")
	assert.Len(t, objs, 1)

	_, err = Read([]string{t.TempDir()}, nil)
	require.ErrorContains(t, err, "directory holds no .yaml, .yml or .json file")
}

func TestSnapshot(t *testing.T) {
	in := `apiVersion: v1
kind: Namespace
metadata: {name: serving}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: serving}
stringData: {password: hunter2}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: serving}
spec:
  podSelector: {}
  egress: [{}]
  ingress: [{ports: [{port: 8000}]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: train, namespace: team, labels: {kueue.x-k8s.io/queue-name: q}}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: Workload
metadata: {name: w, namespace: team}
`
	objs, err := Decode("in.yaml", strings.NewReader(in))
	require.NoError(t, err)
	s, err := Snapshot(objs)
	require.NoError(t, err)

	ns := s.Namespace("serving")
	require.NotNil(t, ns)
	assert.Equal(t, "serving", ns.Labels["kubernetes.io/metadata.name"], "the control plane's name label is added")

	require.Len(t, s.NetworkPolicies, 1)
	np := s.NetworkPolicies[0]
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes, "API defaulting applied")
	require.NotNil(t, np.Spec.Ingress[0].Ports[0].Protocol)
	assert.Equal(t, "TCP", string(*np.Spec.Ingress[0].Ports[0].Protocol))

	require.Len(t, s.Pods, 1)
	assert.Equal(t, "default", s.Pods[0].Namespace, "namespaced objects without a namespace land in default")

	assert.Len(t, s.CustomObjects("kueue.x-k8s.io", "Workload"), 1)
	assert.True(t, s.Visible(auditor.ResourceKueueWorkloads))
	assert.Equal(t, auditor.NotServed, s.AvailabilityOf(auditor.ResourceKyvernoClusterPolicies).State, "absent CRD kinds are not visible")

	for _, o := range s.Owners {
		assert.NotEqual(t, "Secret", o.Kind, "Secrets are dropped unread")
	}
	assert.NotNil(t, s.Owner("team", metav1OwnerRef("Job", "train")))

	assert.Equal(t, map[auditor.ObjectKey]auditor.Location{
		{Kind: "Namespace", Name: "serving"}:                                                     {File: "in.yaml", Document: 1, Line: 1},
		{Group: "networking.k8s.io", Kind: "NetworkPolicy", Namespace: "serving", Name: "allow"}: {File: "in.yaml", Document: 3, Line: 10},
		{Group: "batch", Kind: "Job", Namespace: "team", Name: "train"}:                          {File: "in.yaml", Document: 4, Line: 18},
		{Kind: "Pod", Namespace: "default", Name: "p"}:                                           {File: "in.yaml", Document: 5, Line: 22},
		{Group: "kueue.x-k8s.io", Kind: "Workload", Namespace: "team", Name: "w"}:                {File: "in.yaml", Document: 6, Line: 26},
	}, s.Locations, "every object but the Secret, at the line its document starts, in its defaulted namespace")
	assert.Equal(t, &auditor.Location{File: "in.yaml", Document: 5, Line: 22},
		s.LocationOf(&auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "p"}))
}

func TestSnapshotRejectsWrongFieldTypes(t *testing.T) {
	objs, err := Decode("bad.yaml", strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  containers: 3\n"))
	require.NoError(t, err)
	_, err = Snapshot(objs)
	require.Error(t, err)
	assert.EqualError(t, err, `bad.yaml: document 1 (line 1): Pod "p": spec.containers: a number where a list is expected`)
}

func TestPolicyTypesDefaulting(t *testing.T) {
	cases := map[string]struct {
		np   networkingv1.NetworkPolicy
		want []networkingv1.PolicyType
	}{
		"no sections: ingress only": {want: []networkingv1.PolicyType{"Ingress"}},
		"empty egress list: ingress only": {
			np:   networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{}}},
			want: []networkingv1.PolicyType{"Ingress"},
		},
		"egress rules: ingress and egress": {
			np:   networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}}},
			want: []networkingv1.PolicyType{"Ingress", "Egress"},
		},
		"explicit egress only is kept": {
			np:   networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Egress"}}},
			want: []networkingv1.PolicyType{"Egress"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			auditor.DefaultNetworkPolicy(&tc.np)
			assert.Equal(t, tc.want, tc.np.Spec.PolicyTypes)
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c}]}}\n",
		"---\n---\n",
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"b\"}}",
		"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\nspec: {ingress: [{from: [{namespaceSelector: {}}]}]}\n",
		"a: &x [*x]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, _ := Decode("fuzz.yaml", strings.NewReader(string(b)))
		s, _ := Snapshot(objs)
		if s == nil {
			t.Fatal("Snapshot returned nil")
		}
	})
}

// Load reads each input once and keeps its bytes: what is decoded is what is hashed.
func TestLoadReadsEachInputOnce(t *testing.T) {
	dir := t.TempDir()
	ns := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte(ns), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "a.json"), []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"b"}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a manifest"), 0o644))

	cases := map[string]struct {
		paths []string
		stdin string
		names []string
		err   string
	}{
		"directory":   {paths: []string{dir}, names: []string{filepath.Join(dir, "b.yaml"), filepath.Join(dir, "sub", "a.json")}},
		"stdin":       {paths: []string{"-"}, stdin: ns, names: []string{"<stdin>"}},
		"missing":     {paths: []string{filepath.Join(dir, "nope.yaml"), "-"}, stdin: ns, names: []string{"<stdin>"}, err: "nope.yaml"},
		"empty dir":   {paths: []string{t.TempDir()}, err: "directory holds no .yaml"},
		"single file": {paths: []string{filepath.Join(dir, "b.yaml")}, names: []string{filepath.Join(dir, "b.yaml")}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srcs, err := Load(c.paths, strings.NewReader(c.stdin), Options{})
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
			} else {
				require.NoError(t, err)
			}
			var names []string
			for _, s := range srcs {
				names = append(names, s.Name)
				if s.Name != "<stdin>" {
					b, err := os.ReadFile(s.Name)
					require.NoError(t, err)
					assert.Equal(t, b, s.Data)
				} else {
					assert.Equal(t, c.stdin, string(s.Data))
				}
			}
			assert.Equal(t, c.names, names)
			objs, err := DecodeSources(srcs, Options{})
			require.NoError(t, err)
			assert.Len(t, objs, len(srcs))
		})
	}
}
