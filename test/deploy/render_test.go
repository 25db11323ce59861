package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

const (
	auditorNS     = "enforcement-auditor"
	auditorName   = "enforcement-auditor"
	auditorImage  = "ghcr.io/llm-platform/enforcement-auditor"
	evidenceDir   = "/var/lib/enforcement-auditor/evidence"
	kyvernoNS     = "kyverno"
	maxAnnotation = 256 * 1024 // total annotation size: kubectl's last-applied copy must fit
)

// The components of deploy/components.
const (
	probes       = "probes"
	promOperator = "prometheus-operator"
	grafana      = "grafana-dashboards"
	evidence     = "evidence"
	// evidenceSigning mounts the signing key's Secret (Helm: evidence.signingKey.secretName).
	evidenceSigning = "evidence-signing"
	leaderElection  = "leader-election"
	// insecureServing is not a kustomize component: the Helm value insecureServing=true.
	insecureServing = "insecure-serving"
	kyvernoHealth   = "kyverno-health"
	otlp            = "otlp"
	reports         = "reports"
)

// allComponents are the components of deploy/overlays/full.
var allComponents = []string{probes, promOperator, grafana, evidence, evidenceSigning, leaderElection, kyvernoHealth, reports}

// expectedComponents says which components each variant of deploy/variants.txt
// composes; a variant missing here fails the test, so every variant states what it is.
var expectedComponents = map[string][]string{
	"deploy/base":                         nil,
	"deploy/overlays/full":                allComponents,
	"deploy/examples/probes":              {probes},
	"deploy/examples/prometheus-operator": {promOperator},
	"deploy/examples/grafana-dashboards":  {grafana},
	"deploy/examples/evidence":            {evidence, evidenceSigning},
	"deploy/examples/leader-election":     {leaderElection},
	"deploy/examples/kyverno-health":      {kyvernoHealth},
	"deploy/examples/otlp":                {otlp},
	"deploy/examples/reports":             {reports},
}

// rendered is one variant decoded into typed objects (custom resources stay unstructured).
type rendered struct {
	objects    []runtime.Object
	custom     []*unstructured.Unstructured
	deployment *appsv1.Deployment
}

func (r *rendered) find(kind, namespace, name string) runtime.Object {
	for _, o := range r.objects {
		m, err := metaOf(o)
		if err == nil && o.GetObjectKind().GroupVersionKind().Kind == kind && m.GetNamespace() == namespace && m.GetName() == name {
			return o
		}
	}
	return nil
}

func (r *rendered) findCustom(kind, namespace, name string) *unstructured.Unstructured {
	for _, u := range r.custom {
		if u.GetKind() == kind && u.GetNamespace() == namespace && u.GetName() == name {
			return u
		}
	}
	return nil
}

func metaOf(o runtime.Object) (metav1.Object, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no object metadata", o)
	}
	return m, nil
}

// strictDecoder fails on unknown or duplicate fields: a typo in a manifest is an error
// here, not a field the API server silently drops.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// customKinds are the CRD-backed kinds deploy/ may use (no Go types in this module).
var customKinds = map[string]string{
	"ServiceMonitor": "monitoring.coreos.com/v1",
	"PrometheusRule": "monitoring.coreos.com/v1",
}

func decodeVariant(t *testing.T, objs []*unstructured.Unstructured) *rendered {
	t.Helper()
	r := &rendered{}
	seen := map[string]bool{}
	for _, u := range objs {
		id := fmt.Sprintf("%s %s/%s", u.GroupVersionKind(), u.GetNamespace(), u.GetName())
		require.False(t, seen[id], "duplicate object %s", id)
		seen[id] = true
		if v, ok := customKinds[u.GetKind()]; ok {
			require.Equal(t, v, u.GetAPIVersion(), id)
			r.custom = append(r.custom, u)
			continue
		}
		b, err := json.Marshal(u.Object)
		require.NoError(t, err)
		o, _, err := strictDecoder.Decode(b, nil, nil)
		require.NoError(t, err, "%s does not decode strictly", id)
		r.objects = append(r.objects, o)
		if d, ok := o.(*appsv1.Deployment); ok {
			require.Nil(t, r.deployment, "one Deployment per variant")
			r.deployment = d
		}
	}
	require.NotNil(t, r.deployment, "no Deployment rendered")
	return r
}

func TestVariantsRender(t *testing.T) {
	vs := variants(t)
	listed := slices.Sorted(func(yield func(string) bool) {
		for k := range expectedComponents {
			if !yield(k) {
				return
			}
		}
	})
	require.ElementsMatch(t, listed, vs, "deploy/variants.txt and expectedComponents must list the same variants")
	for _, v := range vs {
		t.Run(v, func(t *testing.T) {
			checkRendered(t, decodeVariant(t, render(t, v)), expectedComponents[v])
		})
	}
}

// checkRendered runs every check on one rendering (a kustomize variant or a Helm
// values case) that composes the given components.
func checkRendered(t *testing.T, r *rendered, components []string) {
	t.Helper()
	checkNamespaces(t, r)
	checkRBAC(t, r)
	checkDeployment(t, r.deployment, !slices.Contains(components, insecureServing))
	checkService(t, r)
	has := func(c string) bool { return slices.Contains(components, c) }
	checkNetworkPolicy(t, r, has(otlp))
	checkProbes(t, r, has(probes))
	checkEvidence(t, r, has(evidence))
	checkEvidenceSigning(t, r, has(evidenceSigning))
	checkLeaderElection(t, r, has(leaderElection))
	checkPrometheusOperator(t, r, has(promOperator), !has(insecureServing))
	checkSecureServing(t, r, !has(insecureServing))
	checkGrafana(t, r, has(grafana))
	checkKyvernoHealth(t, r, has(kyvernoHealth))
	checkReports(t, r, has(reports))
}

// checkReports: the report writer's flag and its write grant (the report resources,
// nothing else) only with the component; the base stays read-only.
func checkReports(t *testing.T, r *rendered, on bool) {
	assert.Equal(t, on, slices.Contains(args(r), "--reports=openreports"))
	role, okRole := r.find("ClusterRole", "", "enforcement-auditor-reports").(*rbacv1.ClusterRole)
	binding, okBinding := r.find("ClusterRoleBinding", "", "enforcement-auditor-reports").(*rbacv1.ClusterRoleBinding)
	assert.Equal(t, on, okRole)
	assert.Equal(t, on, okBinding)
	if !on {
		return
	}
	write := []string{"list", "create", "patch", "delete"}
	assert.Equal(t, []rbacv1.PolicyRule{
		{APIGroups: []string{"openreports.io"}, Resources: []string{"reports", "clusterreports"}, Verbs: write},
		{APIGroups: []string{"wgpolicyk8s.io"}, Resources: []string{"policyreports", "clusterpolicyreports"}, Verbs: write},
	}, role.Rules)
	assert.Equal(t, "enforcement-auditor-reports", binding.RoleRef.Name)
}

// checkKyvernoHealth: the Kyverno health Lease grant (the only object outside the
// auditor's namespace) only with the component: the base applies without Kyverno.
func checkKyvernoHealth(t *testing.T, r *rendered, on bool) {
	_, role := r.find("Role", kyvernoNS, "enforcement-auditor-kyverno-health").(*rbacv1.Role)
	_, binding := r.find("RoleBinding", kyvernoNS, "enforcement-auditor-kyverno-health").(*rbacv1.RoleBinding)
	assert.Equal(t, on, role)
	assert.Equal(t, on, binding)
	for _, o := range r.objects {
		m, err := metaOf(o)
		require.NoError(t, err)
		if !on {
			assert.NotEqual(t, kyvernoNS, m.GetNamespace(), "%s in the kyverno namespace without the kyverno-health component", m.GetName())
		}
	}
}

// checkNamespaces: namespaced objects live in the auditor's namespace (the Kyverno
// health Role in Kyverno's), and that namespace is neither trusted nor protected.
func checkNamespaces(t *testing.T, r *rendered) {
	cfg := auditor.DefaultConfig()
	ns, ok := r.find("Namespace", "", auditorNS).(*corev1.Namespace)
	require.True(t, ok, "Namespace %s not rendered", auditorNS)
	assert.NotContains(t, cfg.SR1.TrustedNamespaces, ns.Name, "the auditor (and its network probe) must run outside the trusted namespaces")
	assert.NotContains(t, cfg.SR1.ProtectedNamespaces, ns.Name)
	assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"])
	_, kueueManaged := ns.Labels["llm-platform/kueue-managed"]
	assert.False(t, kueueManaged)

	for _, o := range r.objects {
		m, err := metaOf(o)
		require.NoError(t, err)
		kind := o.GetObjectKind().GroupVersionKind().Kind
		switch kind {
		case "Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
			assert.Empty(t, m.GetNamespace(), "%s %s is cluster-scoped", kind, m.GetName())
		default:
			want := auditorNS
			if strings.HasSuffix(m.GetName(), "-kyverno-health") {
				want = kyvernoNS
			}
			if kind == "RoleBinding" && m.GetName() == "enforcement-auditor-probes" {
				continue // Helm's probes.namespaces: one RoleBinding per probed namespace
			}
			assert.Equal(t, want, m.GetNamespace(), "%s %s", kind, m.GetName())
		}
		assert.Equal(t, auditorName, m.GetLabels()["app.kubernetes.io/name"], "%s %s lacks the app label", kind, m.GetName())
	}
	for _, u := range r.custom {
		assert.Equal(t, auditorNS, u.GetNamespace(), "%s %s", u.GetKind(), u.GetName())
		assert.Equal(t, auditorName, u.GetLabels()["app.kubernetes.io/name"], "%s %s lacks the app label", u.GetKind(), u.GetName())
	}
}

// writeGrants are the only write permissions deploy/ may grant, by role and resource.
var writeGrants = map[string]map[string][]string{
	"ClusterRole/enforcement-auditor-probes":                       {"pods": {"create"}},
	"Role/enforcement-auditor/enforcement-auditor-leader-election": {"leases": {"create", "update"}, "configmaps": {"create", "update"}},
	// Secure serving: review a client's token and permission (creates nothing persistent).
	"ClusterRole/enforcement-auditor-auth-delegator": {"tokenreviews": {"create"}, "subjectaccessreviews": {"create"}},
	// The reports component: the auditor's own policy reports (server-side apply).
	"ClusterRole/enforcement-auditor-reports": {
		"reports": {"create", "patch", "delete"}, "clusterreports": {"create", "patch", "delete"},
		"policyreports": {"create", "patch", "delete"}, "clusterpolicyreports": {"create", "patch", "delete"},
	},
}

// nonResourceGrants are the only roles that may name non-resource URLs: the role a user
// binds to their scraper, and the evidence role (not bound to the auditor).
var nonResourceGrants = map[string][]string{
	"ClusterRole/enforcement-auditor-metrics-reader":  {"/metrics"},
	"ClusterRole/enforcement-auditor-evidence-reader": {"/evidence"},
}

var readVerbs = []string{"get", "list", "watch"}

// checkRBAC: least privilege everywhere: no wildcard, no Secrets, no non-resource URLs,
// no write verb beyond writeGrants; every binding binds an existing role to the
// auditor's ServiceAccount and nobody else.
func checkRBAC(t *testing.T, r *rendered) {
	roles := map[string]bool{}
	for _, o := range r.objects {
		var id string
		var rules []rbacv1.PolicyRule
		switch x := o.(type) {
		case *rbacv1.ClusterRole:
			id, rules = "ClusterRole/"+x.Name, x.Rules
			require.Nil(t, x.AggregationRule, id)
		case *rbacv1.Role:
			id, rules = "Role/"+x.Namespace+"/"+x.Name, x.Rules
		default:
			continue
		}
		roles[id] = true
		for i, rule := range rules {
			where := fmt.Sprintf("%s rule %d", id, i)
			// The scraper's role must not grant /evidence: it has its own.
			assert.Subset(t, nonResourceGrants[id], rule.NonResourceURLs, "%s: non-resource URLs", where)
			for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs, rule.ResourceNames} {
				assert.NotContains(t, list, "*", "%s: no wildcard", where)
			}
			assert.NotContains(t, rule.Resources, "secrets", "%s: the auditor never reads Secrets", where)
			for _, res := range rule.Resources {
				assert.NotContains(t, res, "/", "%s: no subresources", where)
				for _, verb := range rule.Verbs {
					if slices.Contains(readVerbs, verb) {
						continue
					}
					assert.Contains(t, writeGrants[id][res], verb, "%s: %s on %s is a write grant not in writeGrants", where, verb, res)
				}
			}
		}
	}
	for _, o := range r.objects {
		var id, ref string
		var subjects []rbacv1.Subject
		switch x := o.(type) {
		case *rbacv1.ClusterRoleBinding:
			id, subjects = "ClusterRoleBinding/"+x.Name, x.Subjects
			require.Equal(t, "ClusterRole", x.RoleRef.Kind, id)
			ref = "ClusterRole/" + x.RoleRef.Name
		case *rbacv1.RoleBinding:
			id, subjects = "RoleBinding/"+x.Namespace+"/"+x.Name, x.Subjects
			ref = "Role/" + x.Namespace + "/" + x.RoleRef.Name
			if x.RoleRef.Kind == "ClusterRole" { // a cluster role granted in one namespace
				ref = "ClusterRole/" + x.RoleRef.Name
			} else {
				require.Equal(t, "Role", x.RoleRef.Kind, id)
			}
		default:
			continue
		}
		assert.True(t, roles[ref], "%s binds %s, which is not rendered", id, ref)
		assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: auditorName, Namespace: auditorNS}}, subjects, id)
	}
	_, ok := r.find("ServiceAccount", auditorNS, auditorName).(*corev1.ServiceAccount)
	assert.True(t, ok, "ServiceAccount not rendered")
}

// checkDeployment: the restricted security context, the image, the probes and the
// resources every variant keeps.
func checkDeployment(t *testing.T, d *appsv1.Deployment, secure bool) {
	assert.Equal(t, auditorNS, d.Namespace)
	spec := d.Spec.Template.Spec
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "the selector must match the pod template")
	assert.Equal(t, auditorName, spec.ServiceAccountName)
	require.NotNil(t, spec.AutomountServiceAccountToken)
	assert.True(t, *spec.AutomountServiceAccountToken, "the auditor authenticates with its token")
	assert.False(t, spec.HostNetwork || spec.HostPID || spec.HostIPC)

	psc := spec.SecurityContext
	require.NotNil(t, psc)
	assert.Equal(t, ptr(true), psc.RunAsNonRoot)
	assert.Equal(t, ptr(int64(65532)), psc.RunAsUser)
	require.NotNil(t, psc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, psc.SeccompProfile.Type)

	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	repo, tag, ok := strings.Cut(c.Image, ":")
	assert.True(t, ok && tag != "" && tag != "latest", "image %q needs a pinned tag", c.Image)
	assert.Equal(t, auditorImage, repo)
	require.NotEmpty(t, c.Args)
	assert.Equal(t, "run", c.Args[0], "the daemon command comes first")
	assert.Contains(t, c.Args, "--listen-address=:8080")
	require.Len(t, c.Ports, 1)
	assert.Equal(t, corev1.ContainerPort{Name: "metrics", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, c.Ports[0])
	for name, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		require.NotNil(t, p, name)
		require.NotNil(t, p.HTTPGet, name)
		assert.Equal(t, name, p.HTTPGet.Path)
		assert.Equal(t, "metrics", p.HTTPGet.Port.String())
		want := corev1.URISchemeHTTPS
		if !secure {
			want = corev1.URISchemeHTTP
		}
		assert.Equal(t, want, p.HTTPGet.Scheme, "%s: the kubelet must speak what the auditor serves", name)
	}
	assert.True(t, c.Resources.Requests.Cpu().Cmp(mustQuantity("100m")) == 0, "cpu request %s", c.Resources.Requests.Cpu())
	assert.True(t, c.Resources.Requests.Memory().Cmp(mustQuantity("128Mi")) == 0, "memory request %s", c.Resources.Requests.Memory())
	assert.True(t, c.Resources.Limits.Memory().Cmp(mustQuantity("512Mi")) == 0, "memory limit %s", c.Resources.Limits.Memory())

	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, ptr(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, ptr(true), sc.ReadOnlyRootFilesystem)
	assert.Equal(t, ptr(true), sc.RunAsNonRoot)
	assert.Equal(t, ptr(int64(65532)), sc.RunAsUser)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)
	assert.Nil(t, sc.Privileged)
	require.NotNil(t, sc.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)

	envs := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		envs[e.Name] = e
	}
	require.Contains(t, envs, "GOMEMLIMIT")
	gomem, err := resource.ParseQuantity(strings.TrimSuffix(envs["GOMEMLIMIT"].Value, "B"))
	require.NoError(t, err, "GOMEMLIMIT %q", envs["GOMEMLIMIT"].Value)
	ratio := float64(gomem.Value()) / float64(c.Resources.Limits.Memory().Value())
	assert.InDelta(t, 0.9, ratio, 0.01, "GOMEMLIMIT must leave the runtime ~10%% headroom below the memory limit")
	assert.Equal(t, "enforcement-auditor", spec.PriorityClassName)
	require.Contains(t, envs, "POD_NAMESPACE", "the probes check the auditor's own namespace")
	require.NotNil(t, envs["POD_NAMESPACE"].ValueFrom)
	assert.Equal(t, "metadata.namespace", envs["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath)
}

// checkService: the metrics Service selects the auditor's pods, maps to the named
// container port, and publishes unready pods (a stale auditor must still be scraped).
func checkService(t *testing.T, r *rendered) {
	svc, ok := r.find("Service", auditorNS, auditorName).(*corev1.Service)
	require.True(t, ok, "Service not rendered")
	assert.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(r.deployment.Spec.Template.Labels)))
	assert.NotEmpty(t, svc.Spec.Selector)
	assert.True(t, svc.Spec.PublishNotReadyAddresses)
	require.Len(t, svc.Spec.Ports, 1)
	p := svc.Spec.Ports[0]
	assert.Equal(t, "metrics", p.Name)
	assert.Equal(t, int32(8080), p.Port)
	assert.Equal(t, "metrics", p.TargetPort.String())
}

// checkNetworkPolicy: ingress only from the monitoring namespace on 8080; egress to the
// API server (by port) and nothing else but the protected namespaces with probes
// (checkProbes) and, with otlp, the collector named in OTEL_EXPORTER_OTLP_ENDPOINT and DNS.
func checkNetworkPolicy(t *testing.T, r *rendered, withOTLP bool) {
	np, ok := r.find("NetworkPolicy", auditorNS, auditorName).(*networkingv1.NetworkPolicy)
	require.True(t, ok, "NetworkPolicy not rendered")
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	require.NoError(t, err)
	assert.False(t, sel.Empty(), "the policy must select the auditor only")
	assert.True(t, sel.Matches(labels.Set(r.deployment.Spec.Template.Labels)))
	assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)

	require.Len(t, np.Spec.Ingress, 1)
	in := np.Spec.Ingress[0]
	require.Len(t, in.From, 1)
	assert.Nil(t, in.From[0].PodSelector)
	assert.Nil(t, in.From[0].IPBlock)
	require.NotNil(t, in.From[0].NamespaceSelector)
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "monitoring"}, in.From[0].NamespaceSelector.MatchLabels)
	assert.Empty(t, in.From[0].NamespaceSelector.MatchExpressions)
	require.Len(t, in.Ports, 1)
	assert.Equal(t, "8080", in.Ports[0].Port.String())

	var ports, toNamespaces []string
	for _, e := range np.Spec.Egress {
		if len(e.To) > 0 && e.To[0].IPBlock != nil { // the API server's addresses (Helm: networkPolicy.apiServer.cidrs)
			for _, p := range e.Ports {
				ports = append(ports, fmt.Sprintf("%s/%s", *p.Protocol, p.Port.String()))
			}
			continue
		}
		if len(e.To) > 0 {
			require.Len(t, e.To, 1)
			ns := e.To[0].NamespaceSelector
			require.NotNil(t, ns, "egress to a namespace, never to any address")
			if len(ns.MatchExpressions) > 0 {
				continue // the probes' rule, checked there
			}
			for _, p := range e.Ports {
				toNamespaces = append(toNamespaces, fmt.Sprintf("%s:%s/%s", ns.MatchLabels["kubernetes.io/metadata.name"], *p.Protocol, p.Port.String()))
			}
			continue
		}
		for _, p := range e.Ports {
			ports = append(ports, fmt.Sprintf("%s/%s", *p.Protocol, p.Port.String()))
		}
	}
	assert.ElementsMatch(t, []string{"TCP/443", "TCP/6443"}, ports, "egress to any address: the API server's ports only (no DNS)")
	env := map[string]string{}
	for _, e := range r.deployment.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if !withOTLP {
		assert.Empty(t, toNamespaces)
		assert.NotContains(t, env, "OTEL_EXPORTER_OTLP_ENDPOINT")
		return
	}
	assert.ElementsMatch(t, []string{"observability:TCP/4317", "kube-system:UDP/53", "kube-system:TCP/53"}, toNamespaces)
	assert.Equal(t, "http://otel-collector.observability.svc:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"],
		"the egress rule must allow the collector the endpoint names")
}

func args(r *rendered) []string { return r.deployment.Spec.Template.Spec.Containers[0].Args }

// checkProbes: the flags, create on pods (only with the component), and the egress the
// network probe needs to reach every protected namespace.
func checkProbes(t *testing.T, r *rendered, on bool) {
	assert.Equal(t, on, slices.Contains(args(r), "--probe-admission"))
	assert.Equal(t, on, slices.Contains(args(r), "--probe-network"))
	cr, ok := r.find("ClusterRole", "", "enforcement-auditor-probes").(*rbacv1.ClusterRole)
	assert.Equal(t, on, ok)
	np := r.find("NetworkPolicy", auditorNS, auditorName).(*networkingv1.NetworkPolicy)
	var probeEgress []networkingv1.NetworkPolicyEgressRule
	for _, e := range np.Spec.Egress {
		// The probes' rule selects namespaces by expression (checkNetworkPolicy checks
		// the others: the API server, the OTLP collector, DNS).
		if len(e.To) > 0 && e.To[0].NamespaceSelector != nil && len(e.To[0].NamespaceSelector.MatchExpressions) > 0 {
			probeEgress = append(probeEgress, e)
		}
	}
	vap, hasVAP := r.find("ValidatingAdmissionPolicy", "", "enforcement-auditor-probe-dry-run-only").(*admissionregistrationv1.ValidatingAdmissionPolicy)
	vapb, hasVAPB := r.find("ValidatingAdmissionPolicyBinding", "", "enforcement-auditor-probe-dry-run-only").(*admissionregistrationv1.ValidatingAdmissionPolicyBinding)
	assert.Equal(t, on, hasVAP, "the create grant comes with the policy that limits it to dry runs")
	assert.Equal(t, on, hasVAPB)
	if !on {
		assert.Empty(t, probeEgress, "egress beyond the API server only with probes")
		return
	}
	assert.Contains(t, cr.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"create"}})
	_, bound := r.find("ClusterRoleBinding", "", "enforcement-auditor-probes").(*rbacv1.ClusterRoleBinding)
	var nsBound bool
	for _, o := range r.objects {
		if rb, ok := o.(*rbacv1.RoleBinding); ok && rb.Name == "enforcement-auditor-probes" {
			nsBound = true
			assert.Equal(t, "enforcement-auditor-probes", rb.RoleRef.Name)
		}
	}
	assert.True(t, bound != nsBound, "probes are bound cluster-wide or per namespace, not both, not neither")
	// The policy: every pod CREATE by the auditor's account, denied unless a dry run.
	assert.Equal(t, vap.Name, vapb.Spec.PolicyName)
	assert.Equal(t, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}, vapb.Spec.ValidationActions)
	assert.Nil(t, vapb.Spec.MatchResources, "every namespace")
	require.NotNil(t, vap.Spec.FailurePolicy)
	assert.Equal(t, admissionregistrationv1.Fail, *vap.Spec.FailurePolicy)
	require.Len(t, vap.Spec.MatchConditions, 1)
	assert.Equal(t, `request.userInfo.username == "system:serviceaccount:`+auditorNS+`:`+auditorName+`"`, vap.Spec.MatchConditions[0].Expression)
	require.Len(t, vap.Spec.Validations, 1)
	assert.Equal(t, "request.dryRun == true", vap.Spec.Validations[0].Expression)
	require.Len(t, probeEgress, 1)
	e := probeEgress[0]
	assert.Empty(t, e.Ports, "the probe tries every Service port")
	require.Len(t, e.To, 1)
	ns := e.To[0].NamespaceSelector
	require.NotNil(t, ns)
	assert.Nil(t, e.To[0].PodSelector)
	require.Len(t, ns.MatchExpressions, 1)
	assert.Equal(t, "kubernetes.io/metadata.name", ns.MatchExpressions[0].Key)
	assert.Equal(t, metav1.LabelSelectorOpIn, ns.MatchExpressions[0].Operator)
	assert.ElementsMatch(t, auditor.DefaultConfig().SR1.ProtectedNamespaces, ns.MatchExpressions[0].Values,
		"the network probe must be able to reach every protected namespace, or it proves isolation that is not there")
}

// checkEvidence: the volume, its mount, the flag, and the co-location an RWO volume needs.
func checkEvidence(t *testing.T, r *rendered, on bool) {
	assert.Equal(t, on, slices.Contains(args(r), "--evidence-dir="+evidenceDir))
	pvc, ok := r.find("PersistentVolumeClaim", auditorNS, "enforcement-auditor-evidence").(*corev1.PersistentVolumeClaim)
	assert.Equal(t, on, ok)
	spec := r.deployment.Spec.Template.Spec
	// The chart's tls.secretName adds the certificate's volume: checkServingCertificate;
	// the signing key's: checkEvidenceSigning.
	other := func(name string) bool { return name == "tls" || name == signingVolume }
	spec.Volumes = slices.DeleteFunc(slices.Clone(spec.Volumes), func(v corev1.Volume) bool { return other(v.Name) })
	spec.Containers = []corev1.Container{*spec.Containers[0].DeepCopy()}
	spec.Containers[0].VolumeMounts = slices.DeleteFunc(spec.Containers[0].VolumeMounts, func(m corev1.VolumeMount) bool { return other(m.Name) })
	if !on {
		assert.Empty(t, spec.Volumes)
		assert.Empty(t, spec.Containers[0].VolumeMounts)
		return
	}
	assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, pvc.Spec.AccessModes)
	require.Len(t, spec.Volumes, 1)
	require.NotNil(t, spec.Volumes[0].PersistentVolumeClaim)
	assert.Equal(t, pvc.Name, spec.Volumes[0].PersistentVolumeClaim.ClaimName)
	require.Len(t, spec.Containers[0].VolumeMounts, 1)
	m := spec.Containers[0].VolumeMounts[0]
	assert.Equal(t, spec.Volumes[0].Name, m.Name)
	assert.Equal(t, evidenceDir, m.MountPath)
	assert.False(t, m.ReadOnly)
	assert.Equal(t, ptr(int64(65532)), spec.SecurityContext.FSGroup, "the non-root auditor must own the volume")
	// ReadWriteOnce: every replica and every rollout's new pod must land on the node that
	// holds the volume.
	require.NotNil(t, spec.Affinity)
	require.NotNil(t, spec.Affinity.PodAffinity)
	terms := spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	require.Len(t, terms, 1)
	assert.Equal(t, "kubernetes.io/hostname", terms[0].TopologyKey)
	sel, err := metav1.LabelSelectorAsSelector(terms[0].LabelSelector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(r.deployment.Spec.Template.Labels)), "the affinity must match the auditor's own pods")
}

// checkLeaderElection: two replicas only with leader election (without it both would
// emit events, probe and write evidence), its Role and the disruption budget.
func checkLeaderElection(t *testing.T, r *rendered, on bool) {
	assert.Equal(t, on, slices.Contains(args(r), "--leader-elect"))
	want := int32(1)
	if on {
		want = 2
	}
	require.NotNil(t, r.deployment.Spec.Replicas)
	assert.Equal(t, want, *r.deployment.Spec.Replicas)
	role, ok := r.find("Role", auditorNS, "enforcement-auditor-leader-election").(*rbacv1.Role)
	assert.Equal(t, on, ok)
	pdb, ok := r.find("PodDisruptionBudget", auditorNS, auditorName).(*policyv1.PodDisruptionBudget)
	assert.Equal(t, on, ok)
	if !on {
		return
	}
	// The Lease and the announced-findings checkpoint ConfigMap, by name where RBAC can
	// restrict (everything but create).
	assert.Equal(t, []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"enforcement-auditor"}, Verbs: []string{"get", "list", "watch", "update"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"enforcement-auditor-announced"}, Verbs: []string{"get", "update"}},
	}, role.Rules)
	require.NotNil(t, pdb.Spec.MinAvailable)
	assert.Equal(t, "1", pdb.Spec.MinAvailable.String())
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(r.deployment.Spec.Template.Labels)))
}

// checkPrometheusOperator: the ServiceMonitor scrapes the Service's metrics port and
// restores the findings' namespace label; the PrometheusRule carries exactly the groups
// of deploy/alerts/rules.yaml (the file promtool tests).
func checkPrometheusOperator(t *testing.T, r *rendered, on, auth bool) {
	sm := r.findCustom("ServiceMonitor", auditorNS, auditorName)
	pr := r.findCustom("PrometheusRule", auditorNS, auditorName)
	assert.Equal(t, on, sm != nil)
	assert.Equal(t, on, pr != nil)
	if !on {
		return
	}
	svc := r.find("Service", auditorNS, auditorName).(*corev1.Service)
	matchLabels, _, err := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	require.NoError(t, err)
	require.NotEmpty(t, matchLabels)
	assert.True(t, labels.SelectorFromSet(matchLabels).Matches(labels.Set(svc.Labels)), "the ServiceMonitor must select the Service")
	endpoints, _, err := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	require.NoError(t, err)
	require.Len(t, endpoints, 1)
	ep := endpoints[0].(map[string]any)
	assert.Equal(t, svc.Spec.Ports[0].Name, ep["port"])
	assert.Equal(t, "/metrics", ep["path"])
	assert.NotEqual(t, true, ep["honorLabels"])
	if auth {
		assert.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", ep["bearerTokenFile"], "the scraper presents its token")
		assert.Equal(t, "https", ep["scheme"], "the token never travels in clear")
	} else {
		assert.NotContains(t, ep, "bearerTokenFile")
		assert.NotContains(t, ep, "scheme")
	}
	relabel, err := json.Marshal(ep["metricRelabelings"])
	require.NoError(t, err)
	assert.JSONEq(t, `[
		{"sourceLabels": ["exported_namespace"], "regex": "(.*)", "targetLabel": "namespace", "replacement": "$1", "action": "replace"},
		{"regex": "exported_namespace", "action": "labeldrop"}]`, string(relabel),
		"the finding's namespace label must survive the operator's target label")

	var file map[string]any
	readYAML(t, "deploy/alerts/rules.yaml", &file)
	spec, ok := pr.Object["spec"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, normalize(t, file), normalize(t, spec), "prometheusrule.yaml is stale: run hack/generate.sh")
}

// normalize round-trips through JSON so YAML-decoded and kustomize-rendered values compare.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// checkGrafana: one sidecar ConfigMap per dashboards/*.json with that JSON, byte for
// byte, small enough for kubectl's client-side apply.
func checkGrafana(t *testing.T, r *rendered, on bool) {
	var cms []*corev1.ConfigMap
	for _, o := range r.objects {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Labels["grafana_dashboard"] == "1" {
			cms = append(cms, cm)
		}
	}
	if !on {
		assert.Empty(t, cms)
		return
	}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	want := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		want[filepath.Base(f)] = string(b)
	}
	got := map[string]string{}
	for _, cm := range cms {
		assert.Len(t, cm.Data, 1, cm.Name)
		for k, v := range cm.Data {
			got[k] = v
			assert.Less(t, len(v), maxAnnotation/2, "%s: kubectl apply keeps a copy in an annotation (256 KiB in total)", cm.Name)
		}
		assert.True(t, strings.HasPrefix(cm.Name, "enforcement-auditor-dashboard-"), cm.Name)
	}
	assert.Equal(t, sortedKeys(want), sortedKeys(got), "one ConfigMap per dashboard")
	for k := range want {
		assert.Equal(t, want[k], got[k], "%s: the component's copy is stale: run hack/generate.sh", k)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func ptr[T any](v T) *T { return &v }

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }

// TestComponentsReadme keeps the probes component's warning where operators read it.
func TestComponentsReadme(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "components", "probes", "README.md"))
	require.NoError(t, err)
	for _, s := range []string{"dryRun=All", "RBAC cannot restrict", "outside the trusted namespaces"} {
		assert.Contains(t, string(b), s)
	}
}

// checkSecureServing: by default the auditor serves HTTPS with delegated authentication
// and authorization (no --insecure-serving), may review tokens and access, and ships the
// scraper's role (/metrics) apart from the evidence role (/evidence).
func checkSecureServing(t *testing.T, r *rendered, on bool) {
	assert.Equal(t, !on, slices.Contains(args(r), "--insecure-serving"))
	assert.NotContains(t, args(r), "--metrics-auth=kubernetes", "HTTPS serving authenticates by itself")
	reader, okReader := r.find("ClusterRole", "", "enforcement-auditor-metrics-reader").(*rbacv1.ClusterRole)
	evidenceRole, okEvidence := r.find("ClusterRole", "", "enforcement-auditor-evidence-reader").(*rbacv1.ClusterRole)
	_, okDelegator := r.find("ClusterRole", "", "enforcement-auditor-auth-delegator").(*rbacv1.ClusterRole)
	_, okBinding := r.find("ClusterRoleBinding", "", "enforcement-auditor-auth-delegator").(*rbacv1.ClusterRoleBinding)
	for _, ok := range []bool{okReader, okEvidence, okDelegator, okBinding} {
		assert.Equal(t, on, ok)
	}
	if !on {
		return
	}
	assert.Equal(t, []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}, reader.Rules, "the scraper's role never grants /evidence")
	assert.Equal(t, []rbacv1.PolicyRule{{NonResourceURLs: []string{"/evidence"}, Verbs: []string{"get"}}}, evidenceRole.Rules)
}
