package netpol

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// FuzzEvaluate feeds arbitrary NetworkPolicy documents (YAML or JSON, as a manifest scan
// would) through every evaluator function: none may panic, and the classification must
// keep its invariants. Seeds live in testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(`{"metadata":{"namespace":"serving","name":"deny"},"spec":{"podSelector":{}}}`))
	f.Add([]byte("spec:\n  ingress:\n  - from:\n    - namespaceSelector: {}\n      podSelector: {matchLabels: {a: b}}\n"))
	namespaces := []Namespace{
		NewNamespace("serving", nil),
		NewNamespace("litellm", map[string]string{"team": "litellm", "": "x"}),
		NewNamespace("", map[string]string{"a": "b"}),
	}
	pods := []*corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p", Labels: map[string]string{"app": "vllm"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "", Name: "q"}},
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var p networkingv1.NetworkPolicy
		if err := yaml.Unmarshal(doc, &p); err != nil {
			return
		}
		if p.Namespace == "" {
			p.Namespace = "serving"
		}
		types := EffectiveTypes(&p.Spec)
		if len(p.Spec.PolicyTypes) == 0 && len(types) == 0 {
			t.Fatalf("defaulted policy types must include Ingress, got none")
		}
		_ = SelectsAllPods(&p)
		for _, pod := range pods {
			_, _ = Selects(&p, pod)
		}
		ps := []*networkingv1.NetworkPolicy{&p, nil}
		_, _ = IsolatedForIngress(ps, pods[0])
		_ = NamespaceIsolators(ps, p.Namespace)
		_ = AllowAllIngressRules(&p)
		_ = SelectorString(&p.Spec.PodSelector)
		check := func(list []networkingv1.NetworkPolicyPeer, peers []Peer) {
			if len(list) == 0 {
				if len(peers) != 1 || peers[0].Kind != AllSources {
					t.Fatalf("a rule without peers must admit all sources, got %+v", peers)
				}
				return
			}
			if len(peers) != len(list) {
				t.Fatalf("%d peers classified from %d", len(peers), len(list))
			}
			for _, pe := range peers {
				switch pe.Kind {
				case Invalid:
					if pe.Err == nil {
						t.Fatalf("invalid peer without error: %+v", pe)
					}
				case SameNamespace:
					if len(pe.Namespaces) != 1 || pe.Namespaces[0] != p.Namespace {
						t.Fatalf("same-namespace peer admits %v", pe.Namespaces)
					}
				case AllSources, AllNamespaces, NamespaceSelector, IPBlock:
				default:
					t.Fatalf("unclassified peer %+v", pe)
				}
				if pe.NamespaceSelector != nil {
					_, _ = PinnedNames(pe.NamespaceSelector)
					_ = SelectorString(pe.NamespaceSelector)
				}
			}
		}
		for _, r := range p.Spec.Ingress {
			check(r.From, IngressPeers(p.Namespace, r, namespaces))
			_ = PortsString(r.Ports)
		}
		for _, r := range p.Spec.Egress {
			check(r.To, EgressPeers(p.Namespace, r, namespaces))
			_ = PortsString(r.Ports)
		}
	})
}
