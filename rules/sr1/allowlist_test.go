package sr1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func ipBlockPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

// adminNetPol builds a cluster-scoped policy of the network-policy-api from literal maps.
func adminNetPol(kind, name string, spec map[string]any) *unstructured.Unstructured {
	version := "v1alpha1"
	if kind == "ClusterNetworkPolicy" {
		version = "v1alpha2"
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.networking.k8s.io/" + version, "kind": kind,
		"metadata": map[string]any{"name": name}, "spec": spec,
	}}
}

func selectorMap(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return map[string]any{"matchLabels": m}
}

func adminNetPolSpec(action string, subject, peer map[string]any) map[string]any {
	return map[string]any{
		"priority": int64(10),
		"subject":  subject,
		"ingress":  []any{map[string]any{"name": "r", "action": action, "from": []any{peer}}},
	}
}

func TestIngressOutsideAllowlist(t *testing.T) {
	port := intstr.FromInt32(8000)
	withPort := func(p *networkingv1.NetworkPolicy) {
		p.Spec.Ingress[len(p.Spec.Ingress)-1].Ports = []networkingv1.NetworkPolicyPort{{Port: &port}}
	}
	servingSubject := map[string]any{"namespaces": selectorMap(corev1.LabelMetadataName, "serving")}
	cases := map[string]struct {
		objs         []any
		want         []string
		contains     []string
		inconclusive bool
	}{
		"trusted namespaces pinned by name, own pods": {
			objs: []any{sr1Platform(), netPol("serving", "allow", ingressRule(fromNamespaces(pinnedNS("litellm")), fromNamespaces(pinnedNS("inference")), fromOwnPods(sr1Sel()))),
				netPol("inference", "allow", ingressRule(fromNamespaces(pinnedNS("agentgateway-system")), fromNamespaces(pinnedNS("monitoring"))))},
		},
		"rule without from admits every source": {
			objs:     []any{sr1Platform(), netPol("serving", "open", withPodSel("app", "vllm"), ingressRule(), withPort)},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|open|ingress[0] critical"},
			contains: []string{"ingress rule 0", "every source, including addresses outside the cluster", "to pods {app=vllm} on TCP/8000"},
		},
		"empty from list admits every source": {
			objs: []any{sr1Platform(), netPol("serving", "open", func(p *networkingv1.NetworkPolicy) {
				p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{}}}
			})},
			want: []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|open|ingress[0] critical"},
		},
		"empty namespaceSelector admits every namespace": {
			objs:     []any{sr1Platform(), netPol("inference", "all-ns", ingressRule(networkingv1.NetworkPolicyPeer{NamespaceSelector: sr1Sel(), PodSelector: sr1Sel("app", "client")}))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|inference|all-ns|ingress[0] critical"},
			contains: []string{"pods of every namespace, present or future (from[0].namespaceSelector {} AND podSelector {app=client})"},
		},
		"team label selects an untrusted namespace": {
			objs:     []any{sr1Platform(), netPol("inference", "search", ingressRule(fromNamespaces(sr1Sel("llm-platform/team", "search"))))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|inference|search|ingress[0] critical"},
			contains: []string{"namespaces team-search (from[0].namespaceSelector {llm-platform/team=search})", "all pods on all ports"},
		},
		"selector matching trusted and untrusted names only the untrusted": {
			objs:     []any{sr1Platform(), netPol("serving", "proxies", ingressRule(networkingv1.NetworkPolicyPeer{NamespaceSelector: sr1Sel("llm-platform/tier", "budget-proxy"), PodSelector: sr1Sel("app", "litellm")}))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|proxies|ingress[0] critical"},
			contains: []string{"namespaces litellm-dev (from[0].namespaceSelector {llm-platform/tier=budget-proxy} AND podSelector {app=litellm})"},
		},
		"two peers are ORed: pinned namespace or own pods": {
			objs: []any{sr1Platform(), netPol("serving", "or", ingressRule(fromNamespaces(pinnedNS("litellm")), fromOwnPods(sr1Sel("app", "team-search"))))},
		},
		"podSelector-only peer stays in the policy's namespace": {
			objs: []any{sr1Platform(), netPol("serving", "own", ingressRule(fromOwnPods(sr1Sel())))},
		},
		"ipBlock names the CIDR": {
			objs:     []any{sr1Platform(), netPol("serving", "cidr", ingressRule(fromNamespaces(pinnedNS("litellm")), ipBlockPeer("10.0.0.0/8", "10.1.0.0/16")))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|cidr|ingress[0] critical"},
			contains: []string{"CIDR 10.0.0.0/8 except 10.1.0.0/16 (from[1].ipBlock"},
		},
		"the protected namespace itself is trusted for itself only": {
			objs: []any{sr1Platform(),
				netPol("serving", "from-inference", ingressRule(fromNamespaces(pinnedNS("inference")), fromNamespaces(pinnedNS("serving")))),
				netPol("inference", "from-serving", ingressRule(fromNamespaces(pinnedNS("serving"))))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|inference|from-serving|ingress[0] critical"},
			contains: []string{"namespaces serving (from[0].namespaceSelector {kubernetes.io/metadata.name=serving})"},
		},
		"egress-only policy: its ingress rules admit nothing": {
			objs: []any{sr1Platform(), netPol("serving", "egress", withTypes(egressT), ingressRule())},
		},
		"one finding per offending rule": {
			objs: []any{sr1Platform(), netPol("serving", "mixed", ingressRule(fromNamespaces(pinnedNS("litellm"))), ingressRule(fromNamespaces(pinnedNS("team-web"))), ingressRule())},
			want: []string{
				"netpol-ingress-outside-allowlist|NetworkPolicy|serving|mixed|ingress[1] critical",
				"netpol-ingress-outside-allowlist|NetworkPolicy|serving|mixed|ingress[2] critical",
			},
		},
		"policy selecting no pod today still counts": {
			objs:     []any{sr1Platform(), sr1Pod("serving", "vllm-0", "app", "vllm"), netPol("serving", "future", withPodSel("app", "canary"), ingressRule())},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|future|ingress[0] critical"},
			contains: []string{"selects no pod today"},
		},
		"policies outside protected namespaces are not judged": {
			objs: []any{sr1Platform(), netPol("team-web", "open", ingressRule())},
		},
		"invalid peer is inconclusive, valid ones still judged": {
			objs:     []any{sr1Platform(), netPol("serving", "bad", ingressRule(networkingv1.NetworkPolicyPeer{}, ipBlockPeer("0.0.0.0/0")))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|bad|ingress[0] critical"},
			contains: []string{"CIDR 0.0.0.0/0"}, inconclusive: true,
		},
		"offline without Namespace objects: an unpinned selector is judged at full severity": {
			objs: []any{snapshottest.Offline(), netPol("serving", "sel", ingressRule(fromNamespaces(sr1Sel("llm-platform/team", "search"))))},
			want: []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|sel|ingress[0] critical"},
			contains: []string{"any namespace carrying these labels (from[0].namespaceSelector {llm-platform/team=search} does not pin kubernetes.io/metadata.name to trusted names",
				"could not be resolved: no Namespace among the inputs"},
		},
		"offline without Namespace objects: a selector pinned to trusted names admits nothing untrusted": {
			objs: []any{snapshottest.Offline(), netPol("serving", "sel", ingressRule(fromNamespaces(pinnedNS("litellm")), fromNamespaces(pinnedNS("serving"))))},
		},
		"offline without Namespace objects: a selector pinned to an untrusted name is named": {
			objs:     []any{snapshottest.Offline(), netPol("serving", "sel", ingressRule(fromNamespaces(pinnedNS("team-search"))))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|sel|ingress[0] critical"},
			contains: []string{"namespaces team-search (from[0].namespaceSelector {kubernetes.io/metadata.name=team-search})"},
		},
		"offline with Namespace objects: selectors resolved against them": {
			objs: []any{snapshottest.Offline(), sr1Platform(), netPol("serving", "sel", ingressRule(fromNamespaces(sr1Sel("llm-platform/profile", "prod"))))},
		},
		"namespaces forbidden: selectors skipped, open rules still found": {
			objs: []any{sr1Forbidden(auditor.ResourceNamespaces),
				netPol("serving", "sel", ingressRule(fromNamespaces(sr1Sel("llm-platform/team", "search")))), netPol("serving", "open", ingressRule())},
			want:         []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|open|ingress[0] critical"},
			inconclusive: true,
		},
		"Admin-tier allow from an untrusted namespace": {
			objs: []any{sr1Platform(), adminNetPol("AdminNetworkPolicy", "allow-search", adminNetPolSpec("Allow", servingSubject,
				map[string]any{"namespaces": selectorMap("llm-platform/team", "search")}))},
			want: []string{"netpol-ingress-outside-allowlist|AdminNetworkPolicy||allow-search|ingress[0] critical"},
			contains: []string{`AdminNetworkPolicy allow-search (Admin tier, priority 10) ingress rule 0 "r" with action Allow`,
				"into serving from namespaces team-search (from[0] {llm-platform/team=search})"},
		},
		"Admin-tier allow from trusted pods is fine": {
			objs: []any{sr1Platform(), adminNetPol("AdminNetworkPolicy", "allow-litellm", adminNetPolSpec("Allow", servingSubject,
				map[string]any{"pods": map[string]any{"namespaceSelector": selectorMap(corev1.LabelMetadataName, "litellm"), "podSelector": map[string]any{}}}))},
		},
		"Admin-tier deny and pass never open the path": {
			objs: []any{sr1Platform(),
				adminNetPol("AdminNetworkPolicy", "deny", adminNetPolSpec("Deny", servingSubject, map[string]any{"namespaces": map[string]any{}})),
				adminNetPol("AdminNetworkPolicy", "pass", adminNetPolSpec("Pass", servingSubject, map[string]any{"namespaces": map[string]any{}}))},
		},
		"ClusterNetworkPolicy Admin accept from every namespace": {
			objs: []any{sr1Platform(), adminNetPol("ClusterNetworkPolicy", "cnp", func() map[string]any {
				s := adminNetPolSpec("Accept", map[string]any{"pods": map[string]any{"namespaceSelector": map[string]any{}, "podSelector": selectorMap("app", "vllm")}},
					map[string]any{"namespaces": map[string]any{}})
				s["tier"] = "Admin"
				return s
			}())},
			want:     []string{"netpol-ingress-outside-allowlist|ClusterNetworkPolicy||cnp|ingress[0] critical"},
			contains: []string{"into inference from every namespace", "into serving from every namespace"},
		},
		"Baseline-tier accept cannot override an isolating policy": {
			objs: []any{sr1Platform(), adminNetPol("ClusterNetworkPolicy", "baseline", func() map[string]any {
				s := adminNetPolSpec("Accept", servingSubject, map[string]any{"namespaces": map[string]any{}})
				s["tier"] = "Baseline"
				return s
			}())},
		},
		"admin policy whose subject is elsewhere": {
			objs: []any{sr1Platform(), adminNetPol("AdminNetworkPolicy", "web", adminNetPolSpec("Allow",
				map[string]any{"namespaces": selectorMap(corev1.LabelMetadataName, "team-web")}, map[string]any{"namespaces": map[string]any{}}))},
		},
		"malformed admin policy is inconclusive, not a panic": {
			objs: []any{sr1Platform(), adminNetPol("AdminNetworkPolicy", "broken", map[string]any{
				"subject": "everything", "ingress": []any{"x", map[string]any{"action": "Allow", "from": "y"}},
			})},
			inconclusive: true,
		},
		"NetworkPolicy finding notes Admin-tier policies it did not evaluate": {
			objs: []any{sr1Platform(), netPol("serving", "open", ingressRule()),
				adminNetPol("AdminNetworkPolicy", "deny-all", adminNetPolSpec("Deny", servingSubject, map[string]any{"namespaces": map[string]any{}}))},
			want:     []string{"netpol-ingress-outside-allowlist|NetworkPolicy|serving|open|ingress[0] critical"},
			contains: []string{"their denies were not evaluated: AdminNetworkPolicy deny-all"},
		},
	}
	r := ruleFor(ingressOutsideAllowlist)(auditor.DefaultConfig())
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := r.Evaluate(snapshottest.New(snapshottest.At(sr1Now), tc.objs))
			assert.Equal(t, tc.want, sr1NilIfEmpty(sr1FindingKeys(res.Findings)))
			assert.Equal(t, tc.inconclusive, len(res.Inconclusive) > 0, "inconclusive: %v", res.Inconclusive)
			for _, c := range tc.contains {
				found := false
				for _, f := range res.Findings {
					found = found || strings.Contains(f.Message, c)
				}
				assert.True(t, found, "no finding message contains %q: %v", c, res.Findings)
			}
		})
	}
}
