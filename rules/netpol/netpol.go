// Package netpol evaluates Kubernetes NetworkPolicy semantics without a cluster: which
// policy types a policy affects, which pods it selects and isolates, and which sources a
// rule admits (every source, every namespace, namespaces by selector, CIDRs, or pods of
// the policy's own namespace). It never panics on odd input: invalid selectors and CIDRs
// come back as errors or as peers of kind Invalid naming the field.
package netpol

import (
	"fmt"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// EffectiveTypes returns the policy types a policy affects, defaulted as the API server
// does when policyTypes is omitted: Ingress always, Egress only when egress rules exist.
func EffectiveTypes(spec *networkingv1.NetworkPolicySpec) []networkingv1.PolicyType {
	if spec == nil {
		return nil
	}
	if len(spec.PolicyTypes) > 0 {
		return spec.PolicyTypes
	}
	out := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(spec.Egress) > 0 {
		out = append(out, networkingv1.PolicyTypeEgress)
	}
	return out
}

func hasType(p *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	if p == nil {
		return false
	}
	for _, x := range EffectiveTypes(&p.Spec) {
		if x == t {
			return true
		}
	}
	return false
}

// AffectsIngress reports whether the policy isolates the pods it selects for ingress.
func AffectsIngress(p *networkingv1.NetworkPolicy) bool {
	return hasType(p, networkingv1.PolicyTypeIngress)
}

// AffectsEgress reports whether the policy isolates the pods it selects for egress.
func AffectsEgress(p *networkingv1.NetworkPolicy) bool {
	return hasType(p, networkingv1.PolicyTypeEgress)
}

// IsEmptySelector reports whether a selector has no requirement at all (it selects
// everything). A nil selector is not empty: callers decide what nil means where it occurs.
func IsEmptySelector(s *metav1.LabelSelector) bool {
	return s != nil && len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0
}

// SelectsAllPods reports whether the policy selects every pod of its namespace, present
// or future: an empty podSelector (a missing one decodes as empty).
func SelectsAllPods(p *networkingv1.NetworkPolicy) bool {
	return p != nil && len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0
}

// Selector parses a label selector; nil parses to Everything, like an empty one.
func Selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

// Selects reports whether the policy applies to the pod: same namespace and the
// podSelector matches the pod's labels.
func Selects(p *networkingv1.NetworkPolicy, pod *corev1.Pod) (bool, error) {
	if p == nil || pod == nil || p.Namespace != pod.Namespace {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		return false, fmt.Errorf("spec.podSelector: %w", err)
	}
	return sel.Matches(labels.Set(pod.Labels)), nil
}

// IsolatedForIngress reports whether the pod is isolated for ingress: at least one of
// the policies selects it with Ingress among its effective types. Policies with an
// invalid podSelector are skipped and returned as errors.
func IsolatedForIngress(policies []*networkingv1.NetworkPolicy, pod *corev1.Pod) (bool, []error) {
	var errs []error
	for _, p := range policies {
		if !AffectsIngress(p) {
			continue
		}
		ok, err := Selects(p, pod)
		if err != nil {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s: %w", p.Namespace, p.Name, err))
			continue
		}
		if ok {
			return true, errs
		}
	}
	return false, errs
}

// NamespaceIsolators returns the policies that isolate every pod of namespace ns for
// ingress, present and future: an empty podSelector with Ingress in effective types.
func NamespaceIsolators(policies []*networkingv1.NetworkPolicy, ns string) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range policies {
		if p != nil && p.Namespace == ns && SelectsAllPods(p) && AffectsIngress(p) {
			out = append(out, p)
		}
	}
	return out
}

// AllowAllIngressRules returns the indexes of the policy's ingress rules that admit every
// source on every port (`ingress: [{}]`): no NetworkPolicy can take that back.
func AllowAllIngressRules(p *networkingv1.NetworkPolicy) []int {
	if !AffectsIngress(p) {
		return nil
	}
	var out []int
	for i, r := range p.Spec.Ingress {
		if len(r.From) == 0 && len(r.Ports) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Namespace is what peer evaluation needs of a namespace.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// NamespacesFrom converts namespaces, adding the kubernetes.io/metadata.name label the
// control plane sets on every namespace when an input lacks it.
func NamespacesFrom(list []*corev1.Namespace) []Namespace {
	out := make([]Namespace, 0, len(list))
	for _, n := range list {
		if n == nil {
			continue
		}
		out = append(out, NewNamespace(n.Name, n.Labels))
	}
	return out
}

// NewNamespace builds a Namespace with the kubernetes.io/metadata.name label set.
func NewNamespace(name string, l map[string]string) Namespace {
	m := make(map[string]string, len(l)+1)
	for k, v := range l {
		m[k] = v
	}
	m[corev1.LabelMetadataName] = name
	return Namespace{Name: name, Labels: m}
}

// MatchNamespaces returns the sorted names of the namespaces a namespace selector
// matches. A nil selector matches none (callers handle nil meaning "own namespace").
func MatchNamespaces(sel *metav1.LabelSelector, namespaces []Namespace) ([]string, error) {
	if sel == nil {
		return nil, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range namespaces {
		if s.Matches(labels.Set(n.Labels)) {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// PeerKind classifies what one peer of a rule admits.
type PeerKind string

const (
	// AllSources: the rule has no `from` (no `to`): every source, including outside the cluster.
	AllSources PeerKind = "all-sources"
	// AllNamespaces: `namespaceSelector: {}`: pods of every namespace, present or future.
	AllNamespaces PeerKind = "all-namespaces"
	// NamespaceSelector: a non-empty namespaceSelector, alone or ANDed with a podSelector.
	NamespaceSelector PeerKind = "namespace-selector"
	// SameNamespace: a podSelector alone: pods of the policy's own namespace.
	SameNamespace PeerKind = "same-namespace"
	// IPBlock: addresses in a CIDR (pod, node and external addresses can fall inside it).
	IPBlock PeerKind = "ip-block"
	// Invalid: a peer the API server would reject; Err says why.
	Invalid PeerKind = "invalid"
)

// Peer is one classified source (or destination) of a rule.
type Peer struct {
	Kind PeerKind
	// Index is the peer's position in `from`/`to`; -1 for AllSources.
	Index int
	// Field names the peer for messages, e.g. "from[1]".
	Field string
	// NamespaceSelector is the peer's selector (AllNamespaces, NamespaceSelector).
	NamespaceSelector *metav1.LabelSelector
	// PodSelector restricts the pods within the namespaces; nil means all pods.
	PodSelector *metav1.LabelSelector
	// Namespaces are the namespaces, among those given, whose pods the peer admits,
	// sorted. AllSources and AllNamespaces list every namespace given; SameNamespace
	// lists the policy's namespace; IPBlock none.
	Namespaces []string
	CIDR       string
	Except     []string
	Err        error
}

// IngressPeers classifies the sources an ingress rule of a policy in policyNS admits,
// against the namespaces that exist. Peers are ORed; a rule without `from` admits all.
func IngressPeers(policyNS string, rule networkingv1.NetworkPolicyIngressRule, namespaces []Namespace) []Peer {
	return Peers(policyNS, rule.From, "from", namespaces)
}

// EgressPeers classifies the destinations an egress rule admits.
func EgressPeers(policyNS string, rule networkingv1.NetworkPolicyEgressRule, namespaces []Namespace) []Peer {
	return Peers(policyNS, rule.To, "to", namespaces)
}

// Peers classifies a `from` or `to` list (field names it in messages).
func Peers(policyNS string, list []networkingv1.NetworkPolicyPeer, field string, namespaces []Namespace) []Peer {
	if len(list) == 0 {
		return []Peer{{Kind: AllSources, Index: -1, Field: field, Namespaces: allNames(namespaces)}}
	}
	out := make([]Peer, 0, len(list))
	for i, p := range list {
		out = append(out, classify(policyNS, p, fmt.Sprintf("%s[%d]", field, i), i, namespaces))
	}
	return out
}

func allNames(namespaces []Namespace) []string {
	out := make([]string, 0, len(namespaces))
	for _, n := range namespaces {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out
}

func classify(policyNS string, p networkingv1.NetworkPolicyPeer, field string, i int, namespaces []Namespace) Peer {
	peer := Peer{Index: i, Field: field, NamespaceSelector: p.NamespaceSelector, PodSelector: p.PodSelector}
	invalid := func(err error) Peer {
		peer.Kind, peer.Err = Invalid, fmt.Errorf("%s: %w", field, err)
		return peer
	}
	if p.IPBlock != nil {
		if p.PodSelector != nil || p.NamespaceSelector != nil {
			return invalid(fmt.Errorf("ipBlock cannot be combined with podSelector or namespaceSelector"))
		}
		peer.Kind, peer.CIDR, peer.Except = IPBlock, p.IPBlock.CIDR, p.IPBlock.Except
		if _, _, err := net.ParseCIDR(p.IPBlock.CIDR); err != nil {
			return invalid(fmt.Errorf("ipBlock.cidr %q is not a CIDR", p.IPBlock.CIDR))
		}
		return peer
	}
	if p.PodSelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(p.PodSelector); err != nil {
			return invalid(fmt.Errorf("podSelector: %w", err))
		}
	}
	switch {
	case p.NamespaceSelector != nil:
		names, err := MatchNamespaces(p.NamespaceSelector, namespaces)
		if err != nil {
			return invalid(fmt.Errorf("namespaceSelector: %w", err))
		}
		peer.Namespaces = names
		peer.Kind = NamespaceSelector
		if IsEmptySelector(p.NamespaceSelector) {
			peer.Kind = AllNamespaces
		}
	case p.PodSelector != nil:
		peer.Kind, peer.Namespaces = SameNamespace, []string{policyNS}
	default:
		return invalid(fmt.Errorf("peer sets none of podSelector, namespaceSelector, ipBlock"))
	}
	return peer
}

// PinnedNames returns the namespace names a selector can ever match when it constrains
// kubernetes.io/metadata.name (matchLabels, or the In operator in matchExpressions); pinned is false when the selector does not constrain the name, so a
// namespace labelled tomorrow could match it. Requirements are ANDed: the names are the
// intersection.
func PinnedNames(sel *metav1.LabelSelector) (names []string, pinned bool) {
	if sel == nil {
		return nil, false
	}
	var set map[string]bool
	restrict := func(vals []string) {
		next := map[string]bool{}
		for _, v := range vals {
			if set == nil || set[v] {
				next[v] = true
			}
		}
		set = next
	}
	if v, ok := sel.MatchLabels[corev1.LabelMetadataName]; ok {
		restrict([]string{v})
	}
	for _, e := range sel.MatchExpressions {
		if e.Key == corev1.LabelMetadataName && e.Operator == metav1.LabelSelectorOpIn {
			restrict(e.Values)
		}
	}
	if set == nil {
		return nil, false
	}
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, true
}

// SelectorString renders a selector compactly for messages, e.g.
// "{llm-platform/team=search, env in (a,b)}"; "{}" for empty, "<none>" for nil.
func SelectorString(sel *metav1.LabelSelector) string {
	if sel == nil {
		return "<none>"
	}
	var parts []string
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+sel.MatchLabels[k])
	}
	for _, e := range sel.MatchExpressions {
		switch e.Operator {
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			parts = append(parts, e.Key+" "+string(e.Operator))
		default:
			parts = append(parts, fmt.Sprintf("%s %s (%s)", e.Key, strings.ToLower(string(e.Operator)), strings.Join(e.Values, ",")))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// PortsString renders a rule's ports for messages: "all ports" or "TCP/8000, TCP/metrics".
func PortsString(ports []networkingv1.NetworkPolicyPort) string {
	if len(ports) == 0 {
		return "all ports"
	}
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		proto := "TCP"
		if p.Protocol != nil && *p.Protocol != "" {
			proto = string(*p.Protocol)
		}
		port := "all"
		if p.Port != nil {
			port = p.Port.String()
			if p.EndPort != nil {
				port += fmt.Sprintf("-%d", *p.EndPort)
			}
		}
		parts = append(parts, proto+"/"+port)
	}
	return strings.Join(parts, ", ")
}
