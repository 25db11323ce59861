package sr2

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
)

// gpuOffer is what the cluster can hand out of the configured GPU resources: the
// extended resources its Nodes advertise (status.capacity and status.allocatable), or,
// when no Node is among the inputs, the ones its pods request. A gate that never names a
// resource the cluster offers is a bypass; one that never names a resource nobody can be
// scheduled on is a hardening gap.
type gpuOffer struct {
	// Where lists, per concrete resource name, where it was seen ("Node gpu-1").
	Where map[string][]string
	// FromNodes: Nodes were seen and are authoritative. Otherwise Reason says why not.
	FromNodes bool
	Reason    string
}

// gpuOffered reads what the cluster offers. Live, Nodes are authoritative: a running GPU
// pod's devices come from its Node, and a pod waiting for a node the autoscaler has yet
// to create counts once the node exists (a Node event re-evaluates the gate). Pods are
// read only when no Node is visible (an offline scan of manifests without Nodes), so the
// rule does not depend on pods where the engine re-evaluates it only on cluster events.
func (g gpuScope) gpuOffered(s *auditor.Snapshot) gpuOffer {
	out := gpuOffer{Where: map[string][]string{}}
	if s.Visible(auditor.ResourceNodes) && len(s.Nodes) > 0 {
		out.FromNodes = true
		for _, n := range s.Nodes {
			seen := map[string]bool{}
			for _, list := range []corev1.ResourceList{n.Status.Capacity, n.Status.Allocatable} {
				for name, q := range list {
					r := string(name)
					if !g.cfg.IsGPUResource(r) || q.Sign() <= 0 || seen[r] {
						continue
					}
					seen[r] = true
					out.Where[r] = append(out.Where[r], "Node "+n.Name)
				}
			}
		}
		return out
	}
	if reason, unseen := inputs.Unseen(s, auditor.ResourceNodes); unseen {
		out.Reason = reason
	} else {
		out.Reason = "no Node among the inputs"
	}
	for _, p := range s.Pods {
		if family.Terminated(p) {
			continue
		}
		d := g.podGPUs(p)
		for r, v := range d.ByResource {
			if v > 0 {
				out.Where[r] = append(out.Where[r], fmt.Sprintf("pod %s/%s", p.Namespace, p.Name))
			}
		}
	}
	return out
}

// names returns the offered resource names, sorted.
func (o gpuOffer) names() []string {
	out := make([]string, 0, len(o.Where))
	for r := range o.Where {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// evidence describes where the given resources were seen, a few places each.
func (o gpuOffer) evidence(resources []string) string {
	var parts []string
	for _, r := range resources {
		where := o.Where[r]
		sort.Strings(where)
		shown := where
		if len(shown) > 3 {
			shown = shown[:3]
		}
		s := fmt.Sprintf("%s (%s", r, strings.Join(shown, ", "))
		if more := len(where) - len(shown); more > 0 {
			s += fmt.Sprintf(", %d more", more)
		}
		parts = append(parts, s+")")
	}
	return strings.Join(parts, ", ")
}
