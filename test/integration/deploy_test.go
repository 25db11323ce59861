package integration

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

const promOperatorModule = "github.com/prometheus-operator/prometheus-operator@v0.85.0"

// toolsBin returns the directory with kustomize (hack/tools.sh), or skips.
func toolsBin(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TOOLS_BIN")
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TOOLS_BIN is not set: run `make test-integration` (it builds kustomize)")
		}
		t.Skip("TOOLS_BIN is not set: use `make test-integration`")
	}
	return dir
}

func render(t *testing.T, bin, variant string) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "kustomize"), "build", filepath.Join(repoRoot(), variant)).Output()
	require.NoError(t, err, "kustomize build %s", variant)
	objs := decodeObjects(out)
	require.NotEmpty(t, objs, variant)
	return objs
}

// decodeObjects decodes a YAML or JSON stream (a kustomize or helm render, a manifest
// file) into its objects, empty documents left out.
func decodeObjects(b []byte) []*unstructured.Unstructured {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			return objs
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

func variants(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "variants.txt"))
	require.NoError(t, err)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	_, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

// apply server-side applies objects, as dry-run or for real.
func apply(t *testing.T, objs []*unstructured.Unstructured, dryRun bool) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(restConfig)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(restConfig)))
	opts := metav1.PatchOptions{FieldManager: "enforcement-auditor-it", Force: ptr(true)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		require.NoError(t, err, "no API for %s", gvk)
		body, err := o.MarshalJSON()
		require.NoError(t, err)
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		_, err = ri.Patch(context.Background(), o.GetName(), types.ApplyPatchType, body, opts)
		require.NoError(t, err, "server-side apply (dryRun=%v) of %s %s/%s", dryRun, gvk.Kind, o.GetNamespace(), o.GetName())
	}
}

// TestDeployVariantsAreValid renders every kustomize variant and server-side dry-run
// applies it against the real apiserver: schemas, RBAC objects, CRD-backed kinds.
func TestDeployVariantsAreValid(t *testing.T) {
	bin := toolsBin(t)
	crds := installCRDs(t, promOperatorModule,
		"example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
		"example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml")
	defer uninstallCRDs(t, crds)
	// Namespaces the variants place objects in must exist for a dry run of those objects.
	ensureNamespace(t, "enforcement-auditor")
	ensureNamespace(t, "kyverno")
	for _, v := range variants(t) {
		t.Run(v, func(t *testing.T) {
			apply(t, render(t, bin, v), true)
		})
	}
}

// TestDeployRBACIsLeastPrivilege runs the daemon as the deploy/ ServiceAccount with the
// base RBAC and the kyverno-health component applied for real: every cache syncs with no Forbidden, and
// SubjectAccessReviews show it can neither read Secrets nor write anything.
func TestDeployRBACIsLeastPrivilege(t *testing.T) {
	bin := toolsBin(t)
	ctx := context.Background()
	kyverno := installCRDs(t, kyvernoModule, "config/crds/kyverno/kyverno.io_clusterpolicies.yaml", "config/crds/kyverno/kyverno.io_policies.yaml")
	kueue := installCRDs(t, kueueModule, "config/components/crd/bases/kueue.x-k8s.io_workloads.yaml")
	cnpg := installCRDs(t, cnpgModule, "config/crd/bases/postgresql.cnpg.io_clusters.yaml")
	defer func() { uninstallCRDs(t, kyverno); uninstallCRDs(t, kueue); uninstallCRDs(t, cnpg) }()
	ensureNamespace(t, "kyverno")
	objs := render(t, bin, "deploy/examples/kyverno-health")
	var sa *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" {
			sa = o
		}
	}
	require.NotNil(t, sa, "deploy/base has a ServiceAccount")
	apply(t, objs, false)
	ns, name := sa.GetNamespace(), sa.GetName()

	tr, err := client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr(int64(3600))}}, metav1.CreateOptions{})
	require.NoError(t, err)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["it"] = &clientcmdapi.Cluster{Server: restConfig.Host, CertificateAuthorityData: restConfig.CAData}
	kc.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["it"] = &clientcmdapi.Context{Cluster: "it", AuthInfo: "sa"}
	kc.CurrentContext = "it"
	saKubeconfig := filepath.Join(t.TempDir(), "sa.kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*kc, saKubeconfig))

	a := startAuditor(t, "--kubeconfig", saKubeconfig)
	// Let every informer list and watch at least once more after readiness.
	time.Sleep(3 * time.Second)
	m := a.metrics(t)
	assert.NotRegexp(t, regexp.MustCompile(`enforcement_auditor_resource_sync_state\{resource="[^"]+",state="(forbidden|failing|pending)"\} 1`), m,
		"every resource syncs under the shipped RBAC")
	for _, l := range strings.Split(grepLines(m, "enforcement_auditor_list_watch_errors_total"), "\n") {
		if l != "" {
			assert.True(t, strings.HasSuffix(l, " 0"), "no list/watch error: %s", l)
		}
	}
	for _, r := range []string{"clusterpolicies.kyverno.io", "workloads.kueue.x-k8s.io", "clusters.postgresql.cnpg.io", "configmaps", "pods"} {
		assert.Contains(t, m, `enforcement_auditor_resource_sync_state{resource="`+r+`",state="synced"} 1`)
	}
	assert.NotContains(t, strings.ToLower(a.Logs()), "forbidden")
	a.stop(t, 15*time.Second)

	user := "system:serviceaccount:" + ns + ":" + name
	groups := []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}
	can := func(verb, group, resource, namespace string) bool {
		sar, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups,
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Namespace: namespace}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		return sar.Status.Allowed
	}
	require.True(t, can("list", "", "pods", ""), "sanity: the auditor can list pods")
	for _, verb := range []string{"get", "list", "watch"} {
		assert.False(t, can(verb, "", "secrets", ""), "%s secrets cluster-wide", verb)
		assert.False(t, can(verb, "", "secrets", "litellm"), "%s secrets in litellm", verb)
	}
	writes := []string{"create", "update", "patch", "delete", "deletecollection"}
	targets := [][2]string{{"", "pods"}, {"", "configmaps"}, {"", "namespaces"}, {"networking.k8s.io", "networkpolicies"},
		{"apps", "deployments"}, {"apps", "daemonsets"}, {"kyverno.io", "clusterpolicies"}, {"kueue.x-k8s.io", "workloads"},
		{"postgresql.cnpg.io", "clusters"}, {"coordination.k8s.io", "leases"}, {"rbac.authorization.k8s.io", "clusterroles"},
		{"admissionregistration.k8s.io", "validatingwebhookconfigurations"}}
	for _, tg := range targets {
		for _, verb := range writes {
			assert.False(t, can(verb, tg[0], tg[1], ""), "%s %s.%s cluster-wide", verb, tg[1], tg[0])
			assert.False(t, can(verb, tg[0], tg[1], "kyverno"), "%s %s.%s in kyverno", verb, tg[1], tg[0])
		}
	}
}
