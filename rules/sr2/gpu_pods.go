package sr2

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/kueue"
)

// gpuScope answers the SR2 questions shared by the GPU rules: is a namespace managed by
// Kueue (auditor.Config.KueueManaged), how many GPUs does a pod ask for, where does its
// queue name come from.
type gpuScope struct {
	cfg     auditor.SR2Config
	inScope func(ns *corev1.Namespace) bool // pods of the namespace must go through Kueue
}

func newGPUScope(cfg auditor.Config) gpuScope {
	return gpuScope{cfg: cfg.SR2, inScope: cfg.KueueManaged()}
}

// gpuDemand is what a pod asks for, by resource name, and where it asks.
type gpuDemand struct {
	// Total adds every GPU resource: a MIG slice counts as one device.
	Total      int64
	ByResource map[string]int64
	Where      []string // "container trainer: nvidia.com/gpu=2"
}

// amounts of the GPU resources in a requirements block: limits imply requests for
// extended resources (they cannot be overcommitted), so take the larger of the two.
func (g gpuScope) amounts(r corev1.ResourceRequirements) map[string]int64 {
	out := map[string]int64{}
	for _, list := range []corev1.ResourceList{r.Requests, r.Limits} {
		for name, q := range list {
			if !g.cfg.IsGPUResource(string(name)) {
				continue
			}
			if v := q.Value(); v > out[string(name)] {
				out[string(name)] = v
			}
		}
	}
	return out
}

// podGPUs computes a pod's GPU demand the way the scheduler sizes a pod: the sum over
// app containers and restartable (sidecar) init containers, or the largest plain init
// container if that is larger, plus ephemeral containers and pod-level resources when
// they name a GPU resource (the API rejects those today, but a manifest may carry them).
func (g gpuScope) podGPUs(p *corev1.Pod) gpuDemand {
	d := gpuDemand{ByResource: map[string]int64{}}
	sum := map[string]int64{}
	initMax := map[string]int64{}
	note := func(where string, m map[string]int64) {
		names := make([]string, 0, len(m)) // per pod: no iterator (slices.Sorted allocates more)
		for r := range m {
			names = append(names, r)
		}
		sort.Strings(names)
		for _, r := range names {
			if m[r] > 0 {
				d.Where = append(d.Where, fmt.Sprintf("%s: %s=%d", where, r, m[r]))
			}
		}
	}
	for _, c := range p.Spec.Containers {
		m := g.amounts(c.Resources)
		note("container "+c.Name, m)
		for r, v := range m {
			sum[r] += v
		}
	}
	for _, c := range p.Spec.InitContainers {
		m := g.amounts(c.Resources)
		note("init container "+c.Name, m)
		for r, v := range m {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				sum[r] += v
			} else if v > initMax[r] {
				initMax[r] = v
			}
		}
	}
	for _, c := range p.Spec.EphemeralContainers {
		m := g.amounts(c.Resources)
		note("ephemeral container "+c.Name, m)
		for r, v := range m {
			sum[r] += v
		}
	}
	for r, v := range initMax {
		if v > sum[r] {
			sum[r] = v
		}
	}
	if p.Spec.Resources != nil {
		m := g.amounts(*p.Spec.Resources)
		note("pod-level resources", m)
		for r, v := range m {
			if v > sum[r] {
				sum[r] = v
			}
		}
	}
	for r, v := range sum {
		if v > 0 {
			d.ByResource[r] = v
			d.Total += v
		}
	}
	return d
}

// queueSource says where a pod's queue name was found.
type queueSource struct {
	Queue string
	// From is "pod" or the owner that carries the label, e.g. "Job/train".
	From string
	// Chain is the pod's controlling owner chain, e.g. ["Job/train", "JobSet/llama"].
	Chain []*auditor.Owner
	// Unresolved is set when the chain's last link is not in the snapshot: its labels
	// (and its own owners) are unknown.
	Unresolved bool
}

const maxOwnerDepth = 8

// controllerRef returns the reference with controller: true, the only one Kueue follows
// (kueue.FactControllerOnly: pkg/controller/jobframework/integrationmanager.go
// IsOwnerManagedByKueueForObject reads metav1.GetControllerOf). Any client may add other
// owner references to its own pods, so a bare pod naming an admitted Job as a plain owner
// is not that Job's pod.
func controllerRef(refs []metav1.OwnerReference) (metav1.OwnerReference, bool) {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return r, true
		}
	}
	return metav1.OwnerReference{}, false
}

// plainOwners names a pod's owner references that are not its controller
// ("Job/train"), for messages.
func plainOwners(p *corev1.Pod) []string {
	var out []string
	for _, r := range p.OwnerReferences {
		if r.Controller == nil || !*r.Controller {
			out = append(out, r.Kind+"/"+r.Name)
		}
	}
	return out
}

// ownerChain follows the controlling owner references of a pod through the snapshot.
// unresolved is true when a reference points at an object the snapshot does not hold;
// that link is still named in the chain so messages can say where the chain ends.
func ownerChain(s *auditor.Snapshot, p *corev1.Pod) (chain []*auditor.Owner, unresolved bool) {
	refs := p.OwnerReferences
	seen := map[string]bool{}
	for i := 0; i < maxOwnerDepth; i++ {
		ref, ok := controllerRef(refs)
		if !ok {
			break
		}
		o := s.Owner(p.Namespace, ref)
		if o == nil {
			chain = append(chain, &auditor.Owner{Kind: ref.Kind, Name: ref.Name, Namespace: p.Namespace, UID: ref.UID, APIVersion: ref.APIVersion})
			return chain, true
		}
		k := o.Kind + "/" + o.Name
		if seen[k] {
			break
		}
		seen[k] = true
		chain = append(chain, o)
		refs = o.OwnerReferences
	}
	return chain, false
}

// queueName finds the queue label on the pod or on its controlling owner chain. An
// annotation with the same key does not count (Kueue v0.15 reads the label only).
func (g gpuScope) queueName(s *auditor.Snapshot, p *corev1.Pod) queueSource {
	chain, unresolved := ownerChain(s, p)
	q := queueSource{Chain: chain, Unresolved: unresolved}
	if v := strings.TrimSpace(p.Labels[g.cfg.QueueNameLabel]); v != "" {
		q.Queue, q.From = v, "pod"
		return q
	}
	for _, o := range chain {
		if v := strings.TrimSpace(o.Labels[g.cfg.QueueNameLabel]); v != "" {
			q.Queue, q.From = v, o.Kind+"/"+o.Name
			return q
		}
	}
	return q
}

// gpuPod is one non-terminated pod that asks for GPUs, with what the SR2 rules judge it by.
type gpuPod struct {
	Pod     *corev1.Pod
	Demand  gpuDemand
	InScope bool // its namespace is Kueue-managed and not excluded
	Gated   bool // Kueue's admission gate holds it
	Queue   queueSource
}

// gpuPods returns every non-terminated pod requesting a GPU, sorted by namespace and name.
// The owner chain is resolved only for pods in scope. O(pods).
func (g gpuScope) gpuPods(s *auditor.Snapshot) []gpuPod {
	var out []gpuPod
	for _, p := range s.Pods {
		if family.Terminated(p) {
			continue
		}
		d := g.podGPUs(p)
		if d.Total == 0 {
			continue
		}
		gp := gpuPod{Pod: p, Demand: d, InScope: g.inScope(s.Namespace(p.Namespace)), Gated: kueue.Gated(p)}
		if gp.InScope {
			gp.Queue = g.queueName(s, p)
		}
		out = append(out, gp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pod.Namespace != out[j].Pod.Namespace {
			return out[i].Pod.Namespace < out[j].Pod.Namespace
		}
		return out[i].Pod.Name < out[j].Pod.Name
	})
	return out
}

// unresolvedOwnerHidden explains, when a pod's owner chain ends at an object the auditor
// may not see (its resource forbidden, failing or not yet synced), that the queue label
// could be there. It returns "" when the missing owner simply does not exist.
func unresolvedOwnerHidden(s *auditor.Snapshot, q queueSource) string {
	if !q.Unresolved || len(q.Chain) == 0 {
		return ""
	}
	last := q.Chain[len(q.Chain)-1]
	gv, err := schema.ParseGroupVersion(last.APIVersion)
	if err != nil {
		return ""
	}
	info, ok := auditor.LookupKind(schema.GroupKind{Group: gv.Group, Kind: last.Kind})
	if !ok {
		return ""
	}
	a := s.AvailabilityOf(info.ID)
	switch a.State {
	case auditor.Forbidden, auditor.Failing, auditor.Pending:
		return fmt.Sprintf("%s is %s", info.ID, a.State)
	}
	return ""
}

func chainString(chain []*auditor.Owner) string {
	parts := make([]string, 0, len(chain))
	for _, o := range chain {
		parts = append(parts, o.Kind+"/"+o.Name)
	}
	return strings.Join(parts, " -> ")
}
