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

// The cluster-scoped network policy API (sigs.k8s.io/network-policy-api) per CNI and
// version: an AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy does
// nothing on a CNI that does not implement its kind, so the SR1 rules judge one only
// where it is implemented (docs/rules/sr1.md lists these facts beside their sources).
const (
	APIImplemented    = "implemented"
	APINotImplemented = "not-implemented"
	APIUnknown        = "unknown"
)

// Kinds of the cluster-scoped network policy API.
const (
	KindANP  = "AdminNetworkPolicy"
	KindBANP = "BaselineAdminNetworkPolicy"
	KindCNP  = "ClusterNetworkPolicy"
)

// APISupport says whether a component implements one kind, and why the auditor thinks so.
type APISupport struct {
	State string
	Why   string
}

// semver is a CNI release read from an image tag.
type semver struct{ major, minor, patch int }

func (v semver) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

func (v semver) String() string { return fmt.Sprintf("v%d.%d.%d", v.major, v.minor, v.patch) }

var semverTag = regexp.MustCompile(`:v(\d+)\.(\d+)\.(\d+)(?:[-+@].*)?$`)

// imageVersion reads vMAJOR.MINOR.PATCH from a container image's tag.
func imageVersion(image string) (semver, bool) {
	m := semverTag.FindStringSubmatch(image)
	if m == nil {
		return semver{}, false
	}
	var v semver
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	v.patch, _ = strconv.Atoi(m[3])
	return v, true
}

// Calico's releases of the policy API:
//   - AdminNetworkPolicy from v3.29.0 (projectcalico/calico#7578, implementation PR #9206);
//   - BaselineAdminNetworkPolicy from v3.30.0 (projectcalico/calico PR #9464, with
//     tigera/operator PR #3634 in operator v1.38.0, which ships Calico v3.30.0);
//   - v3.32.0 replaces both with ClusterNetworkPolicy (projectcalico/calico#10745, a
//     maintainer's comment of 2026-01-06; tigera/docs PR #2416 moves the admin tier to
//     ClusterNetworkPolicy). Whether v3.32 still reads the v1alpha1 kinds is not
//     verified, so they are unknown there: judged as active.
func calicoAPISupport(version semver) map[string]APISupport {
	out := map[string]APISupport{}
	v := version.String()
	switch {
	case version.atLeast(3, 32, 0):
		out[KindANP] = APISupport{APIUnknown, "Calico " + v + " replaced AdminNetworkPolicy with ClusterNetworkPolicy (calico#10745); whether it still reads the v1alpha1 kind is not known"}
		out[KindBANP] = APISupport{APIUnknown, "Calico " + v + " replaced BaselineAdminNetworkPolicy with ClusterNetworkPolicy (calico#10745); whether it still reads the v1alpha1 kind is not known"}
	case version.atLeast(3, 29, 0):
		out[KindANP] = APISupport{APIImplemented, "Calico " + v + " implements AdminNetworkPolicy (from v3.29.0)"}
		if version.atLeast(3, 30, 0) {
			out[KindBANP] = APISupport{APIImplemented, "Calico " + v + " implements BaselineAdminNetworkPolicy (from v3.30.0)"}
		} else {
			out[KindBANP] = APISupport{APINotImplemented, "Calico " + v + " does not implement BaselineAdminNetworkPolicy (from v3.30.0)"}
		}
	default:
		out[KindANP] = APISupport{APINotImplemented, "Calico " + v + " does not implement AdminNetworkPolicy (from v3.29.0)"}
		out[KindBANP] = APISupport{APINotImplemented, "Calico " + v + " does not implement BaselineAdminNetworkPolicy (from v3.30.0)"}
	}
	if version.atLeast(3, 32, 0) {
		out[KindCNP] = APISupport{APIImplemented, "Calico " + v + " implements ClusterNetworkPolicy (from v3.32.0)"}
	} else {
		out[KindCNP] = APISupport{APINotImplemented, "Calico " + v + " does not implement ClusterNetworkPolicy (from v3.32.0)"}
	}
	return out
}

// Cilium never implemented the v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy
// (cilium/cilium#23380, the feature proposal, became ClusterNetworkPolicy support); it
// implements ClusterNetworkPolicy from 1.20 behind --enable-k8s-cluster-network-policy
// (Helm k8sClusterNetworkPolicy.enabled, default off; cilium/cilium PR #47227, the
// 1.20 documentation).
const ciliumCNPKnob = "enable-k8s-cluster-network-policy"

func ciliumAPISupport(s *auditor.Snapshot, ds *appsv1.DaemonSet, v podSpecView) map[string]APISupport {
	out := map[string]APISupport{
		KindANP:  {APINotImplemented, "Cilium implements no AdminNetworkPolicy (cilium#23380: only ClusterNetworkPolicy, from 1.20)"},
		KindBANP: {APINotImplemented, "Cilium implements no BaselineAdminNetworkPolicy (cilium#23380: only ClusterNetworkPolicy, from 1.20)"},
	}
	agent := v.containers["cilium-agent"]
	version, known := imageVersion(agent.Image)
	if known && !version.atLeast(1, 20, 0) {
		out[KindCNP] = APISupport{APINotImplemented, "Cilium " + version.String() + " does not implement ClusterNetworkPolicy (from 1.20)"}
		return out
	}
	knob, src := "", ""
	if _, bad := inputs.Unseen(s, auditor.ResourceConfigMaps); !bad {
		if cm := s.ConfigMap(ds.Namespace, "cilium-config"); cm != nil {
			if val, ok := cm.Data[ciliumCNPKnob]; ok {
				knob, src = strings.TrimSpace(val), "ConfigMap "+ds.Namespace+"/cilium-config"
			}
		}
	} else if _, ok := flagValue(containerArgv(agent), ciliumCNPKnob, true); !ok {
		out[KindCNP] = APISupport{APIUnknown, "cilium-config could not be read (configmaps not visible): " + ciliumCNPKnob + " unknown"}
		return out
	}
	if val, ok := flagValue(containerArgv(agent), ciliumCNPKnob, true); ok {
		knob, src = val, "flag --"+ciliumCNPKnob+" of container cilium-agent"
	}
	if flagTrue(knob) {
		out[KindCNP] = APISupport{APIImplemented, ciliumCNPKnob + " is on (" + src + ")"}
	} else {
		out[KindCNP] = APISupport{APINotImplemented, ciliumCNPKnob + " is off (default false): Cilium ignores ClusterNetworkPolicy"}
	}
	return out
}

// policyAPISupport says, for one recognised component, which kinds of the policy API it
// implements. Components whose support the auditor has not verified are unknown, and
// their policies are judged as active.
func policyAPISupport(s *auditor.Snapshot, ds *appsv1.DaemonSet, v podSpecView, c Component) map[string]APISupport {
	all := func(state, why string) map[string]APISupport {
		return map[string]APISupport{KindANP: {state, why}, KindBANP: {state, why}, KindCNP: {state, why}}
	}
	if c.State == NotEnforcing {
		return all(APINotImplemented, c.Name+" enforces no network policy here: "+c.Why)
	}
	switch c.Name {
	case "calico", "canal":
		image := v.containers["calico-node"].Image
		if version, ok := imageVersion(image); ok {
			return calicoAPISupport(version)
		}
		return all(APIUnknown, fmt.Sprintf("calico-node image %q carries no vX.Y.Z tag: which policy API kinds it implements is unknown", image))
	case "cilium":
		return ciliumAPISupport(s, ds, v)
	}
	return all(APIUnknown, "the auditor's catalogue holds no verified fact on "+c.Name+"'s support of the cluster-scoped policy API")
}

// PolicyAPI says whether the cluster's network implements a kind of the cluster-scoped
// policy API: implemented when a component does, unknown when none does but one might
// (or no component was recognised), else not implemented.
func (d Detection) PolicyAPI(kind string) APISupport {
	var unknown, not []string
	for _, c := range d.Components {
		sup, ok := c.PolicyAPI[kind]
		if !ok {
			sup = APISupport{APIUnknown, c.Name + ": not judged"}
		}
		switch sup.State {
		case APIImplemented:
			return sup
		case APIUnknown:
			unknown = append(unknown, sup.Why)
		default:
			not = append(not, sup.Why)
		}
	}
	switch {
	case len(unknown) > 0:
		return APISupport{APIUnknown, strings.Join(unknown, "; ")}
	case len(not) > 0:
		return APISupport{APINotImplemented, strings.Join(not, "; ")}
	}
	return APISupport{APIUnknown, "no CNI was recognised"}
}
