package sr1

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var sr1Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sr1NS(name string, kv ...string) *corev1.Namespace {
	l := map[string]string{corev1.LabelMetadataName: name}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// sr1Platform mirrors examples/platform/00-namespaces.yaml.
func sr1Platform() []any {
	return []any{
		sr1NS("serving", "llm-platform/tier", "model-servers"),
		sr1NS("inference", "llm-platform/tier", "gateway"),
		sr1NS("litellm", "llm-platform/tier", "budget-proxy", "llm-platform/profile", "prod"),
		sr1NS("litellm-dev", "llm-platform/tier", "budget-proxy", "llm-platform/profile", "dev"),
		sr1NS("agentgateway-system"),
		sr1NS("monitoring"),
		sr1NS("kube-system"),
		sr1NS("team-research", "llm-platform/kueue-managed", "true", "llm-platform/team", "research"),
		sr1NS("team-search", "llm-platform/kueue-managed", "true", "llm-platform/team", "search"),
		sr1NS("team-web", "llm-platform/team", "web"),
	}
}

func sr1Sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func pinnedNS(name string) *metav1.LabelSelector { return sr1Sel(corev1.LabelMetadataName, name) }

type npOpt func(*networkingv1.NetworkPolicy)

func netPol(namespace, name string, opts ...npOpt) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func withPodSel(kv ...string) npOpt {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PodSelector = *sr1Sel(kv...) }
}

func withTypes(ts ...networkingv1.PolicyType) npOpt {
	return func(p *networkingv1.NetworkPolicy) { p.Spec.PolicyTypes = ts }
}

// ingressRule appends an ingress rule with the given peers (none: a rule without `from`).
func ingressRule(peers ...networkingv1.NetworkPolicyPeer) npOpt {
	return func(p *networkingv1.NetworkPolicy) {
		p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers})
	}
}

func fromNamespaces(sel *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: sel}
}

func fromOwnPods(sel *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: sel}
}

func sr1Pod(namespace, name string, kv ...string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: sr1Sel(kv...).MatchLabels},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// sr1FindingKeys renders findings as "rule|kind|namespace|name[|discriminator] severity" for exact comparison.
func sr1FindingKeys(fs []auditor.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s", f.Key(), f.Severity))
	}
	sort.Strings(out)
	return out
}

func sr1Forbidden(resources ...string) map[string]auditor.Availability {
	m := map[string]auditor.Availability{}
	for _, r := range resources {
		m[r] = auditor.Availability{State: auditor.Forbidden, Message: "RBAC"}
	}
	return m
}
