package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// GPUs taken through Dynamic Resource Allocation on a real API server: resource.k8s.io/v1
// as kube-apiserver serves it (GA in 1.34, on by default), a DeviceClass selecting the
// devices of driver gpu.nvidia.com by CEL, a ResourceSlice publishing a GPU, a claim
// template and a claim created through the API (allocation and the pod's claim status
// set through the status subresources, as the scheduler and the resource claim
// controller would), and a gate that checks container resources only. The daemon runs
// with exactly the rules of the chart's ClusterRole (and the kyverno-health Role).

const (
	draNS           = "it-dra-gpu"
	draManagedLabel = "it-dra/kueue-managed"
	draGate         = "it-dra-gpu-gate"
	draDriver       = "gpu.nvidia.com"
	draClass        = "it-dra-nvidia-gpu"
	draNICClass     = "it-dra-nic"
	draSlice        = "it-dra-node-1-gpu.nvidia.com"
	draTemplate     = "it-dra-one-gpu"
	draClaim        = "it-dra-shared-gpu"
	draPod          = "dra-trainer"
	draUser         = "it-dra-auditor"
	draWait         = 15 * time.Second
)

// draConfig narrows the auditor to this test's namespace and gate; gpuDeviceDrivers keeps
// the default (gpu.nvidia.com).
const draConfig = `apiVersion: enforcement-auditor.llm-platform.io/v1alpha1
kind: AuditorConfig
sr2:
  kueueManagedNamespaceSelector:
    matchLabels: {"it-dra/kueue-managed": "true"}
  gpuResources: [nvidia.com/gpu]
  gatePolicyNames: [it-dra-gpu-gate]
`

// draNamespaceLabels: as sr2NamespaceLabels, the configured selector is merged into the
// default one.
var draNamespaceLabels = map[string]string{draManagedLabel: "true", "llm-platform/kueue-managed": "true"}

// The DRA kinds the auditor watches, as resource names of resource.k8s.io.
var draResources = []string{"resourceclaims", "resourceclaimtemplates", "deviceclasses", "resourceslices"}

// The gate's check: a GPU in container limits without the queue label is denied; with
// claims it also denies a pod with spec.resourceClaims (the auditor's remediation).
const (
	draGPUInLimits = "(object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])).exists(c, has(c.resources.limits) && 'nvidia.com/gpu' in c.resources.limits)"
	draHasQueue    = "(has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels)"
	draLimitsOnly  = "!" + draGPUInLimits + " || " + draHasQueue
	draWithClaims  = "!(" + draGPUInLimits + " || (has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0)) || " + draHasQueue
)

func TestSR2DRAGPUClaims(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(restConfig)

	// The API: resource.k8s.io/v1 and its four kinds are served without --runtime-config
	// or feature gates (DynamicResourceAllocation is GA and on by default in 1.34).
	res, err := client.Discovery().ServerResourcesForGroupVersion("resource.k8s.io/v1")
	require.NoError(t, err, "resource.k8s.io/v1 is not served")
	served := map[string]bool{}
	for _, r := range res.APIResources {
		served[r.Name] = true
	}
	for _, r := range append(slices.Clone(draResources), "resourceclaims/status") {
		require.True(t, served[r], "resource.k8s.io/v1 does not serve %s", r)
	}
	groups, err := client.Discovery().ServerGroups()
	require.NoError(t, err)
	for _, g := range groups.Groups {
		if g.Name == "resource.k8s.io" {
			t.Logf("resource.k8s.io: preferred %s, served %v", g.PreferredVersion.Version, g.Versions)
			require.Equal(t, "v1", g.PreferredVersion.Version)
		}
	}

	kueueCRDs := installCRDs(t, kueueModule, sr2KueueCRD)
	t.Cleanup(func() { uninstallCRDs(t, kueueCRDs) })
	createNamespace(t, draNS, draNamespaceLabels)
	t.Cleanup(func() { draCleanup(t) })

	cfgFile := filepath.Join(t.TempDir(), "auditor.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(draConfig), 0o600))

	// The cluster hands out GPUs through DRA: a class of the driver's devices, a slice
	// publishing one, a claim template and a shared claim asking for one.
	draCreate(t, &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: draClass},
		Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{
			Expression: `device.driver == "` + draDriver + `"`}}}}})
	draCreate(t, &resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: draSlice},
		Spec: resourcev1.ResourceSliceSpec{Driver: draDriver, NodeName: ptr("node-1"),
			Pool: resourcev1.ResourcePool{Name: "node-1", Generation: 1, ResourceSliceCount: 1},
			Devices: []resourcev1.Device{{Name: "gpu-0", Attributes: map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{
				"type": {StringValue: ptr("gpu")}, "productName": {StringValue: ptr("NVIDIA H100 80GB HBM3")}}}}}})
	oneGPU := resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{
		Name: "gpu", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: draClass}}}}}
	draCreate(t, &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Name: draTemplate, Namespace: draNS},
		Spec: resourcev1.ResourceClaimTemplateSpec{Spec: oneGPU}})
	draCreate(t, &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: draClaim, Namespace: draNS}, Spec: oneGPU})

	// The gate, a ValidatingAdmissionPolicy the API server enforces, checks container
	// limits only.
	draCreateGate(t, draLimitsOnly)

	// The daemon, as a user holding exactly the rules of the chart's ClusterRole.
	a := startAuditor(t, "--config", cfgFile, "--kubeconfig", draChartRoleKubeconfig(t))

	gate := sr2Key("gpu-gate-policy-not-enforcing", "critical", "", "ValidatingAdmissionPolicy", draGate, 1)
	missing := sr2Key("gpu-pod-missing-queue-name", "high", draNS, "Pod", draPod, 1)
	notAdmitted := sr2Key("gpu-pod-not-admitted", "high", draNS, "Pod", draPod, 1)
	synced := make([]string, 0, len(draResources))
	for _, r := range draResources {
		synced = append(synced, fmt.Sprintf(`enforcement_auditor_resource_sync_state\{resource="%s\.resource\.k8s\.io",state="synced"\} 1`, r))
	}
	enforced := `enforcement_auditor_control_status\{control="SR2",state="enforced"\} 1`
	gpus := func(cov string, n int) string {
		return fmt.Sprintf(`enforcement_auditor_gpu_requested\{coverage="%s",namespace="%s"\} %d\n`, cov, draNS, n)
	}

	if !t.Run("1 the chart's RBAC reads the DRA kinds; a gate blind to claims is critical", func(t *testing.T) {
		sr2WaitFindings(t, a, draWait, []string{gate}, synced...)
		// Nothing else is refused either.
		m := a.metrics(t)
		require.NotRegexp(t, `enforcement_auditor_resource_sync_state\{resource="[^"]+",state="(forbidden|failing)"\} 1`, m,
			"every resource syncs under the chart's RBAC")
		for _, l := range strings.Split(grepLines(m, "enforcement_auditor_list_watch_errors_total{"), "\n") {
			require.True(t, l == "" || strings.HasSuffix(l, " 0"), "list/watch error under the chart's RBAC: %s", l)
		}
		for _, r := range draResources {
			require.Contains(t, a.Logs(), `"resource":"`+r+`.resource.k8s.io","version":"v1"`)
		}
		// The finding is the gate's dra-claims condition and names what hands out GPUs.
		msg := draScanMessage(t, cfgFile, "gpu-gate-policy-not-enforcing", "", "ValidatingAdmissionPolicy", draGate)
		require.Contains(t, msg, "a pod taking GPUs through a Dynamic Resource Allocation claim runs without a queue name")
		for _, s := range []string{"ResourceSlice " + draSlice + " (driver gpu.nvidia.com, 1 device)",
			"ResourceClaim " + draNS + "/" + draClaim, "ResourceClaimTemplate " + draNS + "/" + draTemplate} {
			require.Contains(t, msg, s)
		}
	}) {
		return
	}

	if !t.Run("2 a pod taking a GPU through a claim template, no queue label", func(t *testing.T) {
		// The API server admits it: the gate checks container limits only.
		p, err := client.CoreV1().Pods(draNS).Create(ctx, draGPUPod(), metav1.CreateOptions{})
		require.NoError(t, err, "the limits-only gate must admit a pod taking its GPU through a claim")
		draSimulateClaimController(t, dyn, p)
		sr2WaitFindings(t, a, draWait, []string{gate, missing}, gpus("bypassing", 1))
		msg := draScanMessage(t, cfgFile, "gpu-pod-missing-queue-name", draNS, "Pod", draPod)
		require.Contains(t, msg, "generated from ResourceClaimTemplate "+draTemplate)
	}) {
		return
	}

	if !t.Run("2b the template replaced by one asking for a NIC: the pod still runs with its GPU claim", func(t *testing.T) {
		// A template's spec is immutable, but it can be deleted and created again; the
		// claim generated from the old one stays the pod's.
		require.NoError(t, client.ResourceV1().ResourceClaimTemplates(draNS).Delete(ctx, draTemplate, metav1.DeleteOptions{}))
		draCreate(t, &resourcev1.DeviceClass{ObjectMeta: metav1.ObjectMeta{Name: draNICClass},
			Spec: resourcev1.DeviceClassSpec{Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{
				Expression: `device.driver == "nic.example.com"`}}}}})
		draCreate(t, &resourcev1.ResourceClaimTemplate{ObjectMeta: metav1.ObjectMeta{Name: draTemplate, Namespace: draNS},
			Spec: resourcev1.ResourceClaimTemplateSpec{Spec: resourcev1.ResourceClaimSpec{Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{
				Name: "nic", Exactly: &resourcev1.ExactDeviceRequest{DeviceClassName: draNICClass}}}}}}})
		// The daemon evaluates within --max-delay (1s) of the change: the finding stays.
		want := []string{gate, missing}
		faultsHold(t, 3*time.Second, "after the template was replaced", func() (bool, string) {
			got := sr2Findings(a.metrics(t))
			return strings.Join(got, "\n") == strings.Join(want, "\n"), fmt.Sprintf("SR2 findings %q, want %q", got, want)
		})
		msg := draScanMessage(t, cfgFile, "gpu-pod-missing-queue-name", draNS, "Pod", draPod)
		require.Contains(t, msg, "generated from ResourceClaimTemplate "+draTemplate)
	}) {
		return
	}

	if !t.Run("3 the queue label clears it; then Kueue's Workload admits the pod", func(t *testing.T) {
		p, err := client.CoreV1().Pods(draNS).Get(ctx, draPod, metav1.GetOptions{})
		require.NoError(t, err)
		p.Labels[sr2QueueLabel] = "research"
		p, err = client.CoreV1().Pods(draNS).Update(ctx, p, metav1.UpdateOptions{})
		require.NoError(t, err)
		// Labelled, but no Workload admits it yet.
		sr2WaitFindings(t, a, draWait, []string{gate, notAdmitted}, gpus("bypassing", 1))
		draCreateWorkload(t, dyn, p)
		sr2WaitFindings(t, a, draWait, []string{gate}, gpus("admitted", 1), gpus("bypassing", 0))
	}) {
		return
	}

	t.Run("4 a gate that also checks spec.resourceClaims", func(t *testing.T) {
		vap, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Get(ctx, draGate, metav1.GetOptions{})
		require.NoError(t, err)
		vap.Spec.Validations[0].Expression = draWithClaims
		_, err = client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Update(ctx, vap, metav1.UpdateOptions{})
		require.NoError(t, err)
		sr2WaitFindings(t, a, draWait, nil, enforced, gpus("admitted", 1))
		// And the API server now denies the side door (it loads a policy asynchronously).
		pod := draGPUPod()
		pod.Name = "dra-check"
		var denied error
		require.True(t, assertEventually(draWait, func() bool {
			_, denied = client.CoreV1().Pods(draNS).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return denied != nil
		}), "the gate covering claims never denied an unlabelled pod with a claim")
		require.Contains(t, denied.Error(), draGate)
		a.stop(t, 15*time.Second)
	})
}

// draCreate creates a resource.k8s.io/v1 object through the typed client.
func draCreate(t *testing.T, o any) {
	t.Helper()
	ctx := context.Background()
	r := client.ResourceV1()
	var err error
	switch o := o.(type) {
	case *resourcev1.DeviceClass:
		_, err = r.DeviceClasses().Create(ctx, o, metav1.CreateOptions{})
	case *resourcev1.ResourceSlice:
		_, err = r.ResourceSlices().Create(ctx, o, metav1.CreateOptions{})
	case *resourcev1.ResourceClaimTemplate:
		_, err = r.ResourceClaimTemplates(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *resourcev1.ResourceClaim:
		_, err = r.ResourceClaims(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	default:
		t.Fatalf("draCreate: %T", o)
	}
	require.NoError(t, err, "creating %T", o)
}

// draGPUPod takes one GPU through the claim template, none in its containers' resources.
func draGPUPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: draPod, Namespace: draNS, Labels: map[string]string{"app": "trainer"}},
		Spec: corev1.PodSpec{
			ResourceClaims: []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr(draTemplate)}},
			Containers: []corev1.Container{{Name: "trainer", Image: "registry.example/trainer:1",
				Resources: corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "gpu"}}}}},
		},
	}
}

// draSimulateClaimController does what the resource claim controller and the scheduler
// would: the claim generated from the template (owned by the pod), its allocation and
// reservation, and the pod's status.resourceClaimStatuses naming it, both through the
// status subresources.
func draSimulateClaimController(t *testing.T, dyn dynamic.Interface, p *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	tmpl, err := client.ResourceV1().ResourceClaimTemplates(draNS).Get(ctx, draTemplate, metav1.GetOptions{})
	require.NoError(t, err)
	claim, err := client.ResourceV1().ResourceClaims(draNS).Create(ctx, &resourcev1.ResourceClaim{
		ObjectMeta: metav1.ObjectMeta{GenerateName: p.Name + "-gpu-", Namespace: draNS,
			Annotations:     map[string]string{"resource.kubernetes.io/pod-claim-name": "gpu"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: p.Name, UID: p.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}}},
		Spec: tmpl.Spec.Spec,
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	claim.Status = resourcev1.ResourceClaimStatus{
		Allocation: &resourcev1.AllocationResult{Devices: resourcev1.DeviceAllocationResult{Results: []resourcev1.DeviceRequestAllocationResult{{
			Request: "gpu", Driver: draDriver, Pool: "node-1", Device: "gpu-0"}}}},
		ReservedFor: []resourcev1.ResourceClaimConsumerReference{{Resource: "pods", Name: p.Name, UID: p.UID}},
	}
	_, err = client.ResourceV1().ResourceClaims(draNS).UpdateStatus(ctx, claim, metav1.UpdateOptions{})
	require.NoError(t, err)
	p.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: ptr(claim.Name)}}
	_, err = client.CoreV1().Pods(draNS).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// draCreateGate creates the gate and its Deny binding for the managed namespace.
func draCreateGate(t *testing.T, expression string) {
	t.Helper()
	ctx := context.Background()
	fail := admissionregistrationv1.Fail
	_, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: draGate},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{draManagedLabel: "true"}},
				ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				}}},
			},
			Validations: []admissionregistrationv1.Validation{{Expression: expression,
				Message: "GPU pods in Kueue-managed namespaces need the label " + sr2QueueLabel}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: draGate},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: draGate,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// draCreateWorkload creates the Workload Kueue's pod integration would create for a
// plain pod (owned by it) and admits it through the status subresource.
func draCreateWorkload(t *testing.T, dyn dynamic.Interface, p *corev1.Pod) {
	t.Helper()
	ctx := context.Background()
	r := dyn.Resource(sr2WorkloadGVR("v1beta2")).Namespace(draNS)
	w, err := r.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kueue.x-k8s.io/v1beta2",
		"kind":       "Workload",
		"metadata": map[string]any{
			"name": "pod-" + p.Name, "namespace": draNS,
			"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": p.Name, "uid": string(p.UID), "controller": true}},
		},
		"spec": map[string]any{
			"queueName": "research",
			"podSets": []any{map[string]any{"name": "main", "count": int64(1), "template": map[string]any{"spec": map[string]any{
				"resourceClaims": []any{map[string]any{"name": "gpu", "resourceClaimTemplateName": draTemplate}},
				"containers": []any{map[string]any{"name": "trainer", "image": "registry.example/trainer:1",
					"resources": map[string]any{"claims": []any{map[string]any{"name": "gpu"}}}}},
			}}}},
		},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, unstructured.SetNestedSlice(w.Object, []any{map[string]any{
		"type": "Admitted", "status": "True", "reason": "Admitted", "message": "The workload is admitted",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}}, "status", "conditions"))
	_, err = r.UpdateStatus(ctx, w, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// draChartRoleKubeconfig writes a kubeconfig for a user bound to a ClusterRole with
// exactly the rules of the chart's ClusterRole (its template includes
// files/clusterrole-rules.yaml verbatim as rules) and to the Role of the kyverno-health
// component.
func draChartRoleKubeconfig(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "helm", "enforcement-auditor", "files", "clusterrole-rules.yaml"))
	require.NoError(t, err)
	role := &rbacv1.ClusterRole{}
	require.NoError(t, yaml.Unmarshal(append([]byte("rules:\n"), b...), role))
	require.NotEmpty(t, role.Rules)
	role.Name = draUser
	_, err = client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoles().Delete(context.Background(), draUser, metav1.DeleteOptions{})
	})
	_, err = client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: draUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: draUser},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: draUser}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().ClusterRoleBindings().Delete(context.Background(), draUser, metav1.DeleteOptions{})
	})
	// Kyverno's health Lease, granted by name as kyvernoHealth.enabled (the kyverno-health
	// component) does: without it the gate rules cannot judge Kyverno's health.
	hb, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "components", "kyverno-health", "role.yaml"))
	require.NoError(t, err)
	var lease *rbacv1.Role
	for _, o := range decodeObjects(hb) {
		if o.GetKind() == "Role" {
			lease = &rbacv1.Role{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, lease))
		}
	}
	require.NotNil(t, lease, "the kyverno-health component has a Role")
	ensureNamespace(t, lease.Namespace)
	lease.Name, lease.ResourceVersion = draUser, ""
	_, err = client.RbacV1().Roles(lease.Namespace).Create(ctx, lease, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().Roles(lease.Namespace).Delete(context.Background(), draUser, metav1.DeleteOptions{})
	})
	_, err = client.RbacV1().RoleBindings(lease.Namespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: draUser, Namespace: lease.Namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: draUser},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: draUser}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.RbacV1().RoleBindings(lease.Namespace).Delete(context.Background(), draUser, metav1.DeleteOptions{})
	})

	user, err := env.ControlPlane.AddUser(envtest.User{Name: draUser}, nil)
	require.NoError(t, err)
	kc, err := user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, kc, 0o600))
	return path
}

// draScanMessage runs a one-shot scan and returns the message of the one finding of rule
// on the object.
func draScanMessage(t *testing.T, cfg, rule, ns, kind, name string) string {
	t.Helper()
	rep := sr1Scan(t, cfg)
	found := rep.find(rule, ns, kind, name)
	require.Len(t, found, 1, "scan: findings of %s on %s %s/%s", rule, kind, ns, name)
	t.Logf("%s: %s", rule, found[0].Message)
	return found[0].Message
}

// draCleanup removes the cluster-scoped DRA objects and the gate (later tests must not
// see GPUs handed out through DRA), the namespace's pods and claims, and its labels.
func draCleanup(t *testing.T) {
	ctx := context.Background()
	r := client.ResourceV1()
	del := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	for _, err := range []error{
		r.DeviceClasses().Delete(ctx, draClass, del),
		r.DeviceClasses().Delete(ctx, draNICClass, del),
		r.ResourceSlices().Delete(ctx, draSlice, del),
		client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, draGate, del),
		client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, draGate, del),
		r.ResourceClaims(draNS).DeleteCollection(ctx, del, metav1.ListOptions{}),
		r.ResourceClaimTemplates(draNS).DeleteCollection(ctx, del, metav1.ListOptions{}),
	} {
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("cleanup: %v", err)
		}
	}
	sr2UnmanageLabels(t, draNS, draNamespaceLabels)
}
