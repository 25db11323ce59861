// Package cni recognises the cluster's CNI from the snapshot (DaemonSets, ConfigMaps,
// node annotations) and judges whether it enforces NetworkPolicy; catalogue.go holds how
// each known CNI shows up and which of its settings decide (docs/rules/sr1.md lists them).
package cni

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
)

// Enforcement states of a detected CNI, also the `enforcing` label of cni_info.
const (
	Enforcing    = "true"
	NotEnforcing = "false"
	Unknown      = "unknown"
)

// Component is one piece of the cluster network the auditor recognised: a policy
// engine (Calico, Cilium, ...) or a networking-only plugin (Flannel).
type Component struct {
	Name string
	// State is Enforcing, NotEnforcing or Unknown.
	State  string
	Why    string
	Object *auditor.ObjectRef
	// PolicyAPI says, by kind (KindANP, KindBANP, KindCNP), whether the component
	// implements the cluster-scoped network policy API (catalogue.go).
	PolicyAPI map[string]APISupport
}

// Detection is what the snapshot says about NetworkPolicy enforcement.
type Detection struct {
	Components []Component
	// Verdict is the cluster's state: Enforcing when any component enforces, else Unknown
	// when any component's state is unknown, else NotEnforcing; Unknown with no component.
	Verdict string
	// CNI names the components behind the verdict, for the cni_info label.
	CNI string
	// Inconclusive is set when the inputs cannot support a verdict at all.
	Inconclusive []string
	DaemonSets   []string // namespace/name of every DaemonSet considered
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
	if _, bad := inputs.Unseen(s, auditor.ResourceNodes); bad || len(sel) == 0 || len(s.Nodes) == 0 {
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
func k3sComponent(s *auditor.Snapshot) *Component {
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
			return &Component{Name: "k3s", State: NotEnforcing, Object: nodeRef(n),
				Why: "node " + n.Name + " runs k3s with --disable-network-policy (annotation k3s.io/node-args): the embedded network policy controller is off"}
		}
	}
	if first == nil {
		return nil
	}
	return &Component{Name: "k3s", State: Enforcing, Object: nodeRef(first),
		Why: "k3s runs its embedded network policy controller (no --disable-network-policy in k3s.io/node-args)"}
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

func nodeRef(n *corev1.Node) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Node", Name: n.Name}
}

// eksAutoMode reads the VPC CNI ConfigMap EKS Auto Mode uses to switch on its network
// policy controller; it only counts when no aws-node DaemonSet exists.
func eksAutoMode(s *auditor.Snapshot) *Component {
	cm := s.ConfigMap("kube-system", "amazon-vpc-cni")
	if cm == nil {
		return nil
	}
	ref := &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	if flagTrue(cm.Data["enable-network-policy-controller"]) {
		return &Component{Name: "aws-vpc-cni", State: Enforcing, Object: ref,
			Why: "ConfigMap kube-system/amazon-vpc-cni enables the network policy controller (EKS Auto Mode)"}
	}
	return &Component{Name: "aws-vpc-cni", State: NotEnforcing, Object: ref,
		Why: "no aws-node DaemonSet (EKS Auto Mode) and ConfigMap kube-system/amazon-vpc-cni does not set enable-network-policy-controller: \"true\""}
}

// Inputs are the resources Detect reads: a rule over the detection declares them.
var Inputs = []string{auditor.ResourceDaemonSets, auditor.ResourceConfigMaps, auditor.ResourceNodes}

// Detect recognises the cluster's CNI components and judges enforcement.
func Detect(s *auditor.Snapshot) Detection {
	var d Detection
	if why, bad := inputs.Unseen(s, auditor.ResourceDaemonSets); bad {
		d.Verdict, d.CNI = Unknown, "unknown"
		d.Inconclusive = append(d.Inconclusive, "cannot detect the CNI: "+why)
		return d
	}
	dss := append([]*appsv1.DaemonSet(nil), s.DaemonSets...)
	sort.Slice(dss, func(i, j int) bool {
		return dss[i].Namespace+"/"+dss[i].Name < dss[j].Namespace+"/"+dss[j].Name
	})
	awsNode := false
	for _, ds := range dss {
		d.DaemonSets = append(d.DaemonSets, ds.Namespace+"/"+ds.Name)
		v := viewOf(ds)
		cni := identify(ds, v)
		if cni == "" {
			continue
		}
		awsNode = awsNode || cni == "aws-vpc-cni"
		c := Component{Name: cni, Object: daemonSetRef(ds)}
		c.State, c.Why = judge(s, ds, v, cni)
		if c.State == Enforcing && cni != "flannel" {
			if h := daemonSetHealth(s, ds); h != "" {
				c.State, c.Why = NotEnforcing, h
			}
		}
		c.PolicyAPI = policyAPISupport(s, ds, v, c)
		d.Components = append(d.Components, c)
	}
	if !awsNode {
		if c := eksAutoMode(s); c != nil {
			d.Components = append(d.Components, *c)
		}
	}
	if _, bad := inputs.Unseen(s, auditor.ResourceNodes); !bad {
		if c := k3sComponent(s); c != nil {
			d.Components = append(d.Components, *c)
		}
	}
	d.Verdict, d.CNI = verdictOf(d.Components)
	if len(d.Components) == 0 {
		if len(s.DaemonSets) == 0 && len(s.Nodes) == 0 {
			d.Inconclusive = append(d.Inconclusive, "no CNI DaemonSet among the inputs (and no Node): add the CNI's manifests to the scan, or scan the live cluster")
		} else if why, bad := inputs.Unseen(s, auditor.ResourceNodes); bad {
			d.Inconclusive = append(d.Inconclusive, "no known CNI DaemonSet, and node annotations (k3s) could not be read: "+why)
		}
	}
	return d
}

func verdictOf(cs []Component) (string, string) {
	pick := func(state string) []string {
		set := map[string]bool{}
		for _, c := range cs {
			if c.State == state {
				set[c.Name] = true
			}
		}
		var out []string
		for n := range set {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	for _, state := range []string{Enforcing, Unknown, NotEnforcing} {
		if names := pick(state); len(names) > 0 {
			return state, strings.Join(names, "+")
		}
	}
	return Unknown, "unknown"
}
