package sr1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

type dsOpt func(*appsv1.DaemonSet)

// sr1DaemonSet builds a DaemonSet whose status says every pod is ready on 3 nodes.
func sr1DaemonSet(namespace, name string, opts ...dsOpt) *appsv1.DaemonSet {
	d := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Status:     appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, NumberReady: 3},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func withContainer(name, image string, args ...string) dsOpt {
	return func(d *appsv1.DaemonSet) {
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: name, Image: image, Args: args})
	}
}

func withDSLabels(kv ...string) dsOpt {
	return func(d *appsv1.DaemonSet) { d.Labels = sr1Sel(kv...).MatchLabels }
}

func withEnv(container, name, value string) dsOpt {
	return func(d *appsv1.DaemonSet) {
		for i := range d.Spec.Template.Spec.Containers {
			if d.Spec.Template.Spec.Containers[i].Name == container {
				d.Spec.Template.Spec.Containers[i].Env = append(d.Spec.Template.Spec.Containers[i].Env, corev1.EnvVar{Name: name, Value: value})
			}
		}
	}
}

func withStatus(observed int64, desired, ready int32) dsOpt {
	return func(d *appsv1.DaemonSet) {
		d.Status = appsv1.DaemonSetStatus{ObservedGeneration: observed, DesiredNumberScheduled: desired, NumberReady: ready}
	}
}

func withNodeSelector(kv ...string) dsOpt {
	return func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.NodeSelector = sr1Sel(kv...).MatchLabels }
}

func sr1ConfigMap(namespace, name string, kv ...string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: sr1Sel(kv...).MatchLabels}
}

func sr1Node(name string, annotations map[string]string, kv ...string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations, Labels: sr1Sel(kv...).MatchLabels}}
}

func ciliumDS(opts ...dsOpt) *appsv1.DaemonSet {
	return sr1DaemonSet("kube-system", "cilium", append([]dsOpt{withDSLabels("k8s-app", "cilium"), withContainer("cilium-agent", "quay.io/cilium/cilium:v1.18.3")}, opts...)...)
}

func awsNodeDS(opts ...dsOpt) *appsv1.DaemonSet {
	return sr1DaemonSet("kube-system", "aws-node", append([]dsOpt{withDSLabels("k8s-app", "aws-node"), withContainer("aws-node", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.20.4")}, opts...)...)
}

func kindnetDS(image string) *appsv1.DaemonSet {
	return sr1DaemonSet("kube-system", "kindnet", withDSLabels("app", "kindnet"), withContainer("kindnet-cni", image))
}

func TestCNIDetection(t *testing.T) {
	calicoNode := sr1DaemonSet("kube-system", "calico-node", withDSLabels("k8s-app", "calico-node"), withContainer("calico-node", "docker.io/calico/node:v3.30.3"))
	gkeCalico := func(opts ...dsOpt) *appsv1.DaemonSet {
		return sr1DaemonSet("kube-system", "calico-node", append([]dsOpt{
			withDSLabels("k8s-app", "calico-node", "addonmanager.kubernetes.io/mode", "Reconcile"),
			withContainer("calico-node", "gke.gcr.io/calico/node:v3.26.3-gke.8"), withEnv("calico-node", "CALICO_NETWORKING_BACKEND", "none"),
			withNodeSelector("projectcalico.org/ds-ready", "true")}, opts...)...)
	}
	nodeAgent := func(args ...string) dsOpt {
		return withContainer("aws-eks-nodeagent", "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.2.7", args...)
	}
	cases := map[string]struct {
		objs         []any
		cni          string
		enforcing    string
		notEnforcing []string // finding keys of cni-not-enforcing
		unknown      []string // finding keys of cni-unknown
		contains     string
		inconclusive bool
	}{
		"calico manifest install": {objs: []any{calicoNode}, cni: "calico", enforcing: "true"},
		"calico operator install": {
			objs: []any{sr1DaemonSet("calico-system", "calico-node", withContainer("calico-node", "quay.io/calico/node:v3.30.3"))}, cni: "calico", enforcing: "true",
		},
		"canal": {
			objs: []any{sr1DaemonSet("kube-system", "canal", withDSLabels("k8s-app", "canal"), withContainer("calico-node", "calico/node"), withContainer("kube-flannel", "flannel"))},
			cni:  "canal", enforcing: "true",
		},
		"rke2 canal recognised by containers": {
			objs: []any{sr1DaemonSet("kube-system", "rke2-canal", withContainer("calico-node", "rancher/hardened-calico"), withContainer("kube-flannel", "rancher/hardened-flannel"))},
			cni:  "canal", enforcing: "true",
		},
		"cilium with defaults": {objs: []any{ciliumDS(), sr1ConfigMap("kube-system", "cilium-config", "enable-policy", "default")}, cni: "cilium", enforcing: "true"},
		"cilium enable-policy never": {
			objs: []any{ciliumDS(), sr1ConfigMap("kube-system", "cilium-config", "enable-policy", "never")}, cni: "cilium", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|cilium critical"},
			contains:     `enable-policy is "never" (ConfigMap kube-system/cilium-config)`,
		},
		"cilium policy audit mode": {
			objs: []any{ciliumDS(), sr1ConfigMap("kube-system", "cilium-config", "policy-audit-mode", "true")}, cni: "cilium", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|cilium critical"},
			contains:     "verdicts are logged, not enforced",
		},
		"cilium ignoring Kubernetes NetworkPolicy": {
			objs: []any{ciliumDS(), sr1ConfigMap("kube-system", "cilium-config", "enable-k8s-networkpolicy", "false")}, cni: "cilium", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|cilium critical"},
		},
		"cilium agent flag wins over the ConfigMap": {
			objs: []any{ciliumDS(func(d *appsv1.DaemonSet) {
				d.Spec.Template.Spec.Containers[0].Args = []string{"--config-dir=/tmp/cilium", "--policy-audit-mode"}
			}),
				sr1ConfigMap("kube-system", "cilium-config", "policy-audit-mode", "false")},
			cni: "cilium", enforcing: "false", notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|cilium critical"},
			contains: "flag --policy-audit-mode of container cilium-agent",
		},
		"cilium when ConfigMaps cannot be read": {
			objs: []any{ciliumDS(), sr1Forbidden(auditor.ResourceConfigMaps)}, cni: "cilium", enforcing: "unknown",
			unknown: []string{"cni-unknown|DaemonSet|kube-system|cilium medium"},
		},
		"GKE Dataplane V2": {objs: []any{sr1DaemonSet("kube-system", "anetd", withContainer("cilium-agent", "gke.gcr.io/cilium/cilium"))}, cni: "gke-dataplane-v2", enforcing: "true"},
		"GKE Calico add-on scheduled nowhere (0/0)": {
			objs: []any{gkeCalico(withStatus(2, 0, 0))}, cni: "calico", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|calico-node critical"},
			contains:     "desiredNumberScheduled 0) (nodeSelector projectcalico.org/ds-ready=true)",
		},
		"GKE Calico add-on in manifests, no node labelled ds-ready": {
			objs: []any{gkeCalico(withStatus(0, 0, 0)), sr1Node("n1", nil, "cloud.google.com/gke-nodepool", "default"), sr1Node("n2", nil)},
			cni:  "calico", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|calico-node critical"},
			contains:     "matches none of the 2 nodes",
		},
		"manifest without status and no nodes: trusted as written": {
			objs: []any{gkeCalico(withStatus(0, 0, 0))}, cni: "calico", enforcing: "true",
		},
		"agent DaemonSet with no ready pod": {
			objs: []any{sr1DaemonSet("kube-system", "calico-node", withContainer("calico-node", "calico/node"), withStatus(5, 3, 0))}, cni: "calico", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|calico-node critical"},
			contains:     "has 0 of 3 pods ready",
		},
		"AWS VPC CNI without the network policy agent": {
			objs: []any{awsNodeDS()}, cni: "aws-vpc-cni", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|aws-node critical"},
			contains:     "aws-node has no aws-eks-nodeagent container",
		},
		"AWS VPC CNI agent without --enable-network-policy=true": {
			objs: []any{awsNodeDS(nodeAgent("--enable-network-policy=false", "--enable-ipv6=false"))}, cni: "aws-vpc-cni", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|aws-node critical"},
		},
		"AWS VPC CNI with network policy": {
			objs: []any{awsNodeDS(nodeAgent("--enable-ipv6=false", "--enable-network-policy=true"))}, cni: "aws-vpc-cni", enforcing: "true",
		},
		"AWS VPC CNI plus Calico policy-only": {
			objs: []any{awsNodeDS(), calicoNode}, cni: "calico", enforcing: "true",
		},
		"EKS Auto Mode with the policy controller on": {
			objs: []any{sr1ConfigMap("kube-system", "amazon-vpc-cni", "enable-network-policy-controller", "true"), sr1Node("i-1", nil)}, cni: "aws-vpc-cni", enforcing: "true",
		},
		"EKS Auto Mode with the policy controller off": {
			objs: []any{sr1ConfigMap("kube-system", "amazon-vpc-cni", "enable-windows-ipam", "false"), sr1Node("i-1", nil)}, cni: "aws-vpc-cni", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|ConfigMap|kube-system|amazon-vpc-cni critical"},
		},
		"Azure NPM": {
			objs: []any{sr1DaemonSet("kube-system", "azure-npm", withDSLabels("k8s-app", "azure-npm"), withContainer("azure-npm", "mcr.microsoft.com/containernetworking/azure-npm:v1.6.33"))},
			cni:  "azure-npm", enforcing: "true",
		},
		"Antrea": {
			objs: []any{sr1DaemonSet("kube-system", "antrea-agent", withDSLabels("app", "antrea", "component", "antrea-agent"), withContainer("antrea-agent", "antrea/antrea-agent-ubuntu:v2.4.0"))},
			cni:  "antrea", enforcing: "true",
		},
		"kube-router with its default firewall": {
			objs: []any{sr1DaemonSet("kube-system", "kube-router", withContainer("kube-router", "docker.io/cloudnativelabs/kube-router", "--run-router=true", "--run-firewall", "--run-service-proxy=false"))},
			cni:  "kube-router", enforcing: "true",
		},
		"kube-router with the firewall off": {
			objs: []any{sr1DaemonSet("kube-system", "kube-router", withContainer("kube-router", "docker.io/cloudnativelabs/kube-router", "--run-router=true", "--run-firewall=false"))},
			cni:  "kube-router", enforcing: "false", notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|kube-router critical"},
		},
		"Weave Net with weave-npc": {
			objs: []any{sr1DaemonSet("kube-system", "weave-net", withContainer("weave", "weaveworks/weave-kube"), withContainer("weave-npc", "weaveworks/weave-npc"))},
			cni:  "weave", enforcing: "true",
		},
		"Weave Net without weave-npc": {
			objs: []any{sr1DaemonSet("kube-system", "weave-net", withContainer("weave", "weaveworks/weave-kube"))},
			cni:  "weave", enforcing: "false", notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|weave-net critical"},
		},
		"Flannel alone": {
			objs: []any{sr1DaemonSet("kube-flannel", "kube-flannel-ds", withDSLabels("app", "flannel"), withContainer("kube-flannel", "ghcr.io/flannel-io/flannel:v0.27.4"))},
			cni:  "flannel", enforcing: "false", notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-flannel|kube-flannel-ds critical"},
			contains: "Flannel provides pod networking only",
		},
		"kindnet with network policies":          {objs: []any{kindnetDS("docker.io/kindest/kindnetd:v20250512-df8de77b")}, cni: "kindnet", enforcing: "true"},
		"kindnet at the first enforcing version": {objs: []any{kindnetDS("docker.io/kindest/kindnetd:v20240813-c6f155d6")}, cni: "kindnet", enforcing: "true"},
		"old kindnet": {
			objs: []any{kindnetDS("docker.io/kindest/kindnetd:v20230511-dc714da8")}, cni: "kindnet", enforcing: "false",
			notEnforcing: []string{"cni-not-enforcing|DaemonSet|kube-system|kindnet critical"},
			contains:     "kindnetd v20230511 predates NetworkPolicy support",
		},
		"kindnet pinned by digest only": {
			objs: []any{kindnetDS("docker.io/kindest/kindnetd@sha256:0123")}, cni: "kindnet", enforcing: "unknown",
			unknown: []string{"cni-unknown|DaemonSet|kube-system|kindnet medium"},
		},
		"k3s with its embedded policy controller": {
			objs: []any{sr1Node("server-0", map[string]string{"k3s.io/node-args": `["server","--cluster-init","true"]`}), sr1Node("agent-0", map[string]string{"k3s.io/node-args": `["agent"]`})},
			cni:  "k3s", enforcing: "true",
		},
		"k3s with --disable-network-policy": {
			objs: []any{sr1Node("agent-0", map[string]string{"k3s.io/node-args": `["agent"]`}), sr1Node("server-0", map[string]string{"k3s.io/node-args": `["server","--disable-network-policy","true"]`})},
			cni:  "k3s", enforcing: "false", notEnforcing: []string{"cni-not-enforcing|Node||server-0 critical"},
		},
		"k3s with policy disabled but Calico installed": {
			objs: []any{calicoNode, sr1Node("server-0", map[string]string{"k3s.io/node-args": `["server","--flannel-backend","none","--disable-network-policy"]`})},
			cni:  "calico", enforcing: "true",
		},
		"unrecognised DaemonSets": {
			objs: []any{sr1DaemonSet("kube-system", "kube-proxy"), sr1DaemonSet("acme", "acme-net-agent"), sr1Node("n1", nil)}, cni: "unknown", enforcing: "unknown",
			unknown:  []string{"cni-unknown| medium"},
			contains: "none of the 2 DaemonSets (acme/acme-net-agent, kube-system/kube-proxy) is a known CNI",
		},
		"nodes but no DaemonSet": {
			objs: []any{sr1Node("n1", nil)}, cni: "unknown", enforcing: "unknown",
			unknown: []string{"cni-unknown| medium"}, contains: "no DaemonSet and no node carries",
		},
		"no DaemonSet and no Node among the inputs": {
			objs: []any{sr1Platform()}, cni: "unknown", enforcing: "unknown", inconclusive: true,
		},
		"DaemonSets forbidden": {
			objs: []any{sr1Forbidden(auditor.ResourceDaemonSets), sr1Node("n1", nil)}, cni: "unknown", enforcing: "unknown", inconclusive: true,
		},
	}
	cfg := auditor.DefaultConfig()
	notEnforcing, unknown := ruleFor(cniNotEnforcing)(cfg), ruleFor(cniUnknown)(cfg)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshottest.New(snapshottest.At(sr1Now), tc.objs)
			ne, un := notEnforcing.Evaluate(s), unknown.Evaluate(s)
			assert.Equal(t, tc.notEnforcing, sr1NilIfEmpty(sr1FindingKeys(ne.Findings)))
			assert.Equal(t, tc.unknown, sr1NilIfEmpty(sr1FindingKeys(un.Findings)))
			assert.Equal(t, tc.inconclusive, len(ne.Inconclusive) > 0, "inconclusive: %v", ne.Inconclusive)
			assert.Equal(t, tc.inconclusive, len(un.Inconclusive) > 0, "inconclusive: %v", un.Inconclusive)
			assert.Equal(t, []auditor.Fact{{
				Metric: "cni_info", Help: ne.Facts[0].Help, Value: 1,
				Labels: []auditor.Label{{Name: "cni", Value: tc.cni}, {Name: "enforcing", Value: tc.enforcing}},
			}}, ne.Facts)
			assert.Empty(t, un.Facts, "cni_info is published once, by cni-not-enforcing")
			if tc.contains != "" {
				var msgs []string
				for _, f := range append(ne.Findings, un.Findings...) {
					msgs = append(msgs, f.Message)
				}
				assert.Contains(t, strings.Join(msgs, "\n"), tc.contains)
			}
		})
	}
}
