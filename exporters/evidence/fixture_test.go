package evidence

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// Secrets planted in the fixture's ConfigMap, Deployment and annotations: none may
// appear in any evidence output.
var plantedSecrets = []string{"sk-secret-master-key-1234", "hunter2-db-password", "sk-secret-last-applied"}

var (
	genAt     = time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	evalAt    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	openedAt  = time.Date(2026, 2, 27, 8, 30, 0, 0, time.UTC)
	waiverEnd = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

// testRule is a rule with a fixed result: the document builder judges what rules
// returned, not how they got there.
type testRule struct {
	meta auditor.RuleMeta
	res  auditor.Result
}

func (r testRule) Meta() auditor.RuleMeta                    { return r.meta }
func (r testRule) Evaluate(*auditor.Snapshot) auditor.Result { return r.res }

func ns(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-ns-" + name), ResourceVersion: "1", Labels: labels}}
}

func fixtureSnapshot() *auditor.Snapshot {
	kubeSystem := ns("kube-system", nil)
	kubeSystem.UID = "6c1d3f0e-9b1a-4c55-8f0e-2d4c7a9b1e01"
	gpuPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "trainer-0", Namespace: "ml-team", UID: "uid-pod-trainer-0", ResourceVersion: "4711",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: "trainer", UID: "uid-job-trainer", Controller: ptr(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "train", Image: "trainer:1",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	vllm := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vllm-0", Namespace: "serving", UID: "uid-pod-vllm-0", ResourceVersion: "815",
			Labels: map[string]string{"app": "vllm"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "vllm", Image: "vllm:0.9"}}},
	}
	litellmConfig := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "litellm-config", Namespace: "litellm", UID: "uid-cm-litellm-config", ResourceVersion: "99",
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"config.yaml":"general_settings:\n  master_key: sk-secret-last-applied\n"}}`}},
		Data: map[string]string{"config.yaml": "general_settings:\n  master_key: sk-secret-master-key-1234\n  allow_requests_on_db_unavailable: true\n"},
	}
	litellm := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "litellm", Namespace: "litellm", UID: "uid-deploy-litellm", ResourceVersion: "120"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "litellm", Image: "ghcr.io/berriai/litellm-database:main",
			Env: []corev1.EnvVar{{Name: "DATABASE_URL", Value: "postgresql://litellm:hunter2-db-password@litellm-db-rw:5432/litellm"}},
		}}}}},
	}
	defaultDeny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny", Namespace: "serving", UID: "uid-np-default-deny", ResourceVersion: "7"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	cnpg := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
		"metadata": map[string]any{"name": "litellm-db", "namespace": "litellm", "uid": "uid-cnpg-litellm-db", "resourceVersion": "55",
			"annotations": map[string]any{auditor.WaiveAnnotation: "cnpg-instances-below-minimum", auditor.WaiveReasonAnnotation: "migration PLAT-7",
				auditor.WaiveUntilAnnotation: "2026-04-01T00:00:00Z"},
			"managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec": map[string]any{"instances": int64(1)},
	}}
	gate := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
		"metadata": map[string]any{"name": "require-kueue-queue-name", "uid": "uid-kyverno-gate", "resourceVersion": "3"},
		"spec":     map[string]any{"validationFailureAction": "Enforce"},
	}}
	// A CRD object with fields of surprising types must not break the document.
	odd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
		"metadata": map[string]any{"name": "odd", "labels": "not-a-map"},
		"spec":     []any{"x", int64(3), 2.5, nil},
	}}
	s := &auditor.Snapshot{
		Now:             evalAt,
		Namespaces:      []*corev1.Namespace{kubeSystem, ns("serving", nil), ns("litellm", nil), ns("ml-team", map[string]string{"llm-platform/kueue-managed": "true"})},
		Pods:            []*corev1.Pod{vllm, gpuPod},
		ConfigMaps:      []*corev1.ConfigMap{litellmConfig},
		Deployments:     []*appsv1.Deployment{litellm},
		NetworkPolicies: []*networkingv1.NetworkPolicy{defaultDeny},
		Owners: []*auditor.Owner{{APIVersion: "batch/v1", Kind: "Job", Namespace: "ml-team", Name: "trainer", UID: "uid-job-trainer",
			Labels: map[string]string{"team": "ml"}}},
		Custom: map[schema.GroupKind][]*unstructured.Unstructured{
			{Group: "postgresql.cnpg.io", Kind: "Cluster"}: {cnpg},
			{Group: "kyverno.io", Kind: "ClusterPolicy"}:   {gate, odd},
		},
		NetworkProbes: []auditor.NetworkProbeResult{
			{Namespace: "serving", Target: auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "serving", Name: "vllm-0"},
				Address: "10.0.0.12:8000", Port: 8000, Reachable: false, Outcome: "timeout", At: evalAt.Add(-time.Minute)},
		},
		AdmissionProbes: []auditor.AdmissionProbeResult{
			{Namespace: "ml-team", Admitted: false, DeniedBy: "require-kueue-queue-name: queue name required", At: evalAt.Add(-time.Minute)},
		},
		Availability: map[string]auditor.Availability{
			auditor.ResourceKueueWorkloads: {State: auditor.NotServed, Message: "the Kueue CRDs are not installed"},
		},
	}
	s.Index()
	return s
}

func ptr[T any](v T) *T { return &v }

var (
	defaultDenyRule = auditor.RuleMeta{ID: "namespace-missing-default-deny", Control: auditor.SR1, Severity: auditor.SeverityHigh,
		Title: "Protected namespace without default-deny ingress", Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceNetworkPolicies}}
	gpuRule = auditor.RuleMeta{ID: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title:  "GPU pod without a Kueue queue name in a Kueue-managed namespace",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourcePods, auditor.ResourceJobs}}
	workloadRule = auditor.RuleMeta{ID: "gpu-workload-not-admitted", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Title: "GPU workload running without Kueue admission", Inputs: []string{auditor.ResourceKueueWorkloads, auditor.ResourcePods}}
	gateRule = auditor.RuleMeta{ID: "kueue-gate-not-enforcing", Control: auditor.SR2, Severity: auditor.SeverityCritical,
		Title: "The queue-name admission gate does not enforce", Inputs: []string{auditor.ResourceKyvernoClusterPolicies}}
	failOpenRule = auditor.RuleMeta{ID: "litellm-fail-open", Control: auditor.SR3, Severity: auditor.SeverityCritical,
		Title: "LiteLLM prod serves requests when its database is down", Inputs: []string{auditor.ResourceConfigMaps, auditor.ResourceDeployments}}
	cnpgRule = auditor.RuleMeta{ID: "cnpg-instances-below-minimum", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM's CloudNativePG cluster has fewer instances than required", Inputs: []string{auditor.ResourceCNPGClusters}}
)

// fixture is a literal evaluation: SR1 enforced, SR2 violated (a GPU pod without a
// queue, Kueue invisible), SR3 violated (fail-open) with one waived finding.
func fixture() Input {
	s := fixtureSnapshot()
	gpu := gpuRule.NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ml-team", Name: "trainer-0"},
		"pod requests 1 GPU (container train) in Kueue-managed namespace ml-team, but neither the pod nor its owners (Job/trainer) carry label kueue.x-k8s.io/queue-name")
	failOpen := failOpenRule.NewFinding(&auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "litellm-config"},
		"ConfigMap litellm/litellm-config key config.yaml sets general_settings.allow_requests_on_db_unavailable: true")
	cnpg := cnpgRule.NewFinding(&auditor.ObjectRef{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Namespace: "litellm", Name: "litellm-db"},
		"Cluster litellm/litellm-db has spec.instances 1, prod requires at least 3")
	cnpg.Waiver = &auditor.Waiver{Reason: "migration PLAT-7", Until: &waiverEnd}
	lowGate := gateRule.NewFinding(&auditor.ObjectRef{APIVersion: "kyverno.io/v1", Kind: "ClusterPolicy", Name: "odd"},
		"ClusterPolicy odd: spec is not an object")
	lowGate.Severity = auditor.SeverityLow

	rules := []auditor.Rule{
		testRule{meta: defaultDenyRule},
		testRule{meta: gpuRule, res: auditor.Result{Findings: []auditor.Finding{gpu}}},
		testRule{meta: workloadRule, res: auditor.Result{Inconclusive: []string{"workloads.kueue.x-k8s.io is not served: Kueue admission cannot be checked"}}},
		testRule{meta: gateRule, res: auditor.Result{Findings: []auditor.Finding{lowGate}}},
		testRule{meta: failOpenRule, res: auditor.Result{Findings: []auditor.Finding{failOpen}}},
		testRule{meta: cnpgRule, res: auditor.Result{Findings: []auditor.Finding{cnpg}}},
	}
	findings := []auditor.Finding{gpu, failOpen, cnpg, lowGate}
	ev := &auditor.Evaluation{
		At:       evalAt,
		Findings: findings,
		Inconclusive: map[string][]string{
			workloadRule.ID: {"workloads.kueue.x-k8s.io is not served: Kueue admission cannot be checked"},
		},
		Controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Violated},
		Facts: []auditor.Fact{
			{Metric: "cni_info", Labels: []auditor.Label{{Name: "cni", Value: "cilium"}, {Name: "enforcing", Value: "true"}}, Value: 1},
		},
		Snapshot: s,
	}
	records := []store.Record{
		{Finding: gpu, FirstSeen: openedAt, LastSeen: evalAt},
		{Finding: failOpen, FirstSeen: openedAt.Add(time.Hour), LastSeen: evalAt},
		{Finding: cnpg, FirstSeen: openedAt, LastSeen: evalAt},
		// lowGate has no record: it was first seen by this evaluation.
	}
	return Input{
		GeneratedAt: genAt, AuditorVersion: "v0.1.0-test", Evaluation: ev, Records: records, Rules: rules,
		Config: auditor.DefaultConfig(), MaxObjectsPerCheck: 3,
	}
}
