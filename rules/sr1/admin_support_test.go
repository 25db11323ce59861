package sr1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// TestAdminAllowJudgedWhereTheCNIImplementsIt: an Admin-tier allow from a tenant into a
// protected namespace is critical where the CNI implements its kind or may (unknown),
// and low, saying it is inert, where the CNI does not implement it.
func TestAdminAllowJudgedWhereTheCNIImplementsIt(t *testing.T) {
	subject := map[string]any{"namespaces": selectorMap(corev1.LabelMetadataName, "serving")}
	peer := map[string]any{"namespaces": selectorMap("llm-platform/team", "web")}
	anp := adminNetPol("AdminNetworkPolicy", "tenant-in", adminNetPolSpec("Allow", subject, peer))
	cnp := adminNetPol("ClusterNetworkPolicy", "tenant-in", func() map[string]any {
		s := adminNetPolSpec("Accept", subject, peer)
		s["tier"] = "Admin"
		return s
	}())
	calico := func(tag string) any {
		return sr1DaemonSet("calico-system", "calico-node", withContainer("calico-node", "quay.io/calico/node:"+tag))
	}
	cases := map[string]struct {
		objs     []any
		severity auditor.Severity
		contains string
	}{
		"ANP on Calico v3.29.0 (implements ANP)": {
			objs: []any{anp, calico("v3.29.0")}, severity: auditor.SeverityCritical,
			contains: "(Calico v3.29.0 implements AdminNetworkPolicy (from v3.29.0))",
		},
		"ANP on Calico v3.28.2 (before ANP)": {
			objs: []any{anp, calico("v3.28.2")}, severity: auditor.SeverityLow,
			contains: "but it is inert on this cluster's network: Calico v3.28.2 does not implement AdminNetworkPolicy (from v3.29.0)",
		},
		"ANP on Calico v3.32.0 (replaced by ClusterNetworkPolicy; judged as active)": {
			objs: []any{anp, calico("v3.32.0")}, severity: auditor.SeverityCritical,
			contains: "judged as active: whether the CNI implements AdminNetworkPolicy is not known",
		},
		"ANP on Calico without a version tag": {
			objs: []any{anp, calico("latest")}, severity: auditor.SeverityCritical, contains: "judged as active",
		},
		"ANP on Cilium (never implemented)": {
			objs: []any{anp, ciliumDS()}, severity: auditor.SeverityLow,
			contains: "inert on this cluster's network: Cilium implements no AdminNetworkPolicy",
		},
		"ClusterNetworkPolicy on Cilium 1.20 with the flag on": {
			objs:     []any{cnp, sr1DaemonSet("kube-system", "cilium", withDSLabels("k8s-app", "cilium"), withContainer("cilium-agent", "quay.io/cilium/cilium:v1.20.0", "--enable-k8s-cluster-network-policy=true"))},
			severity: auditor.SeverityCritical, contains: "(enable-k8s-cluster-network-policy is on (flag --enable-k8s-cluster-network-policy of container cilium-agent))",
		},
		"ClusterNetworkPolicy on Cilium 1.20 with the flag off (default)": {
			objs:     []any{cnp, sr1ConfigMap("kube-system", "cilium-config"), sr1DaemonSet("kube-system", "cilium", withDSLabels("k8s-app", "cilium"), withContainer("cilium-agent", "quay.io/cilium/cilium:v1.20.0"))},
			severity: auditor.SeverityLow, contains: "enable-k8s-cluster-network-policy is off (default false)",
		},
		"ClusterNetworkPolicy on Cilium 1.18": {
			objs: []any{cnp, ciliumDS()}, severity: auditor.SeverityLow, contains: "Cilium v1.18.3 does not implement ClusterNetworkPolicy (from 1.20)",
		},
		"ANP with no CNI recognised": {
			objs: []any{anp}, severity: auditor.SeverityCritical, contains: "not known: no CNI was recognised",
		},
		"ANP on Flannel, which enforces no policy": {
			objs:     []any{anp, sr1DaemonSet("kube-system", "kube-flannel-ds", withContainer("kube-flannel", "flannel/flannel:v0.26.1"))},
			severity: auditor.SeverityLow, contains: "flannel enforces no network policy here",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := ruleFor(ingressOutsideAllowlist)(auditor.DefaultConfig()).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), tc.objs))
			require.Len(t, res.Findings, 1)
			assert.Equal(t, tc.severity, res.Findings[0].Severity)
			assert.Contains(t, res.Findings[0].Message, tc.contains)
			assert.Contains(t, res.Findings[0].Message, "into serving from namespaces team-web")
		})
	}
}

// TestAdminRulePorts: the message names the ports the admin rule matches.
func TestAdminRulePorts(t *testing.T) {
	cases := map[string]struct {
		rule map[string]any
		want string
	}{
		"no ports: every port": {rule: map[string]any{}, want: "all ports"},
		"v1alpha1 portNumber, default protocol TCP": {
			rule: map[string]any{"ports": []any{map[string]any{"portNumber": map[string]any{"port": int64(8000)}}}}, want: "TCP/8000",
		},
		"v1alpha1 range and named port": {
			rule: map[string]any{"ports": []any{
				map[string]any{"portRange": map[string]any{"protocol": "UDP", "start": int64(9000), "end": int64(9100)}},
				map[string]any{"namedPort": "http"},
			}},
			want: "UDP/9000-9100, named port http",
		},
		"v1alpha2 protocols": {
			rule: map[string]any{"protocols": []any{
				map[string]any{"tcp": map[string]any{"destinationPort": map[string]any{"number": int64(8000)}}},
				map[string]any{"udp": map[string]any{"destinationPort": map[string]any{"range": map[string]any{"start": int64(1), "end": int64(2)}}}},
				map[string]any{"sctp": map[string]any{}},
				map[string]any{"destinationNamedPort": "grpc"},
			}},
			want: "TCP/8000, UDP/1-2, SCTP (any port), named port grpc",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, adminPorts(tc.rule))
		})
	}
	subject := map[string]any{"namespaces": selectorMap(corev1.LabelMetadataName, "serving")}
	spec := adminNetPolSpec("Allow", subject, map[string]any{"namespaces": selectorMap("llm-platform/team", "web")})
	spec["ingress"].([]any)[0].(map[string]any)["ports"] = []any{map[string]any{"portNumber": map[string]any{"protocol": "TCP", "port": int64(8000)}}}
	res := ruleFor(ingressOutsideAllowlist)(auditor.DefaultConfig()).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), adminNetPol("AdminNetworkPolicy", "p", spec)))
	require.Len(t, res.Findings, 1)
	assert.Contains(t, res.Findings[0].Message, "into serving from namespaces team-web (from[0] {llm-platform/team=web}) on TCP/8000")
}
