package rules

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// gpuScope answers the SR2 questions shared by the GPU rules: is a namespace managed by
// Kueue, how many GPUs does a pod ask for, where does its queue name come from.
type gpuScope struct {
	cfg      auditor.SR2Config
	managed  labels.Selector
	excluded map[string]bool
}

func newGPUScope(cfg auditor.Config) gpuScope {
	ex := map[string]bool{}
	for _, n := range cfg.SR2.ExcludedNamespaces {
		ex[n] = true
	}
	return gpuScope{cfg: cfg.SR2, managed: cfg.KueueManagedSelector(), excluded: ex}
}

// inScope reports whether pods of the namespace must go through Kueue.
func (g gpuScope) inScope(ns *corev1.Namespace) bool {
	return ns != nil && !g.excluded[ns.Name] && g.managed.Matches(labels.Set(ns.Labels))
}

// managedNamespaces lists the namespaces in scope, sorted.
func (g gpuScope) managedNamespaces(s *auditor.Snapshot) []*corev1.Namespace {
	var out []*corev1.Namespace
	for _, ns := range s.Namespaces {
		if g.inScope(ns) {
			out = append(out, ns)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// gpuDemand is what a pod asks for, by resource name, and where it asks.
type gpuDemand struct {
	Total      int64
	ByResource map[string]int64
	Where      []string // "container trainer: nvidia.com/gpu=2"
}

// amount of one extended resource in a requirements block: limits imply requests for
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
	note := func(kind, name string, m map[string]int64) {
		names := make([]string, 0, len(m))
		for r := range m {
			names = append(names, r)
		}
		sort.Strings(names)
		for _, r := range names {
			if m[r] > 0 {
				d.Where = append(d.Where, fmt.Sprintf("%s %s: %s=%d", kind, name, r, m[r]))
			}
		}
	}
	for _, c := range p.Spec.Containers {
		m := g.amounts(c.Resources)
		note("container", c.Name, m)
		for r, v := range m {
			sum[r] += v
		}
	}
	for _, c := range p.Spec.InitContainers {
		m := g.amounts(c.Resources)
		note("init container", c.Name, m)
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
		note("ephemeral container", c.Name, m)
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
		note("pod-level resources", "", m)
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
}

const maxOwnerDepth = 8

// controllerRef returns the reference to follow: the controller, or the only owner when
// none is marked controller (hand-written manifests often omit the flag).
func controllerRef(refs []metav1OwnerReference) (metav1OwnerReference, bool) {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return r, true
		}
	}
	if len(refs) == 1 {
		return refs[0], true
	}
	return metav1OwnerReference{}, false
}

// ownerChain follows the controlling owner references of a pod through the snapshot.
func ownerChain(s *auditor.Snapshot, p *corev1.Pod) []*auditor.Owner {
	var chain []*auditor.Owner
	refs := p.OwnerReferences
	seen := map[string]bool{}
	for i := 0; i < maxOwnerDepth; i++ {
		ref, ok := controllerRef(refs)
		if !ok {
			break
		}
		o := s.Owner(p.Namespace, ref)
		if o == nil {
			// Not in the snapshot: still name it so messages can say where the chain ends.
			chain = append(chain, &auditor.Owner{Kind: ref.Kind, Name: ref.Name, Namespace: p.Namespace, UID: ref.UID, APIVersion: ref.APIVersion})
			break
		}
		k := o.Kind + "/" + o.Name
		if seen[k] {
			break
		}
		seen[k] = true
		chain = append(chain, o)
		refs = o.OwnerReferences
	}
	return chain
}

// queueName finds the queue label on the pod or on its controlling owner chain. An
// annotation with the same key does not count (Kueue v0.15 reads the label only).
func (g gpuScope) queueName(s *auditor.Snapshot, p *corev1.Pod) queueSource {
	chain := ownerChain(s, p)
	if v := strings.TrimSpace(p.Labels[g.cfg.QueueNameLabel]); v != "" {
		return queueSource{Queue: v, From: "pod", Chain: chain}
	}
	for _, o := range chain {
		if v := strings.TrimSpace(o.Labels[g.cfg.QueueNameLabel]); v != "" {
			return queueSource{Queue: v, From: o.Kind + "/" + o.Name, Chain: chain}
		}
	}
	return queueSource{Chain: chain}
}

func chainString(chain []*auditor.Owner) string {
	parts := make([]string, 0, len(chain))
	for _, o := range chain {
		parts = append(parts, o.Kind+"/"+o.Name)
	}
	return strings.Join(parts, " -> ")
}

func podRef(p *corev1.Pod) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: p.Namespace, Name: p.Name}
}

func namespaceRef(name string) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: name}
}
