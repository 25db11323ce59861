package cni

import (
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func node(name string, labels, annotations map[string]string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
}

func forbidden(resource string) map[string]auditor.Availability {
	return map[string]auditor.Availability{resource: {State: auditor.Forbidden, Message: "RBAC"}}
}

func withStatus(d *appsv1.DaemonSet, observed int64, desired, ready int32) *appsv1.DaemonSet {
	d.Status = appsv1.DaemonSetStatus{ObservedGeneration: observed, DesiredNumberScheduled: desired, NumberReady: ready}
	return d
}

func TestDetect(t *testing.T) {
	calico := func() *appsv1.DaemonSet { return ds("calico-system", "calico-node", nil, ctr("calico-node", "c")) }
	flannel := func() *appsv1.DaemonSet { return ds("kube-flannel", "kube-flannel-ds", nil) }
	cases := map[string]struct {
		objs         []any
		verdict, cni string
		components   map[string]string // name -> state
		why          string            // in the first component's Why
		inconclusive string
	}{
		"nothing at all": {verdict: Unknown, cni: "unknown",
			inconclusive: "no CNI DaemonSet among the inputs (and no Node)"},
		"DaemonSets forbidden": {objs: []any{calico(), forbidden(auditor.ResourceDaemonSets)}, verdict: Unknown, cni: "unknown",
			inconclusive: "cannot detect the CNI: daemonsets.apps is forbidden (RBAC)"},
		"unknown DaemonSets and nodes forbidden": {objs: []any{ds("monitoring", "node-exporter", nil), forbidden(auditor.ResourceNodes)},
			verdict: Unknown, cni: "unknown", inconclusive: "no known CNI DaemonSet, and node annotations (k3s) could not be read: nodes is forbidden (RBAC)"},
		"unknown DaemonSets, nodes readable": {objs: []any{ds("monitoring", "node-exporter", nil)}, verdict: Unknown, cni: "unknown"},
		"calico enforces":                    {objs: []any{calico()}, verdict: Enforcing, cni: "calico", components: map[string]string{"calico": Enforcing}},
		"an enforcing engine wins over flannel": {objs: []any{calico(), flannel()}, verdict: Enforcing, cni: "calico",
			components: map[string]string{"calico": Enforcing, "flannel": NotEnforcing}},
		"unknown wins over not enforcing": {objs: []any{flannel(), ds("kube-system", "kindnet", nil, ctr("kindnet-cni", "kindnetd@sha256:x"))},
			verdict: Unknown, cni: "kindnet", components: map[string]string{"flannel": NotEnforcing, "kindnet": Unknown}},
		"flannel alone": {objs: []any{flannel()}, verdict: NotEnforcing, cni: "flannel", components: map[string]string{"flannel": NotEnforcing}},
		"scheduled nowhere": {objs: []any{withStatus(calico(), 1, 0, 0)}, verdict: NotEnforcing, cni: "calico",
			components: map[string]string{"calico": NotEnforcing}, why: "schedules no pod on any node (desiredNumberScheduled 0)"},
		"no pod ready": {objs: []any{withStatus(calico(), 1, 3, 0)}, verdict: NotEnforcing, cni: "calico",
			components: map[string]string{"calico": NotEnforcing}, why: "has 0 of 3 pods ready"},
		"no status, nodeSelector matches no node": {objs: []any{func() *appsv1.DaemonSet {
			d := withStatus(calico(), 0, 0, 0)
			d.Spec.Template.Spec.NodeSelector = map[string]string{"pool": "gpu"}
			return d
		}(), node("n1", map[string]string{"pool": "cpu"}, nil)}, verdict: NotEnforcing, cni: "calico",
			components: map[string]string{"calico": NotEnforcing}, why: "nodeSelector pool=gpu matches none of the 1 nodes"},
		"no status, nodeSelector matches a node": {objs: []any{func() *appsv1.DaemonSet {
			d := withStatus(calico(), 0, 0, 0)
			d.Spec.Template.Spec.NodeSelector = map[string]string{"pool": "gpu"}
			return d
		}(), node("n1", map[string]string{"pool": "gpu"}, nil)}, verdict: Enforcing, cni: "calico", components: map[string]string{"calico": Enforcing}},
		"an unhealthy flannel is not judged on health": {objs: []any{withStatus(flannel(), 1, 0, 0)}, verdict: NotEnforcing, cni: "flannel",
			components: map[string]string{"flannel": NotEnforcing}, why: "Flannel provides pod networking only"},
		"EKS Auto Mode enabled": {objs: []any{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "amazon-vpc-cni"},
			Data: map[string]string{"enable-network-policy-controller": "true"}}}, verdict: Enforcing, cni: "aws-vpc-cni",
			components: map[string]string{"aws-vpc-cni": Enforcing}},
		"EKS Auto Mode ConfigMap ignored beside aws-node": {objs: []any{ds("kube-system", "aws-node", nil, ctr("aws-node", "a")),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "amazon-vpc-cni"},
				Data: map[string]string{"enable-network-policy-controller": "true"}}}, verdict: NotEnforcing, cni: "aws-vpc-cni",
			components: map[string]string{"aws-vpc-cni": NotEnforcing}},
		"k3s default": {objs: []any{node("k1", nil, map[string]string{"k3s.io/node-args": `["server","--write-kubeconfig-mode","644"]`})},
			verdict: Enforcing, cni: "k3s", components: map[string]string{"k3s": Enforcing}},
		"k3s policy disabled on one node": {objs: []any{
			node("k1", nil, map[string]string{"k3s.io/node-args": `["server"]`}),
			node("k2", nil, map[string]string{"k3s.io/node-args": `["server","--disable-network-policy","true"]`})},
			verdict: NotEnforcing, cni: "k3s", components: map[string]string{"k3s": NotEnforcing}, why: "node k2 runs k3s with --disable-network-policy"},
		"k3s bare flag, not JSON": {objs: []any{node("k1", nil, map[string]string{"k3s.io/node-args": "server --disable-network-policy"})},
			verdict: NotEnforcing, cni: "k3s", components: map[string]string{"k3s": NotEnforcing}},
		"k3s explicitly enabled": {objs: []any{node("k1", nil, map[string]string{"k3s.io/node-args": `["server","--disable-network-policy=false"]`})},
			verdict: Enforcing, cni: "k3s", components: map[string]string{"k3s": Enforcing}},
		"cilium with ConfigMaps hidden": {objs: []any{ds("kube-system", "cilium", nil, ctr("cilium-agent", "c")), forbidden(auditor.ResourceConfigMaps)},
			verdict: Unknown, cni: "cilium", components: map[string]string{"cilium": Unknown}, why: "cilium-config could not be read"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := Detect(snapshottest.New(tc.objs))
			assert.Equal(t, tc.verdict, d.Verdict)
			assert.Equal(t, tc.cni, d.CNI)
			got := map[string]string{}
			for _, c := range d.Components {
				got[c.Name] = c.State
				assert.NotNil(t, c.Object, "every component names its object")
			}
			if tc.components == nil {
				tc.components = map[string]string{}
			}
			assert.Equal(t, tc.components, got)
			if tc.why != "" {
				assert.Contains(t, d.Components[0].Why, tc.why)
			}
			if tc.inconclusive != "" {
				assert.Len(t, d.Inconclusive, 1)
				assert.Contains(t, d.Inconclusive[0], tc.inconclusive)
			} else {
				assert.Empty(t, d.Inconclusive)
			}
		})
	}
}

func TestDetectListsDaemonSetsSorted(t *testing.T) {
	d := Detect(snapshottest.New(ds("b", "z", nil), ds("a", "y", nil), ds("a", "x", nil)))
	assert.Equal(t, []string{"a/x", "a/y", "b/z"}, d.DaemonSets)
}

func TestDisabledBare(t *testing.T) {
	cases := map[string]struct {
		args []string
		want bool
	}{
		"last":                  {[]string{"server", "--disable-network-policy"}, true},
		"before another flag":   {[]string{"--disable-network-policy", "--foo"}, true},
		"single dash":           {[]string{"-disable-network-policy"}, true},
		"followed by a value":   {[]string{"--disable-network-policy", "true"}, false},
		"not a flag":            {[]string{"disable-network-policy"}, false},
		"another flag entirely": {[]string{"--disable-network-policy-x"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, disabledBare(tc.args)) })
	}
}
