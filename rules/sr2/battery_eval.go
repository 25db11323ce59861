package sr2

import (
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
)

// BatteryCase is one request of the battery with a gate's offline answer on it, for the
// differential test that sends the same requests through a real API server.
type BatteryCase struct {
	ID, Description string
	Pod             *corev1.Pod
	Requester       user.Info
	Labelled        bool   // carries the queue label: the gate must admit it
	Invalid         string // why the API server rejects it in validation, before admission
	Denied          bool
	Unjudged        string
	Why             string
}

// EvaluateAdmissionPolicy evaluates a ValidatingAdmissionPolicy, bound with Deny and
// matching ns, on the battery (the tenant-attribute variants drawn from its CEL) in ns,
// exactly as the gate checks do.
func EvaluateAdmissionPolicy(cfg auditor.Config, p *admissionv1.ValidatingAdmissionPolicy, ns *corev1.Namespace) []BatteryCase {
	var texts []string
	for _, v := range p.Spec.Validations {
		texts = append(texts, v.Expression)
	}
	for _, mc := range p.Spec.MatchConditions {
		texts = append(texts, mc.Expression)
	}
	b := battery(cfg.SR2, representativeGPU(cfg.SR2), nil, tenantAttrs(texts, nil, cfg.SR2.QueueNameLabel))
	eval := celPolicyEval(celmatch.CompilePolicy(vapSpec(p)))
	out := make([]BatteryCase, 0, len(b))
	for _, r := range b {
		pod, requester := r.Pod(ns.Name, cfg.SR2.QueueNameLabel)
		o := eval(ns, r, pod, requester)
		out = append(out, BatteryCase{ID: r.ID, Description: r.Describe(cfg.SR2.QueueNameLabel), Pod: pod, Requester: requester,
			Labelled: r.Labelled, Invalid: r.Invalid, Denied: o.Denied, Unjudged: o.Unjudged, Why: o.Why})
	}
	return out
}
