package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Enforcement states of a detected CNI, also the `enforcing` label of cni_info.
const (
	enforcingYes     = "true"
	enforcingNo      = "false"
	enforcingUnknown = "unknown"
)

// cniComponent is one piece of the cluster network the auditor recognised: a policy
// engine (Calico, Cilium, ...) or a networking-only plugin (Flannel).
type cniComponent struct {
	name      string
	enforcing string
	why       string
	object    *auditor.ObjectRef
}

// cniDetection is what the snapshot says about NetworkPolicy enforcement.
type cniDetection struct {
	components []cniComponent
	// verdict is the cluster's state: true when any component enforces, else unknown
	// when any component's state is unknown, else false; unknown with no component.
	verdict string
	// cni names the components behind the verdict, for the cni_info label.
	cni string
	// inconclusive is set when the inputs cannot support a verdict at all.
	inconclusive []string
	daemonSets   []string // namespace/name of every DaemonSet considered
}

func daemonSetRef(ds *appsv1.DaemonSet) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "apps/v1", Kind: "DaemonSet", Namespace: ds.Namespace, Name: ds.Name}
}

// daemonSetHealth overrides an enforcing verdict when the DaemonSet runs nowhere. Status is only
// trusted once the controller has observed the object (manifests carry none); without it,
// a nodeSelector that matches none of the snapshot's nodes says the same.
func daemonSetHealth(s *auditor.Snapshot, ds *appsv1.DaemonSet) string {
	st := ds.Status
	sel := ds.Spec.Template.Spec.NodeSelector
	selNote := ""
	if len(sel) > 0 {
		selNote = fmt.Sprintf(" (nodeSelector %s)", labels.Set(sel).String())
	}
	if st.ObservedGeneration > 0 || st.DesiredNumberScheduled > 0 || st.NumberReady > 0 {
		switch {
		case st.DesiredNumberScheduled == 0:
			return "DaemonSet " + ds.Namespace + "/" + ds.Name + " schedules no pod on any node (desiredNumberScheduled 0)" + selNote + ", so nothing enforces policy"
		case st.NumberReady == 0:
			return fmt.Sprintf("DaemonSet %s/%s has 0 of %d pods ready, so nothing enforces policy", ds.Namespace, ds.Name, st.DesiredNumberScheduled)
		}
		return ""
	}
	if _, bad := resourceUnseen(s, auditor.ResourceNodes); bad || len(sel) == 0 || len(s.Nodes) == 0 {
		return ""
	}
	for _, n := range s.Nodes {
		if labels.SelectorFromSet(sel).Matches(labels.Set(n.Labels)) {
			return ""
		}
	}
	return fmt.Sprintf("DaemonSet %s/%s nodeSelector %s matches none of the %d nodes, so it runs nowhere", ds.Namespace, ds.Name, labels.Set(sel).String(), len(s.Nodes))
}

// k3sComponent reads the k3s node annotation listing the server's flags: the embedded
// kube-router policy controller runs unless --disable-network-policy is given.
func k3sComponent(s *auditor.Snapshot) *cniComponent {
	nodes := append([]*corev1.Node(nil), s.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	var first *corev1.Node
	for _, n := range nodes {
		raw, ok := n.Annotations["k3s.io/node-args"]
		if !ok {
			continue
		}
		if first == nil {
			first = n
		}
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			args = strings.Fields(raw)
		}
		if val, ok := flagValue(args, "disable-network-policy", false); (ok && !flagFalse(val)) || disabledBare(args) {
			return &cniComponent{name: "k3s", enforcing: enforcingNo, object: sr1NodeRef(n),
				why: "node " + n.Name + " runs k3s with --disable-network-policy (annotation k3s.io/node-args): the embedded network policy controller is off"}
		}
	}
	if first == nil {
		return nil
	}
	return &cniComponent{name: "k3s", enforcing: enforcingYes, object: sr1NodeRef(first),
		why: "k3s runs its embedded network policy controller (no --disable-network-policy in k3s.io/node-args)"}
}

// disabledBare catches "--disable-network-policy" written last or before another flag
// (k3s usually records the value as the next element, "true").
func disabledBare(args []string) bool {
	for i, a := range args {
		if strings.TrimLeft(a, "-") == "disable-network-policy" && strings.HasPrefix(a, "-") &&
			(i+1 == len(args) || strings.HasPrefix(args[i+1], "-")) {
			return true
		}
	}
	return false
}

func sr1NodeRef(n *corev1.Node) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Node", Name: n.Name}
}

// eksAutoMode reads the VPC CNI ConfigMap EKS Auto Mode uses to switch on its network
// policy controller; it only counts when no aws-node DaemonSet exists.
func eksAutoMode(s *auditor.Snapshot) *cniComponent {
	cm := s.ConfigMap("kube-system", "amazon-vpc-cni")
	if cm == nil {
		return nil
	}
	ref := &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	if flagTrue(cm.Data["enable-network-policy-controller"]) {
		return &cniComponent{name: "aws-vpc-cni", enforcing: enforcingYes, object: ref,
			why: "ConfigMap kube-system/amazon-vpc-cni enables the network policy controller (EKS Auto Mode)"}
	}
	return &cniComponent{name: "aws-vpc-cni", enforcing: enforcingNo, object: ref,
		why: "no aws-node DaemonSet (EKS Auto Mode) and ConfigMap kube-system/amazon-vpc-cni does not set enable-network-policy-controller: \"true\""}
}

// detectCNI recognises the cluster's CNI components and judges enforcement.
func detectCNI(s *auditor.Snapshot) cniDetection {
	var d cniDetection
	if why, bad := resourceUnseen(s, auditor.ResourceDaemonSets); bad {
		d.verdict, d.cni = enforcingUnknown, "unknown"
		d.inconclusive = append(d.inconclusive, "cannot detect the CNI: "+why)
		return d
	}
	dss := append([]*appsv1.DaemonSet(nil), s.DaemonSets...)
	sort.Slice(dss, func(i, j int) bool {
		return dss[i].Namespace+"/"+dss[i].Name < dss[j].Namespace+"/"+dss[j].Name
	})
	awsNode := false
	for _, ds := range dss {
		d.daemonSets = append(d.daemonSets, ds.Namespace+"/"+ds.Name)
		v := cniViewOf(ds)
		cni := identifyCNI(ds, v)
		if cni == "" {
			continue
		}
		awsNode = awsNode || cni == "aws-vpc-cni"
		c := cniComponent{name: cni, object: daemonSetRef(ds)}
		c.enforcing, c.why = judgeCNI(s, ds, v, cni)
		if c.enforcing == enforcingYes && cni != "flannel" {
			if h := daemonSetHealth(s, ds); h != "" {
				c.enforcing, c.why = enforcingNo, h
			}
		}
		d.components = append(d.components, c)
	}
	if !awsNode {
		if c := eksAutoMode(s); c != nil {
			d.components = append(d.components, *c)
		}
	}
	if _, bad := resourceUnseen(s, auditor.ResourceNodes); !bad {
		if c := k3sComponent(s); c != nil {
			d.components = append(d.components, *c)
		}
	}
	d.verdict, d.cni = cniVerdict(d.components)
	if len(d.components) == 0 {
		if len(s.DaemonSets) == 0 && len(s.Nodes) == 0 {
			d.inconclusive = append(d.inconclusive, "no CNI DaemonSet among the inputs (and no Node): add the CNI's manifests to the scan, or scan the live cluster")
		} else if why, bad := resourceUnseen(s, auditor.ResourceNodes); bad {
			d.inconclusive = append(d.inconclusive, "no known CNI DaemonSet, and node annotations (k3s) could not be read: "+why)
		}
	}
	return d
}

func cniVerdict(cs []cniComponent) (string, string) {
	pick := func(state string) []string {
		set := map[string]bool{}
		for _, c := range cs {
			if c.enforcing == state {
				set[c.name] = true
			}
		}
		var out []string
		for n := range set {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	for _, state := range []string{enforcingYes, enforcingUnknown, enforcingNo} {
		if names := pick(state); len(names) > 0 {
			return state, strings.Join(names, "+")
		}
	}
	return enforcingUnknown, "unknown"
}

// CNINotEnforcing: NetworkPolicies do nothing unless the CNI implements them. The rule
// recognises the CNI from DaemonSets, ConfigMaps and node annotations and reports each
// component that does not enforce when none does. It also publishes cni_info.
func CNINotEnforcing(cfg auditor.Config) auditor.Rule {
	b := newBudgetPath(cfg)
	meta := auditor.RuleMeta{
		ID: "cni-not-enforcing", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Title: "The CNI does not enforce NetworkPolicy",
		Remediation: "Run a CNI that enforces NetworkPolicy and make sure its agent runs on every node: Calico or Cilium " +
			"(Cilium: enable-policy default/always, policy-audit-mode false), the VPC CNI with enableNetworkPolicy: \"true\", " +
			"GKE Dataplane V2, or Calico beside Flannel (Canal). Then confirm with the active network probe.",
		Inputs: []string{auditor.ResourceDaemonSets, auditor.ResourceConfigMaps, auditor.ResourceNodes},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		d := detectCNI(s)
		res := auditor.Result{Inconclusive: d.inconclusive, Facts: []auditor.Fact{{
			Metric: "cni_info",
			Help:   "CNI detected by the auditor (cni, components joined by +) and whether it enforces NetworkPolicy (enforcing: true, false or unknown); always 1.",
			Labels: []auditor.Label{{Name: "cni", Value: d.cni}, {Name: "enforcing", Value: d.verdict}},
			Value:  1,
		}}}
		if d.verdict != enforcingNo {
			return res
		}
		for _, c := range d.components {
			if c.enforcing != enforcingNo {
				continue
			}
			f := meta.NewFinding(c.object, fmt.Sprintf("%s does not enforce NetworkPolicy: %s; the NetworkPolicies isolating %s have no effect",
				c.name, c.why, strings.Join(b.protected, ", ")))
			res.Findings = append(res.Findings, f)
		}
		return res
	})
}

// CNIUnknown: when the auditor cannot recognise the CNI, or recognises it but cannot
// tell whether it enforces, it says so instead of staying silent.
func CNIUnknown(cfg auditor.Config) auditor.Rule {
	meta := auditor.RuleMeta{
		ID: "cni-unknown", Control: auditor.SR1, Severity: auditor.SeverityMedium,
		Title: "Cannot tell whether the CNI enforces NetworkPolicy",
		Remediation: "Confirm enforcement with the active network probe (--probe-network) or a two-pod test (a default-deny " +
			"policy, then a connection that must fail). For a recognised CNI, fix what hides its state (an image pinned by digest " +
			"only, unreadable ConfigMaps); for an unrecognised one, add it to the CNI catalogue in docs/rules/sr1.md and the auditor.",
		Inputs: []string{auditor.ResourceDaemonSets, auditor.ResourceConfigMaps, auditor.ResourceNodes},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		d := detectCNI(s)
		res := auditor.Result{Inconclusive: d.inconclusive}
		if len(d.inconclusive) > 0 || d.verdict != enforcingUnknown {
			return res
		}
		if len(d.components) == 0 {
			seen := "no DaemonSet"
			if len(d.daemonSets) > 0 {
				seen = fmt.Sprintf("none of the %d DaemonSets (%s) is a known CNI", len(d.daemonSets), joinBounded(d.daemonSets, 15))
			}
			res.Findings = append(res.Findings, meta.NewFinding(nil, seen+
				" and no node carries the k3s.io/node-args annotation: cannot tell whether NetworkPolicies are enforced"))
			return res
		}
		for _, c := range d.components {
			if c.enforcing == enforcingUnknown {
				res.Findings = append(res.Findings, meta.NewFinding(c.object, fmt.Sprintf("%s detected, but whether it enforces NetworkPolicy cannot be told: %s", c.name, c.why)))
			}
		}
		return res
	})
}
