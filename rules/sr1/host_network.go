package sr1

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// Host networking beside the budget path. A pod with `hostNetwork: true` uses its node's
// network namespace: "NetworkPolicy behaviour for hostNetwork pods is undefined" and the
// most common implementation ignores such pods when matching podSelector and
// namespaceSelector, treating their traffic as the node's (Kubernetes docs,
// concepts/services-networking/network-policies, "NetworkPolicy and hostNetwork pods");
// and "What you can't do with network policies" includes blocking a pod's access from
// its own node. So a host-network model server is not isolated by its namespace's
// policies, and a tenant host-network pod reaches every model server on its node.

// hostNetworkWorkload is a pod, or the pod template of a Deployment or DaemonSet (what an
// offline scan of manifests holds before any pod exists), that asks for host networking.
type hostNetworkWorkload struct {
	ref  *auditor.ObjectRef
	what string // "Pod serving/vllm-0", for messages
}

// hostNetworkWorkloads lists the host-network workloads of namespace ns: its Deployments
// and DaemonSets whose template sets hostNetwork, and its running or pending pods that do,
// except those a listed template controls (one finding per workload, not per replica).
// A pod's phase counts only when read from a cluster (it has a UID): the API server
// ignores a manifest's status on create.
func hostNetworkWorkloads(s *auditor.Snapshot, ns string) []hostNetworkWorkload {
	var out []hostNetworkWorkload
	templates := map[string]bool{}
	for _, d := range s.Deployments {
		if d.Namespace == ns && d.Spec.Template.Spec.HostNetwork {
			templates["Deployment/"+d.Name] = true
			out = append(out, hostNetworkWorkload{ref: appsRef("Deployment", d.Namespace, d.Name), what: "Deployment " + ns + "/" + d.Name + " (pod template)"})
		}
	}
	for _, d := range s.DaemonSets {
		if d.Namespace == ns && d.Spec.Template.Spec.HostNetwork {
			templates["DaemonSet/"+d.Name] = true
			out = append(out, hostNetworkWorkload{ref: appsRef("DaemonSet", d.Namespace, d.Name), what: "DaemonSet " + ns + "/" + d.Name + " (pod template)"})
		}
	}
	for _, p := range s.PodsIn(ns) {
		if !p.Spec.HostNetwork || (p.UID != "" && family.Terminated(p)) {
			continue
		}
		if kind, name := templateController(s, p); templates[kind+"/"+name] {
			continue
		}
		what := "Pod " + ns + "/" + p.Name
		if p.Spec.NodeName != "" {
			what += " on node " + p.Spec.NodeName
		}
		out = append(out, hostNetworkWorkload{ref: family.PodRef(p), what: what})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref.String() < out[j].ref.String() })
	return out
}

// templateController returns the Deployment or DaemonSet that controls pod p, through its
// controller reference (and, for a Deployment, its ReplicaSet's), or "" when none is known.
func templateController(s *auditor.Snapshot, p *corev1.Pod) (kind, name string) {
	ref := controllerOf(p.OwnerReferences)
	if ref == nil {
		return "", ""
	}
	switch ref.Kind {
	case "DaemonSet":
		return "DaemonSet", ref.Name
	case "ReplicaSet":
		if rs := s.Owner(p.Namespace, *ref); rs != nil {
			if dref := controllerOf(rs.OwnerReferences); dref != nil && dref.Kind == "Deployment" {
				return "Deployment", dref.Name
			}
		}
	}
	return "", ""
}

func appsRef(kind, ns, name string) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: kind, Namespace: ns, Name: name}
}

// hostNetworkPods keeps whole every pod that asks for host networking, wherever it runs:
// a stub would hide it from the tenant rule.
func hostNetworkPods(p *corev1.Pod) bool { return p.Spec.HostNetwork }

// servingHostNetwork (serving-host-network): a workload of a protected namespace runs
// with host networking, so the namespace's NetworkPolicies do not isolate it.
func servingHostNetwork(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "serving-host-network", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "A workload of a protected namespace runs with hostNetwork, outside NetworkPolicy",
		Pass:  "no workload of a protected namespace runs with hostNetwork",
		Remediation: "Remove `hostNetwork: true` from the model server's pod spec (serve on the pod network behind the namespace's default deny). " +
			"NetworkPolicy does not isolate host-network pods: they listen on the node's addresses, reachable from any pod that can reach the node.",
		Pods:   protectedPods(cfg),
		Inputs: []string{auditor.ResourcePods, auditor.ResourceDeployments, auditor.ResourceDaemonSets, auditor.ResourceReplicaSets},
		Scope:  auditor.ScopeNamespace, Subjects: cfg.Protected(),
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, ns := range v.protected {
			for _, w := range hostNetworkWorkloads(s, ns) {
				res.Findings = append(res.Findings, meta.NewFinding(w.ref, fmt.Sprintf(
					"%s sets hostNetwork: true in protected namespace %s: it uses its node's network namespace, which NetworkPolicy does not isolate, "+
						"so the namespace's default deny and allow-list do not apply to it (Kubernetes docs: NetworkPolicy and hostNetwork pods)", w.what, ns)))
			}
		}
		return res
	}}
}

// tenantHostNetworkPod (tenant-host-network-pod): a workload outside the budget path
// (neither protected, nor trusted, nor a platform namespace allowed host networking)
// runs with host networking: traffic from a pod's own node cannot be blocked by
// NetworkPolicy, so it reaches the model servers on its node past every policy.
func tenantHostNetworkPod(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "tenant-host-network-pod", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "A tenant workload runs with hostNetwork and bypasses NetworkPolicy from its node",
		Pass:  "no tenant workload runs with hostNetwork",
		Remediation: "Delete the workload or remove `hostNetwork: true`, and enforce Pod Security `baseline` on the namespace " +
			"(`pod-security.kubernetes.io/enforce: baseline`) so no host-network pod is admitted again. A platform agent that needs host networking " +
			"belongs in a namespace listed in sr1.hostNetworkNamespaces.",
		Pods:   hostNetworkPods,
		Inputs: []string{auditor.ResourcePods, auditor.ResourceDeployments, auditor.ResourceDaemonSets, auditor.ResourceReplicaSets},
		Scope:  auditor.ScopeNamespace,
	}
	return check{Meta: meta, Eval: func(v *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, ns := range workloadNamespaces(s) {
			if !cfg.Untrusted(ns) {
				continue
			}
			for _, w := range hostNetworkWorkloads(s, ns) {
				res.Findings = append(res.Findings, meta.NewFinding(w.ref, fmt.Sprintf(
					"%s sets hostNetwork: true in namespace %s, which is neither protected, trusted nor a host-network platform namespace (%s): "+
						"its traffic leaves from its node's addresses, and NetworkPolicy cannot block a pod's access from its own node, "+
						"so it reaches the model servers on that node without going through LiteLLM",
					w.what, ns, hostNetworkList(cfg))))
			}
		}
		return res
	}}
}

// workloadNamespaces lists the namespaces holding a pod, Deployment or DaemonSet, sorted.
func workloadNamespaces(s *auditor.Snapshot) []string {
	set := map[string]bool{}
	for _, p := range s.Pods {
		set[p.Namespace] = true
	}
	for _, d := range s.Deployments {
		set[d.Namespace] = true
	}
	for _, d := range s.DaemonSets {
		set[d.Namespace] = true
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

func hostNetworkList(cfg auditor.Config) string {
	if len(cfg.SR1.HostNetworkNamespaces) == 0 {
		return "sr1.hostNetworkNamespaces is empty"
	}
	return "sr1.hostNetworkNamespaces: " + strings.Join(cfg.SR1.HostNetworkNamespaces, ", ")
}

// controllerOf returns the reference with controller: true. Only that one names the
// controller (metav1.GetControllerOf); any client may add other owner references.
func controllerOf(refs []metav1.OwnerReference) *metav1.OwnerReference {
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}
