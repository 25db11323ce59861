package probe

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var admissionNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func staticNamespaces(nss ...string) func(context.Context) ([]string, error) {
	return func(context.Context) ([]string, error) { return nss, nil }
}

// admissionClient answers pod creates with reply; it records every create.
func admissionClient(reply func(pod *corev1.Pod) (runtime.Object, error)) (*fake.Clientset, *[]k8stesting.CreateActionImpl) {
	c := fake.NewClientset()
	var seen []k8stesting.CreateActionImpl
	c.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca := a.(k8stesting.CreateActionImpl)
		seen = append(seen, ca)
		obj, err := reply(ca.GetObject().(*corev1.Pod))
		return true, obj, err
	})
	return c, &seen
}

func webhookDenial(code int32, msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: metav1.StatusReasonBadRequest, Message: msg}}
}

func TestAdmissionProbeOutcomes(t *testing.T) {
	podsGR := schema.GroupResource{Resource: "pods"}
	tests := map[string]struct {
		reply        func(*corev1.Pod) (runtime.Object, error)
		admitted     bool
		deniedBy     string
		errContains  string
		deniedPrefix string
	}{
		"accepted: the gate is bypassed": {
			reply:    func(p *corev1.Pod) (runtime.Object, error) { return p, nil },
			admitted: true,
		},
		"the gate's Kyverno ClusterPolicy denies: verified": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, webhookDenial(http.StatusBadRequest, kyvernoBlock("require-kueue-queue-name", "gpu-pods-need-a-queue"))
			},
			deniedPrefix: `admission webhook "validate.kyverno.svc-fail" denied the request:`,
		},
		"an unrelated Kyverno ClusterPolicy denies: inconclusive": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, webhookDenial(http.StatusBadRequest, kyvernoBlock("restrict-image-registries", "validate-registries"))
			},
			errContains: "inconclusive: denied by Kyverno policy restrict-image-registries (rules validate-registries), not by the gate (require-kueue-queue-name)",
		},
		"the gate's Kyverno ValidatingPolicy denies: verified": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, webhookDenial(http.StatusBadRequest, `admission webhook "vpol.validate.kyverno.svc-fail" denied the request: Policy require-kueue-queue-name failed: GPU pods need a queue`)
			},
			deniedPrefix: `admission webhook "vpol.validate.kyverno.svc-fail" denied the request: Policy require-kueue-queue-name failed`,
		},
		"an unrelated ValidatingPolicy denies: inconclusive": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, webhookDenial(http.StatusBadRequest, `admission webhook "vpol.validate.kyverno.svc-fail" denied the request: Policy require-require-kueue-queue-name-x failed: no`)
			},
			errContains: "inconclusive: denied by Kyverno ValidatingPolicy require-require-kueue-queue-name-x",
		},
		"another webhook denies: inconclusive": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, webhookDenial(http.StatusBadRequest, `admission webhook "images.example.com" denied the request: registry not allowed`)
			},
			errContains: `inconclusive: denied by admission webhook "images.example.com", not by the gate`,
		},
		"an unrelated ValidatingAdmissionPolicy denies: inconclusive": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewForbidden(podsGR, "", errors.New("ValidatingAdmissionPolicy 'image-registries' with binding 'image-registries' denied request: registry not allowed"))
			},
			errContains: "inconclusive: denied by ValidatingAdmissionPolicy image-registries (binding image-registries), not by the gate",
		},
		"ValidatingAdmissionPolicy denies with 403": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewForbidden(podsGR, "", errors.New("ValidatingAdmissionPolicy 'require-kueue-queue-name' with binding 'b' denied request: GPU pods need a queue"))
			},
			deniedPrefix: `pods is forbidden: ValidatingAdmissionPolicy 'require-kueue-queue-name'`,
		},
		"the auditor may not create pods": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewForbidden(podsGR, "", errors.New(`User "system:serviceaccount:enforcement-auditor:auditor" cannot create resource "pods" in API group "" in the namespace "team-search"`))
			},
			errContains: "the auditor may not create pods here",
		},
		"PodSecurity rejection says nothing about the gate": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewForbidden(podsGR, "x", errors.New(`violates PodSecurity "restricted:latest": hostPath volumes`))
			},
			errContains: "violates PodSecurity",
		},
		"quota rejection says nothing about the gate": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewForbidden(podsGR, "x", errors.New(`exceeded quota: gpu, requested: requests.nvidia.com/gpu=1`))
			},
			errContains: "exceeded quota",
		},
		"failing webhook is an error, not a denial": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewInternalError(errors.New(`failed calling webhook "validate.kyverno.svc-fail": connection refused`))
			},
			errContains: "an admission webhook failed",
		},
		"timeout": {
			reply: func(*corev1.Pod) (runtime.Object, error) {
				return nil, apierrors.NewTimeoutError("request did not complete", 1)
			},
			errContains: "timed out",
		},
		"accepted but held by Kueue's admission gate": {
			reply: func(p *corev1.Pod) (runtime.Object, error) {
				p = p.DeepCopy()
				p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "kueue.x-k8s.io/admission"}}
				return p, nil
			},
			deniedPrefix: "accepted, but Kueue's webhook added the scheduling gate kueue.x-k8s.io/admission",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			client, seen := admissionClient(tc.reply)
			p, err := NewAdmissionProber(AdmissionProberOptions{Client: client, Namespaces: staticNamespaces("team-search"), Now: func() time.Time { return admissionNow },
				GatePolicies: []string{"require-kueue-queue-name"}})
			require.NoError(t, err)
			got, err := p.Probe(context.Background())
			require.NoError(t, err)
			require.Len(t, got, 1)
			r := got[0]
			assert.Equal(t, "team-search", r.Namespace)
			assert.Equal(t, admissionNow, r.At)
			assert.Equal(t, tc.admitted, r.Admitted)
			if tc.deniedBy != "" {
				assert.Equal(t, tc.deniedBy, r.DeniedBy)
			}
			if tc.deniedPrefix != "" {
				assert.Contains(t, r.DeniedBy, tc.deniedPrefix)
			}
			if tc.errContains != "" {
				assert.Contains(t, r.Error, tc.errContains)
				assert.Empty(t, r.DeniedBy)
				assert.False(t, r.Admitted)
			} else {
				assert.Empty(t, r.Error)
			}
			require.Len(t, *seen, 1)
		})
	}
}

func TestAdmissionProbeRequest(t *testing.T) {
	client, seen := admissionClient(func(p *corev1.Pod) (runtime.Object, error) { return p, nil })
	p, err := NewAdmissionProber(AdmissionProberOptions{Client: client, Namespaces: staticNamespaces("team-search"), GPUResource: "amd.com/gpu", Image: "example.com/pause:1"})
	require.NoError(t, err)
	_, err = p.Probe(context.Background())
	require.NoError(t, err)
	require.Len(t, *seen, 1)
	a := (*seen)[0]
	assert.Equal(t, "team-search", a.GetNamespace())
	assert.Equal(t, []string{metav1.DryRunAll}, a.CreateOptions.DryRun, "the probe must only ever send dry-run creates")
	assert.Equal(t, AdmissionProbeFieldManager, a.CreateOptions.FieldManager)

	pod := a.GetObject().(*corev1.Pod)
	assert.Equal(t, "enforcement-auditor-probe-", pod.GenerateName)
	assert.Empty(t, pod.Name)
	assert.Equal(t, "admission", pod.Labels[AdmissionProbeLabel])
	assert.NotContains(t, pod.Labels, "kueue.x-k8s.io/queue-name")
	assert.NotContains(t, pod.Annotations, "kueue.x-k8s.io/queue-name")
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	assert.Equal(t, "example.com/pause:1", c.Image)
	assert.Equal(t, int64(1), c.Resources.Limits.Name("amd.com/gpu", "").Value())
	assert.Equal(t, int64(1), c.Resources.Requests.Name("amd.com/gpu", "").Value())
	// restricted Pod Security: non-root, no escalation, drop ALL, RuntimeDefault seccomp
	require.NotNil(t, pod.Spec.SecurityContext)
	assert.True(t, *pod.Spec.SecurityContext.RunAsNonRoot)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.Spec.SecurityContext.SeccompProfile.Type)
	require.NotNil(t, c.SecurityContext)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.False(t, *pod.Spec.AutomountServiceAccountToken)
}

func TestAdmissionProbeNamespaces(t *testing.T) {
	client, seen := admissionClient(func(p *corev1.Pod) (runtime.Object, error) { return p, nil })
	p, err := NewAdmissionProber(AdmissionProberOptions{Client: client, Namespaces: staticNamespaces("team-search", "team-research", "", "team-search")})
	require.NoError(t, err)
	got, err := p.Probe(context.Background())
	require.NoError(t, err)
	var nss []string
	for _, r := range got {
		nss = append(nss, r.Namespace)
		assert.False(t, r.At.IsZero())
	}
	assert.Equal(t, []string{"team-research", "team-search"}, nss, "sorted, deduplicated, blanks dropped")
	assert.Len(t, *seen, 2)

	p, err = NewAdmissionProber(AdmissionProberOptions{Client: client, Namespaces: func(context.Context) ([]string, error) { return nil, errors.New("cache not synced") }})
	require.NoError(t, err)
	_, err = p.Probe(context.Background())
	require.ErrorContains(t, err, "cache not synced")
}

func TestNewAdmissionProberValidates(t *testing.T) {
	client := fake.NewClientset()
	tests := map[string]struct {
		opts AdmissionProberOptions
		err  string
	}{
		"no client":     {opts: AdmissionProberOptions{Namespaces: staticNamespaces()}, err: "Client is required"},
		"no namespaces": {opts: AdmissionProberOptions{Client: client}, err: "Namespaces is required"},
		"a prefix pattern is not a resource": {
			opts: AdmissionProberOptions{Client: client, Namespaces: staticNamespaces(), GPUResource: "nvidia.com/mig-*"},
			err:  "is not a resource name",
		},
		"defaults": {opts: AdmissionProberOptions{Client: client, Namespaces: staticNamespaces()}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := NewAdmissionProber(tc.opts)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, corev1.ResourceName("nvidia.com/gpu"), p.opts.GPUResource)
			assert.Equal(t, 10*time.Second, p.opts.Timeout)
			assert.NotEmpty(t, p.opts.Image)
		})
	}
}

// kyvernoBlock is Kyverno's ClusterPolicy denial as the API server returns it
// (pkg/webhooks/utils/block.go GetBlockedMessages, inside the webhook denial).
func kyvernoBlock(policy, rule string) string {
	return "admission webhook \"validate.kyverno.svc-fail\" denied the request: \n\nresource Pod/team-search/enforcement-auditor-probe-x was blocked due to the following policies \n\n" +
		policy + ":\n  " + rule + ": 'validation error: GPU pods need label kueue.x-k8s.io/queue-name. rule " + rule + " failed at path /metadata/labels/'\n"
}

// TestGateDenial: who denied, read from each engine's message.
func TestGateDenial(t *testing.T) {
	gates := []string{"require-kueue-queue-name"}
	cases := []struct {
		msg, by string
		gate    bool
	}{
		{kyvernoBlock("require-kueue-queue-name", "gpu-pods-need-a-queue"), "Kyverno policy require-kueue-queue-name (rules gpu-pods-need-a-queue)", true},
		{kyvernoBlock("restrict-image-registries", "r"), "Kyverno policy restrict-image-registries (rules r)", false},
		{"admission webhook \"v\" denied the request: \n\nresource Pod/ns/p was blocked due to the following policies \n\na:\n  r1: x\nrequire-kueue-queue-name:\n  r2: y\n", "Kyverno policy require-kueue-queue-name (rules r2)", true},
		{`pods "x" is forbidden: ValidatingAdmissionPolicy 'require-kueue-queue-name' with binding 'require-kueue-queue-name' denied request: GPU pods need a queue`, "ValidatingAdmissionPolicy require-kueue-queue-name (binding require-kueue-queue-name)", true},
		{`pods "x" is forbidden: ValidatingAdmissionPolicy 'other' with binding 'b' denied request: no`, "ValidatingAdmissionPolicy other (binding b)", false},
		{`admission webhook "vpol.validate.kyverno.svc-fail" denied the request: Policy require-kueue-queue-name failed: GPU pods need a queue`, "Kyverno ValidatingPolicy require-kueue-queue-name", true},
		{`admission webhook "w" denied the request: the message mentions require-kueue-queue-name`, `admission webhook "w"`, false},
		{`something denied request`, "an admission plugin", false},
	}
	for _, tc := range cases {
		by, gate := GateDenial(tc.msg, gates)
		assert.Equal(t, tc.by, by, tc.msg)
		assert.Equal(t, tc.gate, gate, tc.msg)
	}
}
