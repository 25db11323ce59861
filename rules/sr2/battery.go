package sr2

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The battery: the pod CREATE requests a tenant can send in a Kueue-managed namespace,
// on which every gate is evaluated with its engine's semantics (gate_eval.go). A gate
// enforces in a namespace when it denies every request without the queue label and
// admits every request with it. docs/rules/sr2.md lists the battery.

// batteryShape is how a battery pod asks for its accelerator.
type batteryShape string

const (
	shapeRequestsAndLimits batteryShape = "requests-and-limits"
	shapeLimitsOnly        batteryShape = "limits-only"
	shapeRequestsOnly      batteryShape = "requests-only"
	shapeInitContainer     batteryShape = "init-container"
	shapeEphemeral         batteryShape = "ephemeral-container"
	shapeDRAClaim          batteryShape = "dra-claim"
)

// batteryAttrs are tenant-controlled attributes a variant carries.
type batteryAttrs struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// id names a variant by what it sets (labels and annotations carry the same pairs).
func (a batteryAttrs) id(i int) string {
	var parts []string
	if a.Name != "" {
		parts = append(parts, "name="+a.Name)
	}
	for _, k := range sortedKeys(a.Labels) {
		parts = append(parts, k+"="+a.Labels[k])
	}
	if len(parts) == 0 {
		return fmt.Sprintf("tenant-attributes-%d", i+1)
	}
	return "gpu-with " + strings.Join(parts, ",")
}

// batteryRequest is one request of the battery.
type batteryRequest struct {
	ID       string
	Shape    batteryShape
	Resource string // the extended resource asked for ("" for a DRA claim)
	Labelled bool   // carries the queue label: the gate must admit it
	Attrs    batteryAttrs
	// Base: one of the requests every gate must deny whatever the cluster offers (the
	// representative GPU resource); other resources are graded by what Nodes offer.
	Base bool
	// Invalid says why the API server rejects the pod in validation, before any
	// validating admission runs: the gate need not deny it.
	Invalid string
}

// Describe names the request in messages.
func (r batteryRequest) Describe(queueLabel string) string {
	var s string
	switch r.Shape {
	case shapeRequestsAndLimits:
		s = fmt.Sprintf("a pod with %s in requests and limits", r.Resource)
	case shapeLimitsOnly:
		s = fmt.Sprintf("a pod with %s in limits only", r.Resource)
	case shapeRequestsOnly:
		s = fmt.Sprintf("a pod with %s in requests only", r.Resource)
	case shapeInitContainer:
		s = fmt.Sprintf("a pod with %s in an init container", r.Resource)
	case shapeEphemeral:
		s = fmt.Sprintf("a pod with %s in an ephemeral container", r.Resource)
	case shapeDRAClaim:
		s = "a pod claiming a device through DRA (spec.resourceClaims, resources.claims)"
	}
	var with []string
	if r.Labelled {
		with = append(with, "label "+queueLabel)
	}
	if r.Attrs.Name != "" {
		with = append(with, "name "+r.Attrs.Name)
	}
	for _, k := range sortedKeys(r.Attrs.Labels) {
		with = append(with, fmt.Sprintf("label %s=%s", k, r.Attrs.Labels[k]))
	}
	for _, k := range sortedKeys(r.Attrs.Annotations) {
		with = append(with, fmt.Sprintf("annotation %s=%s", k, r.Attrs.Annotations[k]))
	}
	if len(with) > 0 {
		s += " with " + strings.Join(with, ", ")
	}
	if !r.Labelled {
		s += " and no queue label"
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// concreteGPU turns a configured GPU resource into a name a pod can request: a prefix
// pattern gets a representative suffix (nvidia.com/mig-* asks for a MIG slice).
func concreteGPU(r string) string {
	p, ok := strings.CutSuffix(r, "*")
	if !ok {
		return r
	}
	if strings.HasSuffix(p, "mig-") {
		return p + "1g.10gb"
	}
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "-") || strings.HasSuffix(p, ".") {
		return p + "gpu"
	}
	return p + "-gpu"
}

// battery builds the requests for a configuration: the shapes on the representative GPU,
// every configured GPU resource, a DRA claim, tenant-attribute variants (attrs, from the
// gate and its exceptions), each with and without the queue label.
func battery(cfg auditor.SR2Config, base string, offered []string, attrs []batteryAttrs) []batteryRequest {
	var out []batteryRequest
	add := func(r batteryRequest) {
		out = append(out, r)
		l := r
		l.ID += "+queue-label"
		l.Labelled = true
		out = append(out, l)
	}
	add(batteryRequest{ID: "gpu", Shape: shapeRequestsAndLimits, Resource: base, Base: true})
	add(batteryRequest{ID: "gpu-limits-only", Shape: shapeLimitsOnly, Resource: base, Base: true})
	add(batteryRequest{ID: "gpu-requests-only", Shape: shapeRequestsOnly, Resource: base, Base: true,
		Invalid: "the API server rejects it in validation (a limit must be set for a non-overcommitable resource), before validating admission"})
	add(batteryRequest{ID: "gpu-init-container", Shape: shapeInitContainer, Resource: base, Base: true})
	add(batteryRequest{ID: "gpu-ephemeral-container", Shape: shapeEphemeral, Resource: base, Base: true,
		Invalid: "the API server rejects it in validation (ephemeral containers cannot be set on create, nor have resources), before validating admission"})
	seen := map[string]bool{base: true}
	for _, r := range cfg.GPUResources {
		// A prefix pattern asks for what the cluster offers under it, else a representative name.
		names := []string{concreteGPU(r)}
		if p, ok := strings.CutSuffix(r, "*"); ok {
			var under []string
			for _, o := range offered {
				if strings.HasPrefix(o, p) {
					under = append(under, o)
				}
			}
			if len(under) > 0 {
				names = under
			}
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			add(batteryRequest{ID: "resource " + name, Shape: shapeRequestsAndLimits, Resource: name})
		}
	}
	add(batteryRequest{ID: "dra-claim", Shape: shapeDRAClaim})
	for i, a := range attrs {
		add(batteryRequest{ID: a.id(i), Shape: shapeRequestsAndLimits, Resource: base, Base: true, Attrs: a})
	}
	return out
}

// Pod builds the request's pod in ns as validating admission sees it: the API server's
// defaulting has copied limits into missing requests (SetDefaults_Pod).
func (r batteryRequest) Pod(ns, queueLabel string) (*corev1.Pod, user.Info) {
	one := resource.MustParse("1")
	q := corev1.ResourceList{corev1.ResourceName(r.Resource): one}
	name := r.Attrs.Name
	if name == "" {
		name = "gpu-pod"
	}
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "main", Image: "registry.example/train:1"}}},
	}
	for k, v := range r.Attrs.Labels {
		setMap(&pod.Labels, k, v)
	}
	for k, v := range r.Attrs.Annotations {
		setMap(&pod.Annotations, k, v)
	}
	if r.Labelled {
		setMap(&pod.Labels, queueLabel, "default")
	}
	main := &pod.Spec.Containers[0]
	switch r.Shape {
	case shapeRequestsAndLimits, shapeLimitsOnly:
		main.Resources = corev1.ResourceRequirements{Requests: q.DeepCopy(), Limits: q.DeepCopy()}
	case shapeRequestsOnly:
		main.Resources = corev1.ResourceRequirements{Requests: q.DeepCopy()}
	case shapeInitContainer:
		pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "registry.example/train:1",
			Resources: corev1.ResourceRequirements{Requests: q.DeepCopy(), Limits: q.DeepCopy()}}}
	case shapeEphemeral:
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debug", Image: "registry.example/train:1", Resources: corev1.ResourceRequirements{Requests: q.DeepCopy(), Limits: q.DeepCopy()}}}}
	case shapeDRAClaim:
		tmpl := "gpu"
		pod.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: &tmpl}}
		main.Resources = corev1.ResourceRequirements{Claims: []corev1.ResourceClaim{{Name: "gpu"}}}
	}
	u := &user.DefaultInfo{Name: fmt.Sprintf("system:serviceaccount:%s:default", ns),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	return pod, u
}

func setMap(m *map[string]string, k, v string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[k] = v
}

func sortStrings(s []string) { sort.Strings(s) }
