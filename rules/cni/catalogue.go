package cni

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/inputs"
)

// The CNI catalogue: how each known CNI shows up in a DaemonSet, and which of its flags
// and ConfigMaps decide whether it enforces NetworkPolicy (docs/rules/sr1.md lists them).

// podSpecView gathers what identification reads from a DaemonSet's pod template.
type podSpecView struct {
	containers map[string]corev1.Container
	labels     map[string]string
}

func viewOf(ds *appsv1.DaemonSet) podSpecView {
	v := podSpecView{containers: map[string]corev1.Container{}, labels: map[string]string{}}
	for k, val := range ds.Spec.Template.Labels {
		v.labels[k] = val
	}
	for k, val := range ds.Labels {
		v.labels[k] = val
	}
	for _, c := range ds.Spec.Template.Spec.InitContainers {
		v.containers[c.Name] = c
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		v.containers[c.Name] = c
	}
	return v
}

func (v podSpecView) has(container string) bool { _, ok := v.containers[container]; return ok }

func (v podSpecView) env(container, name string) string {
	for _, e := range v.containers[container].Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func containerArgv(c corev1.Container) []string {
	return append(append([]string(nil), c.Command...), c.Args...)
}

// flagValue finds a command-line flag: "--f=v" or "--f v". A boolean flag written bare
// ("--f") is true and, as with Go's flag packages, never takes the next argument as its
// value. found is false when the flag is absent; the last occurrence wins.
func flagValue(args []string, flag string, boolean bool) (value string, found bool) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimLeft(a, "-")
		switch {
		case strings.HasPrefix(a, flag+"="):
			value, found = strings.TrimPrefix(a, flag+"="), true
		case a == flag && boolean:
			value, found = "true", true
		case a == flag && i+1 < len(args):
			value, found = args[i+1], true
		}
	}
	return value, found
}

func flagTrue(v string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return err == nil && b
}

func flagFalse(v string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return err == nil && !b
}

// identify names the CNI a DaemonSet belongs to, or "" when it is not one the auditor knows.
func identify(ds *appsv1.DaemonSet, v podSpecView) string {
	name, app, k8sApp := ds.Name, v.labels["app"], v.labels["k8s-app"]
	switch {
	case name == "canal" || strings.HasSuffix(name, "-canal") || k8sApp == "canal" ||
		(v.has("calico-node") && v.has("kube-flannel")) || strings.Contains(v.env("calico-node", "CLUSTER_TYPE"), "canal"):
		return "canal"
	case name == "calico-node" || k8sApp == "calico-node" || v.has("calico-node"):
		return "calico"
	case name == "anetd" || v.has("anetd"):
		return "gke-dataplane-v2"
	case name == "cilium" || k8sApp == "cilium" || v.labels["app.kubernetes.io/name"] == "cilium-agent" || v.has("cilium-agent"):
		return "cilium"
	case name == "aws-node" || k8sApp == "aws-node" || v.has("aws-node"):
		return "aws-vpc-cni"
	case name == "azure-npm" || k8sApp == "azure-npm" || v.has("azure-npm"):
		return "azure-npm"
	case name == "antrea-agent" || v.has("antrea-agent") || (app == "antrea" && v.labels["component"] == "antrea-agent"):
		return "antrea"
	case name == "kube-router" || k8sApp == "kube-router" || v.has("kube-router"):
		return "kube-router"
	case name == "weave-net" || v.labels["name"] == "weave-net" || v.has("weave"):
		return "weave"
	case name == "kindnet" || app == "kindnet" || k8sApp == "kindnet" || v.has("kindnet-cni"):
		return "kindnet"
	case name == "kube-network-policies" || v.has("kube-network-policies"):
		return "kube-network-policies"
	case name == "ovnkube-node" || v.has("ovnkube-controller"):
		return "ovn-kubernetes"
	case strings.HasPrefix(name, "kube-flannel") || app == "flannel" || v.has("kube-flannel"):
		return "flannel"
	}
	return ""
}

// kindnetEnforcesFrom is the first kindnetd image (kind v0.24.0) that implements NetworkPolicy.
const kindnetEnforcesFrom = 20240813

var kindnetTag = regexp.MustCompile(`:v(\d{8})(?:[-@].*)?$`)

// judge decides whether one recognised component enforces NetworkPolicy, from its
// container flags and configuration, before its health is considered.
func judge(s *auditor.Snapshot, ds *appsv1.DaemonSet, v podSpecView, cni string) (string, string) {
	switch cni {
	case "calico", "canal":
		why := "Felix (container calico-node) enforces NetworkPolicy"
		if v.env("calico-node", "CALICO_NETWORKING_BACKEND") == "none" && cni == "calico" {
			why += " in policy-only mode"
		}
		return Enforcing, why
	case "gke-dataplane-v2":
		return Enforcing, "GKE Dataplane V2 (anetd) always enforces NetworkPolicy"
	case "cilium":
		return judgeCilium(s, ds, v)
	case "aws-vpc-cni":
		var agent *corev1.Container
		for i, c := range ds.Spec.Template.Spec.Containers {
			if c.Name == "aws-eks-nodeagent" || strings.Contains(c.Image, "aws-network-policy-agent") {
				agent = &ds.Spec.Template.Spec.Containers[i]
			}
		}
		if agent == nil {
			return NotEnforcing, "aws-node has no aws-eks-nodeagent container: the VPC CNI (before v1.14, or without network policy) does not enforce NetworkPolicy"
		}
		if val, ok := flagValue(containerArgv(*agent), "enable-network-policy", true); ok && flagTrue(val) {
			return Enforcing, "aws-eks-nodeagent runs with --enable-network-policy=true"
		}
		return NotEnforcing, "container " + agent.Name + " runs without --enable-network-policy=true (set enableNetworkPolicy: \"true\" in the VPC CNI add-on configuration)"
	case "azure-npm":
		return Enforcing, "Azure Network Policy Manager enforces NetworkPolicy"
	case "antrea":
		return Enforcing, "the Antrea agent enforces NetworkPolicy"
	case "kube-router":
		if val, ok := flagValue(containerArgv(v.containers["kube-router"]), "run-firewall", true); ok && flagFalse(val) {
			return NotEnforcing, "kube-router runs with --run-firewall=false: its network policy controller is off"
		}
		return Enforcing, "kube-router runs its network policy firewall (--run-firewall, default true)"
	case "weave":
		if v.has("weave-npc") {
			return Enforcing, "container weave-npc enforces NetworkPolicy"
		}
		return NotEnforcing, "weave-net has no weave-npc container: Weave Net does not enforce NetworkPolicy without it"
	case "kindnet":
		c, ok := v.containers["kindnet-cni"]
		if cs := ds.Spec.Template.Spec.Containers; !ok && len(cs) > 0 {
			c = cs[0]
		}
		m := kindnetTag.FindStringSubmatch(c.Image)
		if m == nil {
			return Unknown, fmt.Sprintf("kindnet image %q carries no vYYYYMMDD tag; kindnetd enforces NetworkPolicy from v%d (kind v0.24.0) on", c.Image, kindnetEnforcesFrom)
		}
		if n, _ := strconv.Atoi(m[1]); n >= kindnetEnforcesFrom {
			return Enforcing, fmt.Sprintf("kindnetd v%s enforces NetworkPolicy (fail-open: traffic passes while its queue processor is down)", m[1])
		}
		return NotEnforcing, fmt.Sprintf("kindnetd v%s predates NetworkPolicy support (v%d, kind v0.24.0)", m[1], kindnetEnforcesFrom)
	case "kube-network-policies":
		return Enforcing, "kube-network-policies enforces NetworkPolicy"
	case "ovn-kubernetes":
		return Enforcing, "OVN-Kubernetes enforces NetworkPolicy"
	case "flannel":
		return NotEnforcing, "Flannel provides pod networking only and implements no NetworkPolicy; no policy engine (Calico/Canal, Cilium, ...) was found beside it"
	}
	return Unknown, "not judged"
}

// judgeCilium reads the agent's knobs: cilium-config in the DaemonSet's namespace, then
// agent flags, which win over the ConfigMap.
func judgeCilium(s *auditor.Snapshot, ds *appsv1.DaemonSet, v podSpecView) (string, string) {
	knobs := map[string]string{}
	src := map[string]string{}
	if _, bad := inputs.Unseen(s, auditor.ResourceConfigMaps); bad {
		return Unknown, "cilium-config could not be read (configmaps not visible): enable-policy and policy-audit-mode unknown"
	}
	cmNote := ""
	if cm := s.ConfigMap(ds.Namespace, "cilium-config"); cm != nil {
		for _, k := range []string{"enable-policy", "policy-audit-mode", "enable-k8s-networkpolicy"} {
			if val, ok := cm.Data[k]; ok {
				knobs[k], src[k] = strings.TrimSpace(val), "ConfigMap "+ds.Namespace+"/cilium-config"
			}
		}
	} else {
		cmNote = " (ConfigMap " + ds.Namespace + "/cilium-config not found: defaults assumed)"
	}
	agent := containerArgv(v.containers["cilium-agent"])
	for _, k := range []string{"enable-policy", "policy-audit-mode", "enable-k8s-networkpolicy"} {
		if val, ok := flagValue(agent, k, k != "enable-policy"); ok {
			knobs[k], src[k] = val, "flag --"+k+" of container cilium-agent"
		}
	}
	switch {
	case strings.EqualFold(knobs["enable-policy"], "never"):
		return NotEnforcing, "enable-policy is \"never\" (" + src["enable-policy"] + "): Cilium enforces no policy"
	case flagTrue(knobs["policy-audit-mode"]):
		return NotEnforcing, "policy-audit-mode is \"" + knobs["policy-audit-mode"] + "\" (" + src["policy-audit-mode"] + "): verdicts are logged, not enforced"
	case flagFalse(knobs["enable-k8s-networkpolicy"]):
		return NotEnforcing, "enable-k8s-networkpolicy is \"" + knobs["enable-k8s-networkpolicy"] + "\" (" + src["enable-k8s-networkpolicy"] + "): Cilium ignores Kubernetes NetworkPolicy"
	}
	return Enforcing, "the Cilium agent enforces NetworkPolicy" + cmNote
}
