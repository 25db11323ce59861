package sr1

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// psaPlatform is sr1Platform with every namespace outside the budget path labelled
// enforce: baseline except those named in open.
func psaPlatform(open map[string]string) []any {
	var out []any
	cfg := auditor.DefaultConfig()
	for _, o := range sr1Platform() {
		ns := o.(*corev1.Namespace).DeepCopy()
		if cfg.Untrusted(ns.Name) {
			if level, ok := open[ns.Name]; ok {
				if level != "" {
					ns.Labels[podSecurityEnforceLabel] = level
				}
			} else {
				ns.Labels[podSecurityEnforceLabel] = "baseline"
			}
		}
		out = append(out, ns)
	}
	return out
}

func hostNetworkVAP(name string, nsSel *metav1.LabelSelector, actions ...admissionv1.ValidationAction) []any {
	p := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{MatchConstraints: &admissionv1.MatchResources{
			NamespaceSelector: nsSel,
			ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}}},
		}, Validations: []admissionv1.Validation{{Expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork"}}}}
	b := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-binding"},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: name, ValidationActions: actions}}
	return []any{p, b}
}

// TestTenantNamespaceAdmitsHostNetwork: a namespace outside the budget path must refuse
// host-network pods through Pod Security baseline or restricted; an explicit privileged
// level is medium; no label with an undeclared cluster default is unknown, never assumed.
func TestTenantNamespaceAdmitsHostNetwork(t *testing.T) {
	declared := func(level string) *auditor.Config {
		c := auditor.DefaultConfig()
		c.SR1.PodSecurityDefault = level
		return &c
	}
	cases := map[string]struct {
		cfg          *auditor.Config
		objs         []any
		want         []string
		contains     string
		inconclusive string
	}{
		"every tenant namespace enforces baseline": {objs: psaPlatform(nil)},
		"restricted also refuses host networking":  {objs: psaPlatform(map[string]string{"team-web": "restricted"})},
		"an unparseable level is evaluated as restricted": {
			objs: psaPlatform(map[string]string{"team-web": "strict"}),
		},
		"a namespace labelled privileged": {
			objs:     psaPlatform(map[string]string{"team-web": "privileged"}),
			want:     []string{"tenant-namespace-admits-host-network|Namespace||team-web medium"},
			contains: "namespace team-web is labelled pod-security.kubernetes.io/enforce: privileged",
		},
		"no label, cluster default not declared: unknown": {
			objs:         psaPlatform(map[string]string{"team-web": "", "team-search": ""}),
			inconclusive: "namespaces team-search, team-web carry no pod-security.kubernetes.io/enforce label, and the cluster-wide Pod Security default",
		},
		"no label, cluster default declared privileged": {
			cfg:      declared("privileged"),
			objs:     psaPlatform(map[string]string{"team-web": ""}),
			want:     []string{"tenant-namespace-admits-host-network|Namespace||team-web medium"},
			contains: "the cluster-wide Pod Security default is privileged (sr1.podSecurityDefault)",
		},
		"no label, cluster default declared baseline": {cfg: declared("baseline"), objs: psaPlatform(map[string]string{"team-web": ""})},
		"a namespace label wins over a baseline default": {
			cfg:  declared("baseline"),
			objs: psaPlatform(map[string]string{"team-web": "privileged"}),
			want: []string{"tenant-namespace-admits-host-network|Namespace||team-web medium"},
		},
		"trusted, protected and kube-system namespaces are not judged": {
			cfg: declared("privileged"), objs: psaPlatform(nil),
		},
		"a Deny ValidatingAdmissionPolicy over pods: its CEL is not evaluated, so unknown": {
			objs:         []any{psaPlatform(map[string]string{"team-web": "privileged"}), hostNetworkVAP("no-host-network", nil, admissionv1.Deny)},
			inconclusive: "namespace team-web: Pod Security does not refuse host-network pods there, but ValidatingAdmissionPolicies with a Deny binding cover its pods (no-host-network (binding no-host-network-binding))",
		},
		"an Audit-only binding does not count": {
			objs: []any{psaPlatform(map[string]string{"team-web": "privileged"}), hostNetworkVAP("no-host-network", nil, admissionv1.Audit)},
			want: []string{"tenant-namespace-admits-host-network|Namespace||team-web medium"},
		},
		"a policy whose namespaceSelector misses the namespace does not count": {
			objs: []any{psaPlatform(map[string]string{"team-web": "privileged"}), hostNetworkVAP("no-host-network", sr1Sel("llm-platform/team", "search"), admissionv1.Deny)},
			want: []string{"tenant-namespace-admits-host-network|Namespace||team-web medium"},
		},
		"a terminating namespace admits no pod": {
			objs: func() []any {
				objs := psaPlatform(map[string]string{"team-web": "privileged"})
				for _, o := range objs {
					if ns := o.(*corev1.Namespace); ns.Name == "team-web" {
						ns.DeletionTimestamp = &metav1.Time{Time: sr1Now}
					}
				}
				return objs
			}(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := auditor.DefaultConfig()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			res := ruleFor(tenantNamespaceAdmitsHostNetwork)(cfg).Evaluate(snapshottest.New(snapshottest.At(sr1Now), tc.objs))
			assert.Equal(t, tc.want, keysOrNil(res.Findings))
			if tc.contains != "" {
				require.NotEmpty(t, res.Findings)
				assert.Contains(t, res.Findings[0].Message, tc.contains)
			}
			if tc.inconclusive == "" {
				assert.Empty(t, res.Inconclusive)
			} else {
				assert.Contains(t, strings.Join(res.Inconclusive, "\n"), tc.inconclusive)
			}
		})
	}
}

func TestPodSecurityDefaultValidated(t *testing.T) {
	cfg := auditor.DefaultConfig()
	cfg.SR1.PodSecurityDefault = "strict"
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `sr1.podSecurityDefault: "strict" is not a Pod Security level`)
	cfg.SR1.PodSecurityDefault = "baseline"
	require.NoError(t, cfg.Validate())
}
