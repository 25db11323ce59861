package manifests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A manifest is judged as it will run: the API server resets status on create, so only an
// object read from a cluster (uid, resourceVersion and creationTimestamp all set) keeps its
// status; a Node keeps it either way (its create keeps status).
func TestStatusOnlyFromACluster(t *testing.T) {
	const dump = "  uid: 7d1c0a4e-1111-4222-8333-944455556666\n  resourceVersion: \"42\"\n  creationTimestamp: \"2026-03-01T07:00:00Z\"\n"
	pod := func(meta string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\n" + meta + "spec: {containers: [{name: c, image: x}]}\nstatus: {phase: Succeeded}\n"
	}
	phase := func(t *testing.T, o Object) corev1.PodPhase { return o.Value.(*corev1.Pod).Status.Phase }
	cases := map[string]struct {
		doc         string
		fromCluster bool
		check       func(t *testing.T, o Object)
	}{
		"Pod manifest: status dropped": {doc: pod(""), check: func(t *testing.T, o Object) { assert.Empty(t, phase(t, o)) }},
		"Pod dump: status kept":        {doc: pod(dump), fromCluster: true, check: func(t *testing.T, o Object) { assert.Equal(t, corev1.PodSucceeded, phase(t, o)) }},
		"uid alone is no dump": {doc: pod("  uid: 7d1c0a4e-1111-4222-8333-944455556666\n"),
			check: func(t *testing.T, o Object) { assert.Empty(t, phase(t, o)) }},
		"creationTimestamp null (kubectl create --dry-run -o yaml) is no dump": {
			doc:   pod("  uid: u\n  resourceVersion: \"1\"\n  creationTimestamp: null\n"),
			check: func(t *testing.T, o Object) { assert.Empty(t, phase(t, o)) },
		},
		"DaemonSet manifest: status dropped": {
			doc: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: kube-system}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}}\nstatus: {desiredNumberScheduled: 3, numberReady: 0}\n",
			check: func(t *testing.T, o Object) {
				assert.Equal(t, appsv1.DaemonSetStatus{}, o.Value.(*appsv1.DaemonSet).Status)
			},
		},
		"custom resource manifest (Kueue Workload): status dropped": {
			doc: "apiVersion: kueue.x-k8s.io/v1beta2\nkind: Workload\nmetadata: {name: w, namespace: a}\nspec: {queueName: q}\nstatus: {conditions: [{type: Admitted, status: \"True\"}]}\n",
			check: func(t *testing.T, o Object) {
				u := o.Value.(*unstructured.Unstructured)
				assert.NotContains(t, u.Object, "status")
				assert.Contains(t, u.Object, "spec")
			},
		},
		"custom resource dump: status kept": {
			doc:         "apiVersion: kueue.x-k8s.io/v1beta2\nkind: Workload\nmetadata:\n  name: w\n  namespace: a\n" + dump + "spec: {queueName: q}\nstatus: {conditions: [{type: Admitted, status: \"True\"}]}\n",
			fromCluster: true,
			check: func(t *testing.T, o Object) {
				assert.Contains(t, o.Value.(*unstructured.Unstructured).Object, "status")
			},
		},
		"Node manifest keeps its status": {
			doc: "apiVersion: v1\nkind: Node\nmetadata: {name: gpu-1}\nstatus: {capacity: {nvidia.com/gpu: \"8\"}}\n",
			check: func(t *testing.T, o Object) {
				q := o.Value.(*corev1.Node).Status.Capacity["nvidia.com/gpu"]
				assert.Equal(t, int64(8), q.Value())
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs, err := Decode("in.yaml", strings.NewReader(tc.doc))
			require.NoError(t, err)
			require.Len(t, objs, 1)
			require.NoError(t, objs[0].Err)
			assert.Equal(t, tc.fromCluster, objs[0].FromCluster)
			tc.check(t, objs[0])
		})
	}
}

// Raw reads (for tools that apply the manifests) keep every object whole.
func TestRawKeepsStatus(t *testing.T) {
	doc := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nstatus: {phase: Succeeded}\n"
	objs, err := ReadWith([]string{"-"}, strings.NewReader(doc), Options{Raw: true})
	require.NoError(t, err)
	require.Len(t, objs, 1)
	st, _, _ := unstructured.NestedString(objs[0].Value.(*unstructured.Unstructured).Object, "status", "phase")
	assert.Equal(t, "Succeeded", st)
}
