// Package kueue reads what the GPU quota rules need from Kueue without its Go module: the
// pod-level markers Kueue sets, and Workloads (read as unstructured) indexed by the pods
// they may cover.
package kueue

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
)

// Kueue Workloads are read as unstructured, not through sigs.k8s.io/kueue's Go types: that
// module has no separate API module, so importing it pulls controller-runtime and every
// integrated framework into go.mod; and Kueue v0.15 serves v1beta1 and v1beta2 side by side.
// The view keeps only what is identical in both versions: metadata, spec.queueName,
// status.conditions and status.admission.clusterQueue.

const (
	// Group is Kueue's API group.
	Group = "kueue.x-k8s.io"
	// JobUIDLabel carries, on a Workload, the UID of the job it represents.
	JobUIDLabel = "kueue.x-k8s.io/job-uid"
)

// Kueue's pod-level markers (kueue@v0.15 pkg/controller/jobs/pod/constants, apis/kueue/v1beta2).
const (
	// AdmissionGate holds a Kueue-managed pod until its Workload is admitted.
	AdmissionGate = "kueue.x-k8s.io/admission"
	// PodGroupLabel names the Workload of a pod group.
	PodGroupLabel = "kueue.x-k8s.io/pod-group-name"
	// PrebuiltWorkloadLabel names a Workload created ahead of its pods.
	PrebuiltWorkloadLabel = "kueue.x-k8s.io/prebuilt-workload-name"
)

// Gated reports whether Kueue holds the pod: its admission scheduling gate keeps the pod
// off every node until the Workload is admitted, so it waits rather than bypasses.
func Gated(p *corev1.Pod) bool {
	for _, g := range p.Spec.SchedulingGates {
		if g.Name == AdmissionGate {
			return true
		}
	}
	return false
}

// Workload is the part of a Workload the SR2 rules read.
type Workload struct {
	APIVersion   string
	Namespace    string
	Name         string
	QueueName    string
	ClusterQueue string
	Owners       []metav1.OwnerReference
	JobUID       string
	Admitted     fields.Condition
	// Problems name fields that had an unexpected type; the rest of the view is still usable.
	Problems []string
}

// NewWorkload reads a Workload; fields of an unexpected type are left out and named in Problems.
func NewWorkload(u *unstructured.Unstructured) *Workload {
	r := &fields.Reader{What: "Workload " + u.GetNamespace() + "/" + u.GetName()}
	w := &Workload{
		APIVersion: u.GetAPIVersion(),
		Namespace:  u.GetNamespace(),
		Name:       u.GetName(),
		Owners:     u.GetOwnerReferences(),
		JobUID:     u.GetLabels()[JobUIDLabel],
	}
	spec := r.Obj(u.Object, "spec", "spec")
	w.QueueName = r.Str(spec, "queueName", "spec.queueName")
	status := r.Obj(u.Object, "status", "status")
	adm := r.Obj(status, "admission", "status.admission")
	w.ClusterQueue = r.Str(adm, "clusterQueue", "status.admission.clusterQueue")
	w.Admitted = r.Condition(status, "conditions", "status.conditions", "Admitted")
	w.Problems = r.Problems
	return w
}

// Ref is the Workload's namespace/name.
func (w *Workload) Ref() string { return w.Namespace + "/" + w.Name }

// IsAdmitted reports whether Kueue admitted the Workload (quota reserved and every
// admission check ready).
func (w *Workload) IsAdmitted() bool { return w.Admitted.Status == string(metav1.ConditionTrue) }

// WorkloadIndex finds the Workloads that may cover a pod: owned by it or by one of its
// owners, or named by its pod-group label.
type WorkloadIndex struct {
	byOwnerUID  map[types.UID][]*Workload
	byOwnerName map[string][]ownedBy // namespace/kind/name
	byJobUID    map[string][]*Workload
	byName      map[string]*Workload // namespace/name
	Problems    []string
}

type ownedBy struct {
	wl  *Workload
	uid types.UID // UID in the owner reference, possibly empty
}

// NewWorkloadIndex indexes the snapshot's Workloads; Problems gathers their read problems.
func NewWorkloadIndex(s *auditor.Snapshot) *WorkloadIndex {
	ix := &WorkloadIndex{
		byOwnerUID:  map[types.UID][]*Workload{},
		byOwnerName: map[string][]ownedBy{},
		byJobUID:    map[string][]*Workload{},
		byName:      map[string]*Workload{},
	}
	for _, u := range s.CustomObjects(Group, "Workload") {
		w := NewWorkload(u)
		ix.Problems = append(ix.Problems, w.Problems...)
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

// Covering returns the Workloads that represent the pod, in a stable order: a Workload
// whose owner references name the pod or one of its controlling owners (by UID; by kind
// and name when either side lacks a UID, as manifests do), or whose job-uid label is such
// an owner's UID.
//
// A label naming a Workload (pod-group, prebuilt) does not by itself make it cover the
// pod (FactPrebuiltOwnership, FactGroupOwners): Kueue takes a prebuilt Workload for a single pod by making the pod its controller
// (ignoring one already controlled by another object), and makes every pod of a group an
// owner of the group's Workload (kueue@v0.15.2 pkg/controller/jobframework/reconciler.go
// ensureOneWorkload and EnsurePrebuiltWorkloadOwnership; pkg/controller/jobs/pod/
// pod_controller.go EnsureWorkloadOwnedByAllMembers, called from FindMatchingWorkloads and
// for prebuilt groups). A pod Kueue never managed has no such reference, so any pod may
// carry the label of another pod's admitted Workload. LabelNamed finds those Workloads for
// the message.
func (ix *WorkloadIndex) Covering(p *corev1.Pod, chain []*auditor.Owner) []*Workload {
	seen := map[*Workload]bool{}
	var out []*Workload
	add := func(w *Workload) {
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
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LabelNamed is a Workload a pod names by its pod-group or prebuilt-workload label.
type LabelNamed struct {
	Label    string
	Workload *Workload // nil when no Workload of that name is in the snapshot
	Name     string
}

// LabelNamed returns the Workloads the pod names by its pod-group and prebuilt-workload
// labels, in label order; the caller says why they do not cover it.
func (ix *WorkloadIndex) LabelNamed(p *corev1.Pod) []LabelNamed {
	var out []LabelNamed
	for _, l := range []string{PodGroupLabel, PrebuiltWorkloadLabel} {
		if v := p.Labels[l]; v != "" {
			out = append(out, LabelNamed{Label: l, Name: v, Workload: ix.byName[p.Namespace+"/"+v]})
		}
	}
	return out
}

// Controller names the Workload's controller reference ("Pod/other"), or "" when none.
func (w *Workload) Controller() string {
	for _, o := range w.Owners {
		if o.Controller != nil && *o.Controller {
			return o.Kind + "/" + o.Name
		}
	}
	return ""
}
