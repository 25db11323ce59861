package sr2

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/dra"
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

// draGPUs says which DRA devices are GPUs (sr2.gpuDeviceDrivers, sr2.gpuDeviceClasses).
func (g gpuScope) draGPUs() dra.GPUs {
	return dra.GPUs{Drivers: g.cfg.GPUDeviceDrivers, Classes: g.cfg.GPUDeviceClasses}
}

// gpuDemand is what a pod asks for, by resource name, and where it asks.
type gpuDemand struct {
	// Total adds every GPU resource: a MIG slice counts as one device. GPUs taken through
	// DRA claims are added (Claims.GPUs).
	Total      int64
	ByResource map[string]int64
	Where      []string // "container trainer: nvidia.com/gpu=2"
	// Claims is what the pod takes through Dynamic Resource Allocation claims.
	Claims dra.Demand
}

// count says how many GPUs the demand is: "2 GPUs", or "at least 1 GPU (...)" when a
// DRA request takes every matching device of a node.
func (d gpuDemand) count() string {
	if !d.Claims.AllDevices {
		return gpuCount(d.Total)
	}
	n := d.Total
	if n == 0 {
		n = 1
	}
	return "at least " + gpuCount(n) + " (a DRA request takes all matching devices: count unknown)"
}

// least is the fewest GPUs the demand can be: Total, at least one when a DRA request
// takes all matching devices.
func (d gpuDemand) least() int64 {
	if d.Total == 0 && d.Claims.AllDevices {
		return 1
	}
	return d.Total
}

// where lists where the pod asks for GPUs, container resources then DRA claims.
func (d gpuDemand) where() string {
	return strings.Join(append(slices.Clone(d.Where), d.Claims.Where...), ", ")
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

// podsJudged are the GPU pods and the pods whose DRA claims cannot be judged.
type podsJudged struct {
	gpu []gpuPod
	// undecided are in-scope pods taking no GPU resource whose claims cannot be resolved
	// (a claim or class not in the snapshot): Demand.Claims.Unknown says why.
	undecided []gpuPod
}

// gpuPods returns every non-terminated pod requesting a GPU, through its containers'
// resources or its DRA claims (ix), sorted by namespace and name. The owner chain is
// resolved only for pods in scope. O(pods).
func (g gpuScope) gpuPods(s *auditor.Snapshot, ix func() *dra.Index) podsJudged {
	var out podsJudged
	for _, p := range s.Pods {
		if family.Terminated(p) {
			continue
		}
		d := g.podGPUs(p)
		if len(p.Spec.ResourceClaims) > 0 {
			d.Claims = ix().PodDemand(p)
			d.Total += d.Claims.GPUs
		}
		if d.Total == 0 && !d.Claims.TakesGPUs() {
			if len(d.Claims.Unknown) > 0 && g.inScope(s.Namespace(p.Namespace)) {
				out.undecided = append(out.undecided, gpuPod{Pod: p, Demand: d, InScope: true, Gated: kueue.Gated(p), Queue: g.queueName(s, p)})
			}
			continue
		}
		gp := gpuPod{Pod: p, Demand: d, InScope: g.inScope(s.Namespace(p.Namespace)), Gated: kueue.Gated(p)}
		if gp.InScope {
			gp.Queue = g.queueName(s, p)
		}
		out.gpu = append(out.gpu, gp)
	}
	for _, l := range [][]gpuPod{out.gpu, out.undecided} {
		sort.Slice(l, func(i, j int) bool {
			if l[i].Pod.Namespace != l[j].Pod.Namespace {
				return l[i].Pod.Namespace < l[j].Pod.Namespace
			}
			return l[i].Pod.Name < l[j].Pod.Name
		})
	}
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
