package sr1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func hostNet(p *corev1.Pod) *corev1.Pod { p.Spec.HostNetwork = true; return p }

func onNode(node string, p *corev1.Pod) *corev1.Pod { p.Spec.NodeName = node; return p }

func withPhase(phase corev1.PodPhase, uid string, p *corev1.Pod) *corev1.Pod {
	p.Status.Phase, p.UID = phase, types.UID(uid)
	return p
}

func controlledBy(kind, name string, p *corev1.Pod) *corev1.Pod {
	p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: new(true)})
	return p
}

func hostNetDeployment(ns, name string, hostNetwork bool) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	d.Spec.Template.Spec.HostNetwork = hostNetwork
	return d
}

func hostNetDaemonSet(ns, name string) *appsv1.DaemonSet {
	d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	d.Spec.Template.Spec.HostNetwork = true
	return d
}

// replicaSetOf is a ReplicaSet owner controlled by Deployment dep.
func replicaSetOf(ns, name, dep string) *auditor.Owner {
	return &auditor.Owner{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: ns, Name: name,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: dep, Controller: new(true)}}}
}

// TestServingHostNetwork: every host-network workload of a protected namespace is a
// critical finding naming it; pod-network workloads, finished pods read from a cluster
// and host-network pods elsewhere are not.
func TestServingHostNetwork(t *testing.T) {
	cases := map[string]struct {
		objs     []any
		want     []string
		contains string
	}{
		"pod-network model server": {objs: []any{sr1Pod("serving", "vllm-0")}},
		"host-network model server pod": {
			objs:     []any{onNode("gpu-1", hostNet(sr1Pod("serving", "vllm-0")))},
			want:     []string{"serving-host-network|Pod|serving|vllm-0 critical"},
			contains: "Pod serving/vllm-0 on node gpu-1 sets hostNetwork: true in protected namespace serving",
		},
		"host-network gateway in inference": {
			objs: []any{hostNet(sr1Pod("inference", "gw"))},
			want: []string{"serving-host-network|Pod|inference|gw critical"},
		},
		"a Deployment template in a manifest, before any pod": {
			objs:     []any{hostNetDeployment("serving", "vllm", true)},
			want:     []string{"serving-host-network|Deployment|serving|vllm critical"},
			contains: "Deployment serving/vllm (pod template) sets hostNetwork: true",
		},
		"a Deployment's pods are reported once, on the Deployment": {
			objs: []any{hostNetDeployment("serving", "vllm", true), replicaSetOf("serving", "vllm-7d9", "vllm"),
				controlledBy("ReplicaSet", "vllm-7d9", hostNet(sr1Pod("serving", "vllm-7d9-abc")))},
			want: []string{"serving-host-network|Deployment|serving|vllm critical"},
		},
		"a DaemonSet in a protected namespace": {
			objs: []any{hostNetDaemonSet("serving", "agent"), controlledBy("DaemonSet", "agent", hostNet(sr1Pod("serving", "agent-x")))},
			want: []string{"serving-host-network|DaemonSet|serving|agent critical"},
		},
		"a pod-network Deployment": {objs: []any{hostNetDeployment("serving", "vllm", false)}},
		"a finished host-network pod read from a cluster": {
			objs: []any{withPhase(corev1.PodSucceeded, "1", hostNet(sr1Pod("serving", "done")))},
		},
		"a manifest's Succeeded status is ignored (the API server resets status on create)": {
			objs: []any{withPhase(corev1.PodSucceeded, "", hostNet(sr1Pod("serving", "looks-done")))},
			want: []string{"serving-host-network|Pod|serving|looks-done critical"},
		},
		"host-network pod in a trusted namespace is not this rule's": {objs: []any{hostNet(sr1Pod("litellm", "proxy"))}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := ruleFor(servingHostNetwork)(auditor.DefaultConfig()).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), tc.objs))
			assert.Empty(t, res.Inconclusive)
			assert.Equal(t, tc.want, keysOrNil(res.Findings))
			if tc.contains != "" {
				require.NotEmpty(t, res.Findings)
				assert.Contains(t, res.Findings[0].Message, tc.contains)
			}
		})
	}
}

// TestTenantHostNetworkPod: a host-network workload in a namespace that is neither
// protected, trusted nor allowed host networking is critical; kube-system (the default
// sr1.hostNetworkNamespaces) and the trusted namespaces are not reported.
func TestTenantHostNetworkPod(t *testing.T) {
	withAllowed := auditor.DefaultConfig()
	withAllowed.SR1.HostNetworkNamespaces = []string{"kube-system", "team-web"}
	cases := map[string]struct {
		cfg      *auditor.Config
		objs     []any
		want     []string
		contains string
	}{
		"tenant pod on the pod network": {objs: []any{sr1Pod("team-web", "app")}},
		"tenant host-network pod": {
			objs:     []any{onNode("gpu-1", hostNet(sr1Pod("team-web", "sniffer")))},
			want:     []string{"tenant-host-network-pod|Pod|team-web|sniffer critical"},
			contains: "Pod team-web/sniffer on node gpu-1 sets hostNetwork: true in namespace team-web, which is neither protected, trusted nor a host-network platform namespace (sr1.hostNetworkNamespaces: kube-system)",
		},
		"tenant Deployment template": {
			objs: []any{hostNetDeployment("team-search", "crawler", true)},
			want: []string{"tenant-host-network-pod|Deployment|team-search|crawler critical"},
		},
		"a namespace without a Namespace object": {
			objs: []any{hostNet(sr1Pod("unlisted", "x"))},
			want: []string{"tenant-host-network-pod|Pod|unlisted|x critical"},
		},
		"kube-system agent":                    {objs: []any{hostNetDaemonSet("kube-system", "calico-node")}},
		"trusted namespace (monitoring)":       {objs: []any{hostNetDaemonSet("monitoring", "node-exporter")}},
		"protected namespace (the other rule)": {objs: []any{hostNet(sr1Pod("serving", "vllm-0"))}},
		"namespace added to sr1.hostNetworkNamespaces": {
			cfg: &withAllowed, objs: []any{hostNet(sr1Pod("team-web", "agent"))},
		},
		"a non-controller owner does not hide the pod": {
			objs: []any{hostNetDaemonSet("team-web", "ds"), func() *corev1.Pod {
				p := hostNet(sr1Pod("team-web", "stray"))
				p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds"}}
				return p
			}()},
			want: []string{"tenant-host-network-pod|DaemonSet|team-web|ds critical", "tenant-host-network-pod|Pod|team-web|stray critical"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := auditor.DefaultConfig()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			res := ruleFor(tenantHostNetworkPod)(cfg).Evaluate(snapshottest.New(snapshottest.At(sr1Now), sr1Platform(), tc.objs))
			assert.Empty(t, res.Inconclusive)
			assert.Equal(t, tc.want, keysOrNil(res.Findings))
			if tc.contains != "" {
				require.NotEmpty(t, res.Findings)
				assert.Contains(t, res.Findings[0].Message, tc.contains)
			}
		})
	}
}

// TestHostNetworkPodsKeptWhole: the live source keeps whole the pods the rules read
// (RuleMeta.Pods); a tenant host-network pod must be one of them, or a stub hides it.
func TestHostNetworkPodsKeptWhole(t *testing.T) {
	keep := auditor.PodsRead(Rules(auditor.DefaultConfig()))
	assert.True(t, keep(hostNet(sr1Pod("team-web", "x"))), "tenant host-network pod")
	assert.True(t, keep(hostNet(sr1Pod("serving", "x"))), "protected host-network pod")
	assert.True(t, keep(sr1Pod("serving", "x")), "protected pod")
	assert.False(t, keep(sr1Pod("team-web", "x")), "tenant pod on the pod network stays a stub")
}

func keysOrNil(fs []auditor.Finding) []string {
	if len(fs) == 0 {
		return nil
	}
	return sr1FindingKeys(fs)
}
