package probe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

const (
	// AdmissionProbeGenerateName prefixes the probe pod's server-generated name.
	AdmissionProbeGenerateName = "enforcement-auditor-probe-"
	// AdmissionProbeLabel marks the probe pod, so that audit logs and admission reports
	// can tell it from a tenant's pod.
	AdmissionProbeLabel = "enforcement-auditor.llm-platform.io/probe"
	// AdmissionProbeFieldManager names the auditor in the dry-run request.
	AdmissionProbeFieldManager = "enforcement-auditor-probe"

	kueueAdmissionGate = "kueue.x-k8s.io/admission"
	maxDenialMessage   = 1024
)

// AdmissionProberOptions configures an AdmissionProber; zero values take the defaults,
// except Client and Namespaces, which are required.
type AdmissionProberOptions struct {
	// Client sends the dry-run creates. The auditor needs `create` on pods in the probed
	// namespaces: RBAC cannot grant "create with dryRun only".
	Client kubernetes.Interface
	// Namespaces returns the namespaces to probe at each run (the Kueue-managed ones).
	Namespaces func(ctx context.Context) ([]string, error)
	// GPUResource is the extended resource the probe pod requests one of (default nvidia.com/gpu).
	GPUResource corev1.ResourceName
	// Image of the probe container; never pulled, the create is a dry run
	// (default registry.k8s.io/pause:3.10).
	Image string
	// Timeout bounds the request in one namespace (default 10s).
	Timeout time.Duration
	// Now stamps results (default time.Now).
	Now func() time.Time
	// GatePolicies names the gate (a Kyverno ClusterPolicy or ValidatingPolicy, or a
	// ValidatingAdmissionPolicy): a denial verifies the gate only when its message names
	// one of them (GateDenial); any other denial leaves the probe inconclusive. Empty:
	// every admission denial counts.
	GatePolicies []string
	// Guard, when set, is asked before every run whether the guard that limits the
	// auditor's pod creates to dry runs is in place (see CheckGuard). While it returns
	// an error the prober sends nothing: each namespace gets a result whose Error starts
	// with GuardRefused and says why, so the probe's rule reports it inconclusive, and
	// whose Unguarded says why, so admission-probe-unguarded reports the auditor itself.
	Guard func(ctx context.Context) error
}

// GuardRefused starts the Error of a result the prober refused to produce because its
// guard is missing.
const GuardRefused = "refused to probe: "

// AdmissionProber asks the API server, for each Kueue-managed namespace, whether it would
// admit a pod that requests a GPU without a Kueue queue name: a server-side dry-run create
// (dryRun=All) runs every admission plugin and webhook, then stores nothing.
type AdmissionProber struct {
	opts AdmissionProberOptions
}

// NewAdmissionProber validates opts and applies the defaults.
func NewAdmissionProber(opts AdmissionProberOptions) (*AdmissionProber, error) {
	if opts.Client == nil {
		return nil, errors.New("admission prober: Client is required")
	}
	if opts.Namespaces == nil {
		return nil, errors.New("admission prober: Namespaces is required")
	}
	if opts.GPUResource == "" {
		opts.GPUResource = "nvidia.com/gpu"
	}
	if msgs := validation.IsQualifiedName(string(opts.GPUResource)); len(msgs) > 0 || strings.Contains(string(opts.GPUResource), "*") {
		return nil, fmt.Errorf("admission prober: GPUResource %q is not a resource name", opts.GPUResource)
	}
	if opts.Image == "" {
		opts.Image = "registry.k8s.io/pause:3.10"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &AdmissionProber{opts: opts}, nil
}

// Probe runs one dry-run create per namespace, one namespace at a time (a handful of
// requests per run is all the API server should see), in name order. It fails only when
// the namespaces cannot be listed; a namespace whose probe cannot run gets a result with
// Error set.
func (p *AdmissionProber) Probe(ctx context.Context) ([]auditor.AdmissionProbeResult, error) {
	nss, err := p.opts.Namespaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("admission prober: listing namespaces: %w", err)
	}
	nss = append([]string(nil), nss...)
	sort.Strings(nss)
	var refused error
	if p.opts.Guard != nil {
		refused = p.opts.Guard(ctx)
	}
	out := make([]auditor.AdmissionProbeResult, 0, len(nss))
	for i, ns := range nss {
		if ns == "" || (i > 0 && nss[i-1] == ns) {
			continue
		}
		if refused != nil {
			why := shortenMessage(refused.Error())
			out = append(out, auditor.AdmissionProbeResult{Namespace: ns, At: p.opts.Now(), Error: GuardRefused + why, Unguarded: why})
			continue
		}
		out = append(out, p.probeNamespace(ctx, ns))
	}
	return out, nil
}

func (p *AdmissionProber) probeNamespace(ctx context.Context, ns string) auditor.AdmissionProbeResult {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	res := auditor.AdmissionProbeResult{Namespace: ns}
	created, err := p.opts.Client.CoreV1().Pods(ns).Create(ctx, AdmissionProbePod(ns, p.opts.GPUResource, p.opts.Image),
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: AdmissionProbeFieldManager})
	res.At = p.opts.Now()
	switch {
	case err == nil && heldByKueue(created):
		// Kueue's webhook gated the pod (manageJobsWithoutQueueName, or a default
		// LocalQueue): it would wait for quota, so GPUs are not taken around Kueue.
		res.DeniedBy = "accepted, but Kueue's webhook added the scheduling gate " + kueueAdmissionGate +
			": the pod would wait for Kueue admission instead of bypassing quota"
	case err == nil:
		res.Admitted = true
	case isAdmissionDenial(err):
		if by, ok := GateDenial(err.Error(), p.opts.GatePolicies); ok || len(p.opts.GatePolicies) == 0 {
			res.DeniedBy = shortenMessage(err.Error())
		} else {
			res.Error = Inconclusive + "denied by " + by + ", not by the gate (" + strings.Join(p.opts.GatePolicies, ", ") + "): " + shortenMessage(err.Error())
		}
	default:
		res.Error = describeProbeError(err)
	}
	return res
}

// Inconclusive starts the Error of a result whose pod was denied by something other
// than the gate: the gate is not verified there.
const Inconclusive = "inconclusive: "

var (
	// kube-apiserver's ValidatingAdmissionPolicy denial (k8s.io/apiserver
	// pkg/admission/plugin/policy/validating dispatcher.go).
	vapDenialRE = regexp.MustCompile(`ValidatingAdmissionPolicy '([^']+)' with binding '([^']+)' denied request`)
	// Kyverno's ValidatingPolicy denial (pkg/webhooks/resource/vpol/handler.go).
	vpolDenialRE = regexp.MustCompile(`(?:^|[:;\n]\s*)Policy (\S+) failed: `)
	// kube-apiserver's webhook denial (k8s.io/apiserver pkg/admission/plugin/webhook/errors).
	webhookDenialRE = regexp.MustCompile(`admission webhook "([^"]+)" denied the request`)
)

// kyvernoBlocked starts the policy/rule YAML of Kyverno's ClusterPolicy denial
// (pkg/webhooks/utils/block.go GetBlockedMessages).
const kyvernoBlocked = "was blocked due to the following policies"

// GateDenial tells whether an admission denial's message comes from one of the gate
// policies, and names who denied: a ValidatingAdmissionPolicy and its binding, a Kyverno
// ValidatingPolicy, the Kyverno ClusterPolicies (and rules) listed in Kyverno's block
// message, or else the webhook or the message itself.
func GateDenial(msg string, gates []string) (by string, gate bool) {
	isGate := func(name string) bool { return slices.Contains(gates, name) }
	var names []string
	for _, m := range vapDenialRE.FindAllStringSubmatch(msg, -1) {
		if isGate(m[1]) {
			return fmt.Sprintf("ValidatingAdmissionPolicy %s (binding %s)", m[1], m[2]), true
		}
		names = append(names, fmt.Sprintf("ValidatingAdmissionPolicy %s (binding %s)", m[1], m[2]))
	}
	if _, rest, ok := strings.Cut(msg, kyvernoBlocked); ok {
		var blocked map[string]map[string]string
		if yaml.Unmarshal([]byte(rest), &blocked) == nil {
			pols := make([]string, 0, len(blocked))
			for p := range blocked {
				pols = append(pols, p)
			}
			sort.Strings(pols)
			for _, p := range pols {
				rules := make([]string, 0, len(blocked[p]))
				for r := range blocked[p] {
					rules = append(rules, r)
				}
				sort.Strings(rules)
				what := fmt.Sprintf("Kyverno policy %s (rules %s)", p, strings.Join(rules, ", "))
				if isGate(p) {
					return what, true
				}
				names = append(names, what)
			}
		}
	}
	for _, m := range vpolDenialRE.FindAllStringSubmatch(msg, -1) {
		if isGate(m[1]) {
			return "Kyverno ValidatingPolicy " + m[1], true
		}
		names = append(names, "Kyverno ValidatingPolicy "+m[1])
	}
	if len(names) > 0 {
		return strings.Join(names, ", "), false
	}
	if m := webhookDenialRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("admission webhook %q", m[1]), false
	}
	return "an admission plugin", false
}

// isAdmissionDenial reports whether an API error is an admission plugin rejecting the pod:
// a 4xx status whose message says a webhook ("admission webhook %q denied the request")
// or a ValidatingAdmissionPolicy ("... with binding ... denied request") denied it.
// Other 4xx errors (RBAC, quota, PodSecurity, invalid object) stop the request before or
// beside the gate, so they say nothing about it.
func isAdmissionDenial(err error) bool {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return false
	}
	code := st.Status().Code
	if code < 400 || code >= 500 {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "denied the request") || strings.Contains(msg, "denied request")
}

// describeProbeError explains why a probe could not judge the gate.
func describeProbeError(err error) string {
	msg := shortenMessage(err.Error())
	switch {
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "cannot create resource"):
		return "the auditor may not create pods here (grant the opt-in admission-probe ClusterRole): " + msg
	case errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err):
		return "timed out: " + msg
	case strings.Contains(err.Error(), "failed calling webhook"):
		return "an admission webhook failed (with failurePolicy Fail the pod is rejected, but not by the gate's decision): " + msg
	}
	return msg
}

func heldByKueue(p *corev1.Pod) bool {
	if p == nil {
		return false
	}
	for _, g := range p.Spec.SchedulingGates {
		if g.Name == kueueAdmissionGate {
			return true
		}
	}
	return false
}

func shortenMessage(s string) string {
	if r := []rune(s); len(r) > maxDenialMessage {
		return string(r[:maxDenialMessage]) + "..."
	}
	return s
}

// AdmissionProbePod is the pod the prober asks the API server to admit: one GPU, no Kueue
// queue name, labelled as the auditor's probe, and restricted enough that the Pod
// Security "restricted" level admits it, so only the GPU gate can reject it.
func AdmissionProbePod(ns string, gpu corev1.ResourceName, image string) *corev1.Pod {
	one := resource.MustParse("1")
	yes, no := true, false
	zero, uid, gid := int64(0), int64(65532), int64(65532)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: AdmissionProbeGenerateName,
			Namespace:    ns,
			Labels: map[string]string{
				AdmissionProbeLabel:           "admission",
				"app.kubernetes.io/name":      "enforcement-auditor",
				"app.kubernetes.io/component": "admission-probe",
			},
			Annotations: map[string]string{
				AdmissionProbeLabel: "server-side dry run (dryRun=All): never stored, never scheduled",
			},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  &no,
			TerminationGracePeriodSeconds: &zero,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   &yes,
				RunAsUser:      &uid,
				RunAsGroup:     &gid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:  "probe",
				Image: image,
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{gpu: one},
					Limits:   corev1.ResourceList{gpu: one},
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: &no,
					ReadOnlyRootFilesystem:   &yes,
					RunAsNonRoot:             &yes,
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}
