package sr1

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/cni"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
	"github.com/llm-platform/enforcement-auditor/rules/netpol"
)

// The cluster-scoped network policy API (sigs.k8s.io/network-policy-api): v1alpha1
// AdminNetworkPolicy (actions Allow/Deny/Pass, before NetworkPolicy) and
// BaselineAdminNetworkPolicy (Allow/Deny, after NetworkPolicy), and v1alpha2
// ClusterNetworkPolicy (tier Admin|Baseline, actions Accept/Deny/Pass).
const policyAPIGroup = "policy.networking.k8s.io"

var adminPolicyKinds = []string{"AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"}

// adminPolicy is a typed view of one cluster-scoped policy, built without trusting the
// shape of the unstructured object: problems name the fields that could not be read.
type adminPolicy struct {
	ref      *auditor.ObjectRef
	tier     string // "Admin" or "Baseline"
	priority string // as written, for messages; empty for BANP
	subject  adminSubject
	ingress  []adminRule
	problems []string
}

// adminSubject selects pods by namespace selector, optionally ANDed with a pod selector.
type adminSubject struct {
	namespaces *metav1.LabelSelector
	pods       *metav1.LabelSelector // nil: all pods of the namespaces
}

type adminRule struct {
	index  int
	name   string
	action string
	from   []adminPeer
	ports  string // for messages: "all ports", "TCP/8000, named port http", ...
}

type adminPeer struct {
	field      string
	namespaces *metav1.LabelSelector // set for namespaces and pods peers
	pods       *metav1.LabelSelector
	networks   []string
	unknown    string // a peer field this auditor does not know
}

// adminPolicies reads every cluster-scoped policy in the snapshot, sorted by kind and name.
func adminPolicies(s *auditor.Snapshot) []adminPolicy {
	var out []adminPolicy
	for _, kind := range adminPolicyKinds {
		objs := append([]*unstructured.Unstructured(nil), s.CustomObjects(policyAPIGroup, kind)...)
		sort.Slice(objs, func(i, j int) bool { return objs[i].GetName() < objs[j].GetName() })
		for _, u := range objs {
			out = append(out, readAdminPolicy(u))
		}
	}
	return out
}

func readAdminPolicy(u *unstructured.Unstructured) adminPolicy {
	p := adminPolicy{ref: &auditor.ObjectRef{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Name: u.GetName()}}
	switch u.GetKind() {
	case "AdminNetworkPolicy":
		p.tier = "Admin"
	case "BaselineAdminNetworkPolicy":
		p.tier = "Baseline"
	default:
		t, _ := unstructuredField(u.Object, "spec", "tier").(string)
		if t != "Admin" && t != "Baseline" {
			p.problems = append(p.problems, fmt.Sprintf("spec.tier %q is neither Admin nor Baseline", t))
		}
		p.tier = t
	}
	if v := unstructuredField(u.Object, "spec", "priority"); v != nil {
		p.priority = fmt.Sprint(v)
	}
	subj, ok := unstructuredField(u.Object, "spec", "subject").(map[string]any)
	if !ok {
		p.problems = append(p.problems, "spec.subject is missing or not an object")
	} else {
		var err error
		if p.subject, err = readSubject(subj); err != nil {
			p.problems = append(p.problems, "spec.subject: "+err.Error())
		}
	}
	raw := unstructuredField(u.Object, "spec", "ingress")
	rules, ok := raw.([]any)
	if !ok && raw != nil {
		p.problems = append(p.problems, "spec.ingress is not a list")
	}
	for i, r := range rules {
		m, ok := r.(map[string]any)
		if !ok {
			p.problems = append(p.problems, fmt.Sprintf("spec.ingress[%d] is not an object", i))
			continue
		}
		rule := adminRule{index: i}
		rule.name, _ = m["name"].(string)
		rule.action, _ = m["action"].(string)
		rule.ports = adminPorts(m)
		from, ok := m["from"].([]any)
		if !ok && m["from"] != nil {
			p.problems = append(p.problems, fmt.Sprintf("spec.ingress[%d].from is not a list", i))
		}
		for j, f := range from {
			peer, err := readAdminPeer(f)
			peer.field = fmt.Sprintf("from[%d]", j)
			if err != nil {
				p.problems = append(p.problems, fmt.Sprintf("spec.ingress[%d].from[%d]: %v", i, j, err))
				continue
			}
			rule.from = append(rule.from, peer)
		}
		p.ingress = append(p.ingress, rule)
	}
	return p
}

// adminPorts renders the ports an ingress rule matches: v1alpha1 `ports` (portNumber,
// namedPort, portRange; protocol TCP when omitted) or v1alpha2/v1beta1 `protocols`
// (tcp/udp/sctp with an optional destinationPort number or range, destinationNamedPort).
// Neither means every port (sigs.k8s.io/network-policy-api apis/v1alpha1
// shared_types.go, apis/v1alpha2 clusternetworkpolicy_types.go).
func adminPorts(rule map[string]any) string {
	str := func(v any, def string) string {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
		return def
	}
	var out []string
	if list, ok := rule["ports"].([]any); ok {
		for _, e := range list {
			m, _ := e.(map[string]any)
			switch {
			case m["portNumber"] != nil:
				pn, _ := m["portNumber"].(map[string]any)
				out = append(out, fmt.Sprintf("%s/%v", str(pn["protocol"], "TCP"), pn["port"]))
			case m["portRange"] != nil:
				pr, _ := m["portRange"].(map[string]any)
				out = append(out, fmt.Sprintf("%s/%v-%v", str(pr["protocol"], "TCP"), pr["start"], pr["end"]))
			case m["namedPort"] != nil:
				out = append(out, fmt.Sprintf("named port %v", m["namedPort"]))
			default:
				out = append(out, fmt.Sprintf("%v", e))
			}
		}
	}
	if list, ok := rule["protocols"].([]any); ok {
		for _, e := range list {
			m, _ := e.(map[string]any)
			if np, ok := m["destinationNamedPort"]; ok {
				out = append(out, fmt.Sprintf("named port %v", np))
				continue
			}
			for _, proto := range []string{"tcp", "udp", "sctp"} {
				pm, ok := m[proto].(map[string]any)
				if !ok {
					continue
				}
				dp, _ := pm["destinationPort"].(map[string]any)
				switch {
				case dp["number"] != nil:
					out = append(out, fmt.Sprintf("%s/%v", strings.ToUpper(proto), dp["number"]))
				case dp["range"] != nil:
					r, _ := dp["range"].(map[string]any)
					out = append(out, fmt.Sprintf("%s/%v-%v", strings.ToUpper(proto), r["start"], r["end"]))
				default:
					out = append(out, strings.ToUpper(proto)+" (any port)")
				}
			}
		}
	}
	if len(out) == 0 {
		return "all ports"
	}
	return strings.Join(out, ", ")
}

// unstructuredField walks nested maps without copying (the unstructured helpers deep-copy, which
// panics on values that are not JSON types); nil when a step is missing or not a map.
func unstructuredField(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

// selectorFromUnstructured reads a label selector from unstructured data, rejecting wrong types.
func selectorFromUnstructured(v any) (*metav1.LabelSelector, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is not a label selector")
	}
	sel := &metav1.LabelSelector{}
	if ml, ok := m["matchLabels"]; ok && ml != nil {
		mm, ok := ml.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("matchLabels is not a map")
		}
		sel.MatchLabels = map[string]string{}
		for k, val := range mm {
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("matchLabels[%s] is not a string", k)
			}
			sel.MatchLabels[k] = s
		}
	}
	if me, ok := m["matchExpressions"]; ok && me != nil {
		list, ok := me.([]any)
		if !ok {
			return nil, fmt.Errorf("matchExpressions is not a list")
		}
		for i, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("matchExpressions[%d] is not an object", i)
			}
			req := metav1.LabelSelectorRequirement{}
			req.Key, _ = em["key"].(string)
			op, _ := em["operator"].(string)
			req.Operator = metav1.LabelSelectorOperator(op)
			if vals, ok := em["values"]; ok && vals != nil {
				vl, ok := vals.([]any)
				if !ok {
					return nil, fmt.Errorf("matchExpressions[%d].values is not a list", i)
				}
				for _, v := range vl {
					s, ok := v.(string)
					if !ok {
						return nil, fmt.Errorf("matchExpressions[%d].values holds a non-string", i)
					}
					req.Values = append(req.Values, s)
				}
			}
			sel.MatchExpressions = append(sel.MatchExpressions, req)
		}
	}
	if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
		return nil, err
	}
	return sel, nil
}

// readNamespacedPod reads {namespaceSelector, podSelector}. An omitted selector is
// empty, selecting everything: ClusterNetworkPolicy v1beta1 makes namespaceSelector
// optional with that meaning (v1alpha1 requires both).
func readNamespacedPod(v any) (ns, pods *metav1.LabelSelector, err error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("pods is not an object")
	}
	read := func(key string) (*metav1.LabelSelector, error) {
		if m[key] == nil {
			return &metav1.LabelSelector{}, nil
		}
		sel, err := selectorFromUnstructured(m[key])
		if err != nil {
			return nil, fmt.Errorf("pods.%s %v", key, err)
		}
		return sel, nil
	}
	if ns, err = read("namespaceSelector"); err != nil {
		return nil, nil, err
	}
	if pods, err = read("podSelector"); err != nil {
		return nil, nil, err
	}
	return ns, pods, nil
}

func readSubject(m map[string]any) (adminSubject, error) {
	if v, ok := m["namespaces"]; ok {
		sel, err := selectorFromUnstructured(v)
		if err != nil {
			return adminSubject{}, fmt.Errorf("namespaces %v", err)
		}
		return adminSubject{namespaces: sel}, nil
	}
	if v, ok := m["pods"]; ok {
		ns, pods, err := readNamespacedPod(v)
		return adminSubject{namespaces: ns, pods: pods}, err
	}
	return adminSubject{}, fmt.Errorf("sets neither namespaces nor pods")
}

func readAdminPeer(v any) (adminPeer, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return adminPeer{}, fmt.Errorf("not an object")
	}
	var peer adminPeer
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		var err error
		switch k {
		case "namespaces":
			peer.namespaces, err = selectorFromUnstructured(m[k])
			if err != nil {
				err = fmt.Errorf("namespaces %v", err)
			}
		case "pods":
			peer.namespaces, peer.pods, err = readNamespacedPod(m[k])
		case "networks":
			list, ok := m[k].([]any)
			if !ok {
				return peer, fmt.Errorf("networks is not a list")
			}
			for _, n := range list {
				peer.networks = append(peer.networks, fmt.Sprint(n))
			}
		default:
			peer.unknown = k
		}
		if err != nil {
			return peer, err
		}
	}
	return peer, nil
}

// subjectSelects reports whether the policy's subject covers pods of namespace ns.
func (p adminPolicy) subjectSelects(ns netpol.Namespace) bool {
	if p.subject.namespaces == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(p.subject.namespaces)
	return err == nil && sel.Matches(labels.Set(ns.Labels))
}

// allows reports whether the rule's action lets traffic in without further checks.
func (r adminRule) allows() bool { return r.action == "Allow" || r.action == "Accept" }

// protectedNamespace returns the namespace view of a protected namespace, synthesised
// from its name when the namespace object is not in the snapshot.
func protectedNamespace(s *auditor.Snapshot, name string) netpol.Namespace {
	if n := s.Namespace(name); n != nil {
		return netpol.NewNamespace(n.Name, n.Labels)
	}
	return netpol.NewNamespace(name, nil)
}

// adminSources describes, for a message, what one peer of an admin rule admits into dst
// that is not trusted for it. An empty result means everything it admits is trusted.
func (b budgetPath) adminSources(dst string, peer adminPeer, namespaces []netpol.Namespace) string {
	switch {
	case peer.unknown != "":
		return fmt.Sprintf("%s (field %q not understood by the auditor)", peer.field, peer.unknown)
	case len(peer.networks) > 0:
		return fmt.Sprintf("CIDRs %s (%s.networks)", strings.Join(peer.networks, ", "), peer.field)
	case peer.namespaces == nil:
		return ""
	case netpol.IsEmptySelector(peer.namespaces):
		return fmt.Sprintf("every namespace (%s selects namespaces {})", peer.field)
	}
	names, err := netpol.MatchNamespaces(peer.namespaces, namespaces)
	if err != nil {
		return ""
	}
	if bad := b.untrusted(dst, names); len(bad) > 0 {
		return fmt.Sprintf("namespaces %s (%s %s)", family.JoinBounded(bad, 10), peer.field, netpol.SelectorString(peer.namespaces))
	}
	return ""
}

// evaluateAdminAllows reports Admin-tier allow rules that admit untrusted sources into a
// protected namespace: no NetworkPolicy can take such an allow back.
func (v *view) evaluateAdminAllows(s *auditor.Snapshot, meta auditor.RuleMeta, res *auditor.Result) {
	namespaces := v.namespaces()
	for _, p := range v.admin() {
		for _, pr := range p.problems {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s: %s", p.ref, pr))
		}
		if p.tier != "Admin" {
			continue // Baseline rules never override an isolating NetworkPolicy
		}
		for _, r := range p.ingress {
			if !r.allows() {
				continue
			}
			var parts []string
			for _, dst := range v.protected {
				if !p.subjectSelects(protectedNamespace(s, dst)) {
					continue
				}
				var srcs []string
				for _, peer := range r.from {
					if d := v.adminSources(dst, peer, namespaces); d != "" {
						srcs = append(srcs, d)
					}
				}
				if len(srcs) > 0 {
					parts = append(parts, fmt.Sprintf("into %s from %s", dst, strings.Join(srcs, "; ")))
				}
			}
			if len(parts) == 0 {
				continue
			}
			name := ""
			if r.name != "" {
				name = fmt.Sprintf(" %q", r.name)
			}
			prio := ""
			if p.priority != "" {
				prio = ", priority " + p.priority
			}
			head := fmt.Sprintf("%s %s (Admin tier%s) ingress rule %d%s with action %s", p.ref.Kind, p.ref.Name, prio, r.index, name, r.action)
			admits := fmt.Sprintf("%s on %s", strings.Join(parts, "; "), r.ports)
			var msg string
			sup := v.cni().PolicyAPI(p.ref.Kind)
			switch sup.State {
			case cni.APINotImplemented:
				msg = fmt.Sprintf("%s would admit sources outside the allow-list %s, but it is inert on this cluster's network: %s; "+
					"it opens the budget path as soon as the CNI implements %s", head, admits, sup.Why, p.ref.Kind)
			case cni.APIImplemented:
				msg = fmt.Sprintf("%s admits sources outside the allow-list %s; an Admin-tier allow overrides every NetworkPolicy in the namespace (%s)", head, admits, sup.Why)
			default:
				msg = fmt.Sprintf("%s admits sources outside the allow-list %s; an Admin-tier allow overrides every NetworkPolicy in the namespace "+
					"(judged as active: whether the CNI implements %s is not known: %s)", head, admits, p.ref.Kind, sup.Why)
			}
			f := meta.NewFinding(p.ref, msg)
			if sup.State == cni.APINotImplemented {
				f.Severity = auditor.SeverityLow
			}
			f.Discriminator = fmt.Sprintf("ingress[%d]", r.index)
			res.Findings = append(res.Findings, f)
		}
	}
}

// adminPoliciesSelecting names the cluster-scoped policies whose subject covers ns, for
// messages that must say they exist but were not counted.
func (v *view) adminPoliciesSelecting(s *auditor.Snapshot, ns string) []string {
	var out []string
	subject := protectedNamespace(s, ns)
	for _, p := range v.admin() {
		if p.subjectSelects(subject) {
			out = append(out, fmt.Sprintf("%s %s (%s tier)", p.ref.Kind, p.ref.Name, p.tier))
		}
	}
	return out
}
