package cni

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// ds is a DaemonSet with the given labels and containers (name, image, args...).
func ds(namespace, name string, labels map[string]string, containers ...corev1.Container) *appsv1.DaemonSet {
	d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, NumberReady: 2}}
	d.Spec.Template.Spec.Containers = containers
	return d
}

func ctr(name, image string, args ...string) corev1.Container {
	return corev1.Container{Name: name, Image: image, Args: args}
}

func TestIdentify(t *testing.T) {
	cases := map[string]struct {
		ds   *appsv1.DaemonSet
		want string
	}{
		"canal by name":                  {ds("kube-system", "canal", nil), "canal"},
		"canal by calico beside flannel": {ds("kube-system", "x", nil, ctr("calico-node", "c"), ctr("kube-flannel", "f")), "canal"},
		"canal by CLUSTER_TYPE": {func() *appsv1.DaemonSet {
			d := ds("kube-system", "x", nil, ctr("calico-node", "c"))
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "CLUSTER_TYPE", Value: "k8s,canal"}}
			return d
		}(), "canal"},
		"calico by container": {ds("calico-system", "x", nil, ctr("calico-node", "c")), "calico"},
		"calico by init container": {func() *appsv1.DaemonSet {
			d := ds("calico-system", "x", nil)
			d.Spec.Template.Spec.InitContainers = []corev1.Container{ctr("calico-node", "c")}
			return d
		}(), "calico"},
		"GKE Dataplane V2":  {ds("kube-system", "anetd", nil), "gke-dataplane-v2"},
		"cilium by k8s-app": {ds("kube-system", "agent", map[string]string{"k8s-app": "cilium"}), "cilium"},
		"cilium by template label": {func() *appsv1.DaemonSet {
			d := ds("kube-system", "agent", nil)
			d.Spec.Template.Labels = map[string]string{"app.kubernetes.io/name": "cilium-agent"}
			return d
		}(), "cilium"},
		"aws-node":               {ds("kube-system", "aws-node", nil), "aws-vpc-cni"},
		"azure-npm":              {ds("kube-system", "azure-npm", nil), "azure-npm"},
		"antrea by labels":       {ds("kube-system", "x", map[string]string{"app": "antrea", "component": "antrea-agent"}), "antrea"},
		"kube-router":            {ds("kube-system", "x", nil, ctr("kube-router", "k")), "kube-router"},
		"weave by name label":    {ds("kube-system", "x", map[string]string{"name": "weave-net"}), "weave"},
		"kindnet":                {ds("kube-system", "x", map[string]string{"app": "kindnet"}), "kindnet"},
		"kube-network-policies":  {ds("kube-system", "kube-network-policies", nil), "kube-network-policies"},
		"ovn-kubernetes":         {ds("ovn", "x", nil, ctr("ovnkube-controller", "o")), "ovn-kubernetes"},
		"flannel by name prefix": {ds("kube-flannel", "kube-flannel-ds", nil), "flannel"},
		"unknown DaemonSet":      {ds("monitoring", "node-exporter", map[string]string{"app": "node-exporter"}, ctr("node-exporter", "n")), ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, identify(tc.ds, viewOf(tc.ds)))
		})
	}
}

func TestFlagTrueFalse(t *testing.T) {
	cases := map[string]struct{ isTrue, isFalse bool }{
		"true": {true, false}, " 1 ": {true, false}, "TRUE": {true, false},
		"false": {false, true}, "0": {false, true}, "F": {false, true},
		"": {false, false}, "yes": {false, false}, "always": {false, false},
	}
	for v, tc := range cases {
		t.Run(v, func(t *testing.T) {
			assert.Equal(t, tc.isTrue, flagTrue(v))
			assert.Equal(t, tc.isFalse, flagFalse(v))
		})
	}
}

func TestJudge(t *testing.T) {
	cases := map[string]struct {
		ds    *appsv1.DaemonSet
		cni   string
		objs  []any
		state string
		why   string
	}{
		"calico policy-only": {ds: func() *appsv1.DaemonSet {
			d := ds("calico-system", "calico-node", nil, ctr("calico-node", "c"))
			d.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "CALICO_NETWORKING_BACKEND", Value: "none"}}
			return d
		}(), cni: "calico", state: Enforcing, why: "in policy-only mode"},
		"aws without agent": {ds: ds("kube-system", "aws-node", nil, ctr("aws-node", "a")), cni: "aws-vpc-cni", state: NotEnforcing, why: "has no aws-eks-nodeagent"},
		"aws agent enabled": {ds: ds("kube-system", "aws-node", nil, ctr("aws-node", "a"), ctr("aws-eks-nodeagent", "n", "--enable-network-policy=true")),
			cni: "aws-vpc-cni", state: Enforcing, why: "--enable-network-policy=true"},
		"aws agent found by image, flag off": {ds: ds("kube-system", "aws-node", nil, ctr("agent", "x/aws-network-policy-agent:v1", "--enable-network-policy=false")),
			cni: "aws-vpc-cni", state: NotEnforcing, why: "container agent runs without"},
		"kube-router firewall off":   {ds: ds("kube-system", "kube-router", nil, ctr("kube-router", "k", "--run-firewall=false")), cni: "kube-router", state: NotEnforcing},
		"kube-router default":        {ds: ds("kube-system", "kube-router", nil, ctr("kube-router", "k")), cni: "kube-router", state: Enforcing},
		"weave without npc":          {ds: ds("kube-system", "weave-net", nil, ctr("weave", "w")), cni: "weave", state: NotEnforcing},
		"kindnet untagged":           {ds: ds("kube-system", "kindnet", nil, ctr("kindnet-cni", "kindest/kindnetd@sha256:abc")), cni: "kindnet", state: Unknown, why: "carries no vYYYYMMDD tag"},
		"kindnet first container":    {ds: ds("kube-system", "kindnet", nil, ctr("cni", "kindest/kindnetd:v20240813-x")), cni: "kindnet", state: Enforcing},
		"kindnet day before support": {ds: ds("kube-system", "kindnet", nil, ctr("kindnet-cni", "kindest/kindnetd:v20240812")), cni: "kindnet", state: NotEnforcing},
		"flannel":                    {ds: ds("kube-flannel", "kube-flannel-ds", nil), cni: "flannel", state: NotEnforcing},
		"cilium defaults": {ds: ds("kube-system", "cilium", nil, ctr("cilium-agent", "c")), cni: "cilium", state: Enforcing,
			why: "cilium-config not found: defaults assumed"},
		"cilium never": {ds: ds("kube-system", "cilium", nil, ctr("cilium-agent", "c")), cni: "cilium", state: NotEnforcing, why: "ConfigMap kube-system/cilium-config",
			objs: []any{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium-config"}, Data: map[string]string{"enable-policy": " Never "}}}},
		"cilium flag beats ConfigMap": {ds: ds("kube-system", "cilium", nil, ctr("cilium-agent", "c", "--policy-audit-mode")), cni: "cilium", state: NotEnforcing,
			why:  "flag --policy-audit-mode of container cilium-agent",
			objs: []any{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "cilium-config"}, Data: map[string]string{"policy-audit-mode": "false"}}}},
		"cilium ignores k8s policy": {ds: ds("kube-system", "cilium", nil, ctr("cilium-agent", "c", "--enable-k8s-networkpolicy=false")), cni: "cilium", state: NotEnforcing},
		"unjudged name":             {ds: ds("kube-system", "x", nil), cni: "something-else", state: Unknown, why: "not judged"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			state, why := judge(snapshottest.New(tc.objs), tc.ds, viewOf(tc.ds), tc.cni)
			assert.Equal(t, tc.state, state)
			assert.Contains(t, why, tc.why)
		})
	}
}

func TestFlagValue(t *testing.T) {
	cases := map[string]struct {
		args    []string
		flag    string
		boolean bool
		want    string
		found   bool
	}{
		"equals":                     {args: []string{"--a=1"}, flag: "a", want: "1", found: true},
		"separate value":             {args: []string{"--a", "x"}, flag: "a", want: "x", found: true},
		"bare boolean":               {args: []string{"--a", "false"}, flag: "a", boolean: true, want: "true", found: true},
		"last wins":                  {args: []string{"--a=1", "-a=2"}, flag: "a", want: "2", found: true},
		"a value is not a flag":      {args: []string{"--b", "a=1"}, flag: "a"},
		"prefix of another flag":     {args: []string{"--ab=1"}, flag: "a"},
		"non-boolean at end of argv": {args: []string{"--a"}, flag: "a"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v, ok := flagValue(tc.args, tc.flag, tc.boolean)
			assert.Equal(t, tc.found, ok)
			assert.Equal(t, tc.want, v)
		})
	}
}

func TestImageVersion(t *testing.T) {
	cases := map[string]struct {
		image string
		want  semver
		ok    bool
	}{
		"plain tag":        {image: "quay.io/calico/node:v3.29.0", want: semver{3, 29, 0}, ok: true},
		"tag and digest":   {image: "quay.io/cilium/cilium:v1.20.1@sha256:abc", want: semver{1, 20, 1}, ok: true},
		"vendor suffix":    {image: "gke.gcr.io/calico/node:v3.26.3-gke.8", want: semver{3, 26, 3}, ok: true},
		"no tag":           {image: "calico/node"},
		"latest":           {image: "calico/node:latest"},
		"registry port":    {image: "registry:5000/calico/node"},
		"two-part version": {image: "calico/node:v3.29"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := imageVersion(tc.image)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.True(t, semver{3, 29, 0}.atLeast(3, 29, 0))
	assert.False(t, semver{3, 28, 9}.atLeast(3, 29, 0))
	assert.True(t, semver{4, 0, 0}.atLeast(3, 32, 0))
}
