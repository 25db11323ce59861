package kueue

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// workload is a Workload in ns; owners are "Kind/name/uid" (uid may be empty).
func workload(ns, name, admitted string, labels map[string]any, owners ...metav1.OwnerReference) *unstructured.Unstructured {
	refs := []any{}
	for _, o := range owners {
		r := map[string]any{"apiVersion": "batch/v1", "kind": o.Kind, "name": o.Name, "uid": string(o.UID)}
		if o.Controller != nil {
			r["controller"] = *o.Controller
		}
		refs = append(refs, r)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "Workload",
		"metadata": map[string]any{"namespace": ns, "name": name, "ownerReferences": refs, "labels": labels},
		"spec":     map[string]any{"queueName": "team-queue"},
	}}
	if admitted != "" {
		u.Object["status"] = map[string]any{
			"admission":  map[string]any{"clusterQueue": "gpu"},
			"conditions": []any{map[string]any{"type": "Admitted", "status": admitted, "reason": "R"}},
		}
	}
	return u
}

func ref(kind, name string, uid types.UID) metav1.OwnerReference {
	return metav1.OwnerReference{Kind: kind, Name: name, UID: uid}
}

func ctrlRef(kind, name string, uid types.UID) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{Kind: kind, Name: name, UID: uid, Controller: &t}
}

func TestNewWorkload(t *testing.T) {
	w := NewWorkload(workload("team-a", "job-x", "True", map[string]any{JobUIDLabel: "job-uid"}, ref("Job", "x", "u1")))
	assert.Empty(t, w.Problems)
	assert.Equal(t, "kueue.x-k8s.io/v1beta2", w.APIVersion)
	assert.Equal(t, "team-a/job-x", w.Ref())
	assert.Equal(t, "team-queue", w.QueueName)
	assert.Equal(t, "gpu", w.ClusterQueue)
	assert.Equal(t, "job-uid", w.JobUID)
	require.Len(t, w.Owners, 1)
	assert.True(t, w.IsAdmitted())

	cases := map[string]struct {
		admitted string
		want     bool
	}{"admitted": {"True", true}, "not admitted": {"False", false}, "unknown": {"Unknown", false}, "no status": {"", false}}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, NewWorkload(workload("a", "w", tc.admitted, nil)).IsAdmitted())
		})
	}

	odd := NewWorkload(&unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"namespace": "a", "name": "w"},
		"spec": 1, "status": map[string]any{"admission": []any{}, "conditions": []any{1}}}})
	assert.Equal(t, []string{
		"Workload a/w: spec is a number, want an object",
		"Workload a/w: status.admission is a list, want an object",
		"Workload a/w: status.conditions[0] is a number, want an object",
	}, odd.Problems)
	assert.False(t, odd.IsAdmitted())
}

func TestGated(t *testing.T) {
	cases := map[string]struct {
		gates []corev1.PodSchedulingGate
		want  bool
	}{
		"no gate":           {},
		"Kueue's gate":      {gates: []corev1.PodSchedulingGate{{Name: "example.com/other"}, {Name: AdmissionGate}}, want: true},
		"another gate only": {gates: []corev1.PodSchedulingGate{{Name: "example.com/other"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, Gated(&corev1.Pod{Spec: corev1.PodSpec{SchedulingGates: tc.gates}}))
		})
	}
}

func TestWorkloadIndexCovering(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "p", UID: "pod-uid",
		Labels: map[string]string{PodGroupLabel: "group-wl"}}}
	job := &auditor.Owner{Kind: "Job", Namespace: "team-a", Name: "train", UID: "job-uid"}
	jobNoUID := &auditor.Owner{Kind: "Job", Namespace: "team-a", Name: "train"}
	cases := map[string]struct {
		wls   []any
		pod   *corev1.Pod
		chain []*auditor.Owner
		want  []string
	}{
		"owned by the pod (UID)":               {wls: []any{workload("team-a", "w", "True", nil, ref("Pod", "p", "pod-uid"))}, want: []string{"w"}},
		"owned by the job (UID)":               {wls: []any{workload("team-a", "w", "True", nil, ref("Job", "train", "job-uid"))}, chain: []*auditor.Owner{job}, want: []string{"w"}},
		"owner UID differs":                    {wls: []any{workload("team-a", "w", "True", nil, ref("Job", "train", "other-uid"))}, chain: []*auditor.Owner{job}},
		"by name when the Workload has no UID": {wls: []any{workload("team-a", "w", "True", nil, ref("Job", "train", ""))}, chain: []*auditor.Owner{job}, want: []string{"w"}},
		"by name when the owner has no UID":    {wls: []any{workload("team-a", "w", "True", nil, ref("Job", "train", "job-uid"))}, chain: []*auditor.Owner{jobNoUID}, want: []string{"w"}},
		"job-uid label":                        {wls: []any{workload("team-a", "w", "True", map[string]any{JobUIDLabel: "job-uid"})}, chain: []*auditor.Owner{job}, want: []string{"w"}},
		// Kueue makes every member of a group an owner of the group's Workload, and takes
		// a prebuilt Workload for a single pod by becoming its controller: the label alone
		// covers nothing.
		"pod-group label, the pod among the Workload's owners": {wls: []any{workload("team-a", "group-wl", "True", nil, ref("Pod", "other", "other-uid"), ref("Pod", "p", "pod-uid"))}, want: []string{"group-wl"}},
		"pod-group label naming another group's Workload":      {wls: []any{workload("team-a", "group-wl", "True", nil, ref("Pod", "other", "other-uid"))}},
		"pod-group label naming an ownerless Workload":         {wls: []any{workload("team-a", "group-wl", "True", nil)}},
		"prebuilt label, the pod its controller": {wls: []any{workload("team-a", "pre", "True", nil, ctrlRef("Pod", "q", "q-uid"))}, want: []string{"pre"},
			pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "q", UID: "q-uid", Labels: map[string]string{PrebuiltWorkloadLabel: "pre"}}}},
		"prebuilt label naming another pod's Workload": {wls: []any{workload("team-a", "pre", "True", nil, ctrlRef("Pod", "other", "other-uid"))},
			pod: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "q", UID: "q-uid", Labels: map[string]string{PrebuiltWorkloadLabel: "pre"}}}},
		"another namespace never covers": {wls: []any{workload("team-b", "w", "True", nil, ref("Pod", "p", "pod-uid")), workload("team-b", "group-wl", "True", nil)}},
		"sorted, each once": {wls: []any{
			workload("team-a", "z", "True", nil, ref("Pod", "p", "pod-uid"), ref("Job", "train", "job-uid")),
			workload("team-a", "a", "True", nil, ref("Job", "train", "job-uid")),
		}, chain: []*auditor.Owner{job}, want: []string{"a", "z"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.pod
			if p == nil {
				p = pod
			}
			ix := NewWorkloadIndex(snapshottest.New(tc.wls))
			var got []string
			for _, w := range ix.Covering(p, tc.chain) {
				got = append(got, w.Name)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestWorkloadIndexLabelNamed(t *testing.T) {
	ix := NewWorkloadIndex(snapshottest.New([]any{
		workload("team-a", "pre", "True", nil, ctrlRef("Pod", "other", "other-uid")),
		workload("team-b", "grp", "True", nil),
	}))
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "q",
		Labels: map[string]string{PrebuiltWorkloadLabel: "pre", PodGroupLabel: "grp"}}}
	got := ix.LabelNamed(pod)
	require.Len(t, got, 2)
	assert.Equal(t, PodGroupLabel, got[0].Label)
	assert.Nil(t, got[0].Workload, "a Workload of another namespace is not named")
	assert.Equal(t, "grp", got[0].Name)
	assert.Equal(t, PrebuiltWorkloadLabel, got[1].Label)
	require.NotNil(t, got[1].Workload)
	assert.Equal(t, "Pod/other", got[1].Workload.Controller())
	assert.Empty(t, ix.LabelNamed(&corev1.Pod{}))
}

func TestWorkloadIndexGathersProblems(t *testing.T) {
	ix := NewWorkloadIndex(snapshottest.New(&unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload", "metadata": map[string]any{"namespace": "a", "name": "w"}, "spec": "x"}}))
	assert.Equal(t, []string{"Workload a/w: spec is a string, want an object"}, ix.Problems)
}

func TestFactsHaveSources(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Facts {
		assert.NotEmpty(t, f.Summary, f.ID)
		assert.NotEmpty(t, f.Versions, f.ID)
		assert.Contains(t, f.Source, "kubernetes-sigs/kueue ", f.ID)
		assert.False(t, seen[f.ID], "fact %s twice", f.ID)
		seen[f.ID] = true
	}
}
