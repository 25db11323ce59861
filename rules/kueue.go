package rules

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Kueue Workloads are read as unstructured, not through sigs.k8s.io/kueue's Go types: that
// module has no separate API module, so importing it pulls controller-runtime and every
// integrated framework into go.mod; and Kueue v0.15 serves v1beta1 and v1beta2 side by side.
// The view keeps only what is identical in both versions: metadata, spec.queueName,
// status.conditions and status.admission.clusterQueue.

const (
	kueueGroup       = "kueue.x-k8s.io"
	kueueJobUIDLabel = "kueue.x-k8s.io/job-uid"
)

// statusCondition is one status condition as read from an unstructured object.
type statusCondition struct {
	Found                   bool
	Status, Reason, Message string
}

func (c statusCondition) String() string {
	if !c.Found {
		return "absent"
	}
	s := c.Status
	if c.Reason != "" {
		s += ", reason " + c.Reason
	}
	if c.Message != "" {
		s += ": " + shorten(c.Message, 160)
	}
	return s
}

// kueueWorkload is the part of a Workload the SR2 rules read.
type kueueWorkload struct {
	APIVersion   string
	Namespace    string
	Name         string
	QueueName    string
	ClusterQueue string
	Owners       []metav1.OwnerReference
	JobUID       string
	Admitted     statusCondition
	// Problems name fields that had an unexpected type; the rest of the view is still usable.
	Problems []string
}

func newKueueWorkload(u *unstructured.Unstructured) *kueueWorkload {
	r := &fieldReader{what: "Workload " + u.GetNamespace() + "/" + u.GetName()}
	w := &kueueWorkload{
		APIVersion: u.GetAPIVersion(),
		Namespace:  u.GetNamespace(),
		Name:       u.GetName(),
		Owners:     u.GetOwnerReferences(),
		JobUID:     u.GetLabels()[kueueJobUIDLabel],
	}
	spec := r.obj(u.Object, "spec", "spec")
	w.QueueName = r.str(spec, "queueName", "spec.queueName")
	status := r.obj(u.Object, "status", "status")
	adm := r.obj(status, "admission", "status.admission")
	w.ClusterQueue = r.str(adm, "clusterQueue", "status.admission.clusterQueue")
	w.Admitted = r.condition(status, "conditions", "status.conditions", "Admitted")
	w.Problems = r.problems
	return w
}

func (w *kueueWorkload) ref() string { return w.Namespace + "/" + w.Name }

// admitted reports whether Kueue admitted the Workload (quota reserved and every
// admission check ready).
func (w *kueueWorkload) admitted() bool { return w.Admitted.Status == string(metav1.ConditionTrue) }

// workloadIndex finds the Workloads that may cover a pod: owned by it or by one of its
// owners, or named by its pod-group label.
type workloadIndex struct {
	byOwnerUID  map[types.UID][]*kueueWorkload
	byOwnerName map[string][]ownedBy // namespace/kind/name
	byJobUID    map[string][]*kueueWorkload
	byName      map[string]*kueueWorkload // namespace/name
	problems    []string
}

type ownedBy struct {
	wl  *kueueWorkload
	uid types.UID // UID in the owner reference, possibly empty
}

func newWorkloadIndex(s *auditor.Snapshot) *workloadIndex {
	ix := &workloadIndex{
		byOwnerUID:  map[types.UID][]*kueueWorkload{},
		byOwnerName: map[string][]ownedBy{},
		byJobUID:    map[string][]*kueueWorkload{},
		byName:      map[string]*kueueWorkload{},
	}
	for _, u := range s.CustomObjects(kueueGroup, "Workload") {
		w := newKueueWorkload(u)
		ix.problems = append(ix.problems, w.Problems...)
		ix.byName[w.Namespace+"/"+w.Name] = w
		for _, o := range w.Owners {
			if o.UID != "" {
				ix.byOwnerUID[o.UID] = append(ix.byOwnerUID[o.UID], w)
			}
			k := w.Namespace + "/" + o.Kind + "/" + o.Name
			ix.byOwnerName[k] = append(ix.byOwnerName[k], ownedBy{wl: w, uid: o.UID})
		}
		if w.JobUID != "" {
			ix.byJobUID[w.JobUID] = append(ix.byJobUID[w.JobUID], w)
		}
	}
	return ix
}

// covering returns the Workloads that represent the pod, in a stable order: a Workload
// whose owner reference names the pod or one of its owners (by UID; by kind and name when
// either side lacks a UID, as manifests do), whose job-uid label is such an owner's UID,
// or whose name is the pod's pod-group or prebuilt-workload label.
func (ix *workloadIndex) covering(p *corev1.Pod, chain []*auditor.Owner) []*kueueWorkload {
	seen := map[*kueueWorkload]bool{}
	var out []*kueueWorkload
	add := func(w *kueueWorkload) {
		if w != nil && w.Namespace == p.Namespace && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	target := func(kind, name string, uid types.UID) {
		if uid != "" {
			for _, w := range ix.byOwnerUID[uid] {
				add(w)
			}
			for _, w := range ix.byJobUID[string(uid)] {
				add(w)
			}
		}
		for _, o := range ix.byOwnerName[p.Namespace+"/"+kind+"/"+name] {
			if o.uid == "" || uid == "" {
				add(o.wl)
			}
		}
	}
	target("Pod", p.Name, p.UID)
	for _, o := range chain {
		target(o.Kind, o.Name, o.UID)
	}
	for _, l := range []string{kueuePodGroupLabel, kueuePrebuiltWorkloadLabel} {
		if v := p.Labels[l]; v != "" {
			add(ix.byName[p.Namespace+"/"+v])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// fieldReader reads unstructured fields tolerantly: a field of the wrong type reads as
// absent and is recorded as a problem naming the object and field path.
type fieldReader struct {
	what     string
	problems []string
}

func (r *fieldReader) bad(path, want string, got any) {
	r.problems = append(r.problems, fmt.Sprintf("%s: %s is %s, want %s", r.what, path, jsonTypeName(got), want))
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64, int, int32:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (r *fieldReader) obj(m map[string]any, key, path string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		r.bad(path, "an object", v)
		return nil
	}
	return o
}

func (r *fieldReader) list(m map[string]any, key, path string) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		r.bad(path, "a list", v)
		return nil
	}
	return l
}

func (r *fieldReader) str(m map[string]any, key, path string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.bad(path, "a string", v)
		return ""
	}
	return s
}

func (r *fieldReader) strs(m map[string]any, key, path string) []string {
	l := r.list(m, key, path)
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			r.bad(fmt.Sprintf("%s[%d]", path, i), "a string", v)
			continue
		}
		out = append(out, s)
	}
	return out
}

// boolean reads an optional boolean; nil when absent or of the wrong type.
func (r *fieldReader) boolean(m map[string]any, key, path string) *bool {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	b, ok := v.(bool)
	if !ok {
		r.bad(path, "a boolean", v)
		return nil
	}
	return &b
}

func (r *fieldReader) condition(m map[string]any, key, path, typ string) statusCondition {
	for i, c := range r.list(m, key, path) {
		cm, ok := c.(map[string]any)
		if !ok {
			r.bad(fmt.Sprintf("%s[%d]", path, i), "an object", c)
			continue
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		if r.str(cm, "type", p+".type") != typ {
			continue
		}
		return statusCondition{
			Found:   true,
			Status:  r.str(cm, "status", p+".status"),
			Reason:  r.str(cm, "reason", p+".reason"),
			Message: r.str(cm, "message", p+".message"),
		}
	}
	return statusCondition{}
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
