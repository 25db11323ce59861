package netpol

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	ingress = networkingv1.PolicyTypeIngress
	egress  = networkingv1.PolicyTypeEgress
)

func sel(kv ...string) *metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &metav1.LabelSelector{MatchLabels: m}
}

func testNamespaces() []Namespace {
	return []Namespace{
		NewNamespace("serving", nil),
		NewNamespace("litellm", map[string]string{"llm-platform/tier": "budget-proxy"}),
		NewNamespace("litellm-dev", map[string]string{"llm-platform/tier": "budget-proxy"}),
		NewNamespace("team-search", map[string]string{"llm-platform/team": "search"}),
	}
}

func TestEffectiveTypes(t *testing.T) {
	cases := map[string]struct {
		spec networkingv1.NetworkPolicySpec
		want []networkingv1.PolicyType
	}{
		"omitted, no rules: ingress": {spec: networkingv1.NetworkPolicySpec{}, want: []networkingv1.PolicyType{ingress}},
		"omitted, egress rules: both": {
			spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{}}},
			want: []networkingv1.PolicyType{ingress, egress},
		},
		"omitted, empty egress list: ingress only": {
			spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{}},
			want: []networkingv1.PolicyType{ingress},
		},
		"explicit egress only": {
			spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{egress}, Ingress: []networkingv1.NetworkPolicyIngressRule{{}}},
			want: []networkingv1.PolicyType{egress},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, EffectiveTypes(&tc.spec))
		})
	}
	assert.Nil(t, EffectiveTypes(nil))
	assert.False(t, AffectsIngress(nil))
}

func TestIsolation(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "vllm-0", Labels: map[string]string{"app": "vllm"}}}
	cases := map[string]struct {
		policy        networkingv1.NetworkPolicy
		wantIsolated  bool
		wantNamespace bool
		wantErr       bool
	}{
		"empty podSelector, types omitted": {
			policy:       networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p"}},
			wantIsolated: true, wantNamespace: true,
		},
		"empty podSelector, egress only": {
			policy: networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p"},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{egress}}},
		},
		"selector matching the pod isolates it but not the namespace": {
			policy: networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p"},
				Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "vllm")}},
			wantIsolated: true,
		},
		"selector not matching": {
			policy: networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p"},
				Spec: networkingv1.NetworkPolicySpec{PodSelector: *sel("app", "other")}},
		},
		"policy of another namespace": {
			policy: networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "litellm", Name: "p"}},
		},
		"invalid podSelector": {
			policy: networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "serving", Name: "p"},
				Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}}},
			wantErr: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ps := []*networkingv1.NetworkPolicy{&tc.policy}
			got, errs := IsolatedForIngress(ps, pod)
			assert.Equal(t, tc.wantIsolated, got)
			assert.Equal(t, tc.wantErr, len(errs) > 0)
			assert.Equal(t, tc.wantNamespace, len(NamespaceIsolators(ps, "serving")) == 1)
		})
	}
}

func TestAllowAllIngressRules(t *testing.T) {
	tcp := corev1.ProtocolTCP
	port := intstr.FromInt32(8000)
	p := &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{
		{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel()}}},
		{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}},
		{},
	}}}
	assert.Equal(t, []int{2}, AllowAllIngressRules(p))
	p.Spec.PolicyTypes = []networkingv1.PolicyType{egress}
	assert.Empty(t, AllowAllIngressRules(p), "rules of a policy that does not affect ingress admit nothing")
}

func TestPeers(t *testing.T) {
	all := []string{"litellm", "litellm-dev", "serving", "team-search"}
	cases := map[string]struct {
		from []networkingv1.NetworkPolicyPeer
		want []Peer
	}{
		"no from: all sources": {
			want: []Peer{{Kind: AllSources, Index: -1, Field: "from", Namespaces: all}},
		},
		"empty from list: all sources": {
			from: []networkingv1.NetworkPolicyPeer{},
			want: []Peer{{Kind: AllSources, Index: -1, Field: "from", Namespaces: all}},
		},
		"podSelector only: own namespace": {
			from: []networkingv1.NetworkPolicyPeer{{PodSelector: sel()}},
			want: []Peer{{Kind: SameNamespace, Field: "from[0]", PodSelector: sel(), Namespaces: []string{"serving"}}},
		},
		"empty namespaceSelector: all namespaces": {
			from: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel()}},
			want: []Peer{{Kind: AllNamespaces, Field: "from[0]", NamespaceSelector: sel(), Namespaces: all}},
		},
		"namespaceSelector AND podSelector in one peer": {
			from: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("llm-platform/tier", "budget-proxy"), PodSelector: sel("app", "proxy")}},
			want: []Peer{{Kind: NamespaceSelector, Field: "from[0]", NamespaceSelector: sel("llm-platform/tier", "budget-proxy"), PodSelector: sel("app", "proxy"), Namespaces: []string{"litellm", "litellm-dev"}}},
		},
		"namespaceSelector OR podSelector as two peers": {
			from: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel(corev1.LabelMetadataName, "litellm")}, {PodSelector: sel("app", "proxy")}},
			want: []Peer{
				{Kind: NamespaceSelector, Field: "from[0]", NamespaceSelector: sel(corev1.LabelMetadataName, "litellm"), Namespaces: []string{"litellm"}},
				{Kind: SameNamespace, Index: 1, Field: "from[1]", PodSelector: sel("app", "proxy"), Namespaces: []string{"serving"}},
			},
		},
		"namespaceSelector matching nothing": {
			from: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "litellm")}},
			want: []Peer{{Kind: NamespaceSelector, Field: "from[0]", NamespaceSelector: sel("team", "litellm")}},
		},
		"ipBlock": {
			from: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}},
			want: []Peer{{Kind: IPBlock, Field: "from[0]", CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := IngressPeers("serving", networkingv1.NetworkPolicyIngressRule{From: tc.from}, testNamespaces())
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPeersInvalid(t *testing.T) {
	cases := map[string]networkingv1.NetworkPolicyPeer{
		"empty peer":               {},
		"bad cidr":                 {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0"}},
		"ipBlock with selector":    {IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}, PodSelector: sel()},
		"bad namespace selector":   {NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpIn}}}},
		"bad pod selector":         {PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"a b": "c"}}},
		"bad pod selector with ns": {NamespaceSelector: sel(), PodSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Nope"}}}},
	}
	for name, peer := range cases {
		t.Run(name, func(t *testing.T) {
			got := IngressPeers("serving", networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{peer}}, testNamespaces())
			require.Len(t, got, 1)
			assert.Equal(t, Invalid, got[0].Kind)
			require.Error(t, got[0].Err)
			assert.Contains(t, got[0].Err.Error(), "from[0]")
		})
	}
}

func TestPinnedNames(t *testing.T) {
	cases := map[string]struct {
		sel        *metav1.LabelSelector
		wantNames  []string
		wantPinned bool
	}{
		"nil":                {},
		"team label":         {sel: sel("team", "litellm")},
		"matchLabels name":   {sel: sel(corev1.LabelMetadataName, "litellm"), wantNames: []string{"litellm"}, wantPinned: true},
		"In expression":      {sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{"monitoring", "litellm"}}}}, wantNames: []string{"litellm", "monitoring"}, wantPinned: true},
		"NotIn does not pin": {sel: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"x"}}}}},
		"AND intersects": {
			sel: &metav1.LabelSelector{
				MatchLabels:      map[string]string{corev1.LabelMetadataName: "litellm"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{"monitoring"}}},
			},
			wantPinned: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			names, pinned := PinnedNames(tc.sel)
			assert.Equal(t, tc.wantPinned, pinned)
			assert.Equal(t, tc.wantNames, names)
		})
	}
}

func TestStrings(t *testing.T) {
	udp := corev1.ProtocolUDP
	p80, named := intstr.FromInt32(80), intstr.FromString("metrics")
	end := int32(90)
	assert.Equal(t, "all ports", PortsString(nil))
	assert.Equal(t, "TCP/80-90, UDP/metrics, TCP/all", PortsString([]networkingv1.NetworkPolicyPort{{Port: &p80, EndPort: &end}, {Protocol: &udp, Port: &named}, {}}))
	assert.Equal(t, "<none>", SelectorString(nil))
	assert.Equal(t, "{}", SelectorString(sel()))
	assert.Equal(t, "{a=b, c in (d,e), f Exists}", SelectorString(&metav1.LabelSelector{
		MatchLabels: map[string]string{"a": "b"},
		MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "c", Operator: metav1.LabelSelectorOpIn, Values: []string{"d", "e"}},
			{Key: "f", Operator: metav1.LabelSelectorOpExists},
		},
	}))
}

func TestNamespacesFromAddsNameLabel(t *testing.T) {
	in := []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "litellm"}}, nil}
	got := NamespacesFrom(in)
	require.Len(t, got, 1)
	assert.Equal(t, "litellm", got[0].Labels[corev1.LabelMetadataName])
	assert.Nil(t, in[0].Labels, "the input must not be modified")
}
