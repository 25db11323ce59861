package sr2

import (
	"fmt"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/celmatch"
	"github.com/llm-platform/enforcement-auditor/rules/internal/fields"
	"github.com/llm-platform/enforcement-auditor/rules/kyverno"
)

// kyvernoRuntime checks what makes Kyverno enforce at all: its resource validating webhook
// reaching pod creates in every managed namespace with failurePolicy Fail, its health
// lease fresh (else its watchdog strips the webhooks), and no resourceFilters entry
// skipping pods of a managed namespace.
func (c gateChecker) kyvernoRuntime(s *auditor.Snapshot, v *gateVerdict, what, hookPrefix, policy, failurePolicy string) {
	c.kyvernoWebhook(s, v, what, hookPrefix, policy, failurePolicy)
	c.kyvernoLease(s, v)
	c.kyvernoResourceFilters(s, v, what)
}

func (c gateChecker) kyvernoWebhook(s *auditor.Snapshot, v *gateVerdict, what, hookPrefix, policy, failurePolicy string) {
	if a := s.AvailabilityOf(auditor.ResourceValidatingWebhookConfigurations); a.State != auditor.Synced {
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("Kyverno's webhook cannot be judged: %s is %s", auditor.ResourceValidatingWebhookConfigurations, a.State))
		return
	}
	if !s.Saw(auditor.ResourceValidatingWebhookConfigurations) { // offline, none among the inputs; live, a synced empty list is knowledge
		v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("Kyverno's webhook cannot be judged: no ValidatingWebhookConfiguration among the inputs (Kyverno creates %s at run time)", kyverno.ResourceWebhookConfig))
		return
	}
	var cfg *admissionv1.ValidatingWebhookConfiguration
	for _, w := range s.ValidatingWebhookConfigurations {
		if w.Name == kyverno.ResourceWebhookConfig {
			cfg = w
		}
	}
	const restore = "Restore Kyverno's admission controller (kubectl -n kyverno get pods, lease kyverno-health, logs): it recreates its webhooks when healthy and the policy is ready."
	if cfg == nil {
		v.add("webhook-missing", auditor.SeverityHigh, restore,
			"ValidatingWebhookConfiguration %s does not exist: the API server never asks Kyverno, so %s denies nothing", kyverno.ResourceWebhookConfig, what)
		return
	}
	hooks := policyHooks(cfg, hookPrefix, policy)
	if len(hooks) == 0 {
		v.add("webhook-missing", auditor.SeverityHigh, restore,
			"ValidatingWebhookConfiguration %s has no %s webhook receiving pod CREATE requests (Kyverno drops them when its health lease is stale or no policy is ready): %s denies nothing",
			kyverno.ResourceWebhookConfig, hookPrefix, what)
		return
	}
	outOfScope, failOpen := c.webhookReach(hooks)
	if len(outOfScope) > 0 {
		v.add("webhook-scope", auditor.SeverityHigh,
			"Remove the managed namespaces from Kyverno's webhook namespaceSelector (Helm config.webhooks / ConfigMap kyverno key webhooks) and objectSelector.",
			"Kyverno's webhook in %s does not receive pod creates from Kueue-managed namespaces %s: %s is never consulted there",
			kyverno.ResourceWebhookConfig, strings.Join(outOfScope, ", "), what)
	}
	if len(failOpen) > 0 && strings.EqualFold(failurePolicy, "Fail") {
		v.add("failure-policy", auditor.SeverityHigh,
			"Disable Kyverno's forceFailurePolicyIgnore (Helm features.forceFailurePolicyIgnore.enabled: false) so the policy is served by the failurePolicy Fail webhook.",
			"%s asks for failurePolicy Fail, but only failurePolicy Ignore webhooks of %s reach pods in %s (forceFailurePolicyIgnore is probably on): when Kyverno is unavailable GPU pods are admitted unchecked",
			what, kyverno.ResourceWebhookConfig, strings.Join(failOpen, ", "))
	}
}

// policyHooks returns the webhooks of Kyverno's configuration that serve the policy
// (hookPrefix, and its fine-grained ones) and receive pod CREATE requests.
func policyHooks(cfg *admissionv1.ValidatingWebhookConfiguration, hookPrefix, policy string) (hooks []admissionv1.ValidatingWebhook) {
	ours := map[string]bool{hookPrefix + "-fail": true, hookPrefix + "-ignore": true,
		hookPrefix + "-fail-finegrained-" + policy: true, hookPrefix + "-ignore-finegrained-" + policy: true}
	for _, w := range cfg.Webhooks {
		if !ours[w.Name] {
			continue
		}
		for _, r := range w.Rules {
			if ruleCoversPodCreate(r) {
				hooks = append(hooks, w)
				break
			}
		}
	}
	return hooks
}

// webhookReach names the managed namespaces whose pod creates none of the hooks
// receives (with why), and those only failurePolicy Ignore hooks receive.
func (c gateChecker) webhookReach(hooks []admissionv1.ValidatingWebhook) (outOfScope, failOpen []string) {
	matchers := map[string]*memoMatcher{}
	for _, w := range hooks {
		matchers[w.Name] = &memoMatcher{Matcher: celmatch.Compile(w.Name, w.MatchConditions, w.FailurePolicy)}
	}
	for _, ns := range c.managed {
		var reach []admissionv1.ValidatingWebhook
		var whys []string
		for _, w := range hooks {
			switch {
			case !fields.SelectorAllows(w.NamespaceSelector, ns.Labels):
				whys = append(whys, fmt.Sprintf("%s namespaceSelector %s", w.Name, fields.SelectorText(w.NamespaceSelector)))
			case w.ObjectSelector != nil && !fields.SelectorAllows(w.ObjectSelector, nil):
				whys = append(whys, fmt.Sprintf("%s objectSelector %s", w.Name, fields.SelectorText(w.ObjectSelector)))
			default:
				if skip := c.matchConditionsSkip(w, matchers[w.Name], ns); skip != "" {
					whys = append(whys, skip)
					continue
				}
				reach = append(reach, w)
			}
		}
		if len(reach) == 0 {
			outOfScope = append(outOfScope, fmt.Sprintf("%s (%s)", ns.Name, strings.Join(whys, "; ")))
			continue
		}
		fails := false
		for _, w := range reach {
			fails = fails || w.FailurePolicy == nil || *w.FailurePolicy == admissionv1.Fail
		}
		if !fails {
			failOpen = append(failOpen, ns.Name)
		}
	}
	return outOfScope, failOpen
}

func (c gateChecker) kyvernoLease(s *auditor.Snapshot, v *gateVerdict) {
	if s.Now.IsZero() {
		return
	}
	for _, l := range s.Leases {
		if l.Namespace != c.cfg.KyvernoNamespace || l.Name != kyverno.HealthLease {
			continue
		}
		raw, ok := l.Annotations[kyverno.LastRequestAnnotation]
		if !ok {
			v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("Lease %s/%s has no annotation %s: Kyverno's health cannot be judged", l.Namespace, l.Name, kyverno.LastRequestAnnotation))
			return
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			v.Inconclusive = append(v.Inconclusive, fmt.Sprintf("Lease %s/%s annotation %s is not an RFC 3339 time", l.Namespace, l.Name, kyverno.LastRequestAnnotation))
			return
		}
		if age := s.Now.Sub(t); age > kyverno.IdleDeadline {
			v.add("health-lease-stale", auditor.SeverityHigh,
				"Check the Kyverno admission controller pods and logs; when they serve requests again the lease is renewed and the webhooks rebuilt.",
				"Kyverno's health Lease %s/%s was last renewed %s ago (%s), more than %s: Kyverno's watchdog removes the policy rules from its webhooks, so nothing is denied",
				l.Namespace, l.Name, age.Round(time.Second), raw, kyverno.IdleDeadline)
		}
		return
	}
}

// kyvernoResourceFilters checks the resourceFilters of Kyverno's ConfigMap: requests a
// filter matches are skipped before any policy runs.
func (c gateChecker) kyvernoResourceFilters(s *auditor.Snapshot, v *gateVerdict, what string) {
	cm := s.ConfigMap(c.cfg.KyvernoNamespace, kyverno.ConfigMap)
	if cm == nil {
		return
	}
	filters := kyverno.ParseResourceFilters(cm.Data["resourceFilters"])
	var skipped []string
	for _, ns := range c.managed {
		for _, f := range filters {
			if kyverno.KindSelectsPodCreate(f.Kind) && kyverno.Wildcard(f.Namespace, ns.Name) {
				skipped = append(skipped, fmt.Sprintf("%s (%s)", ns.Name, f.Raw))
				break
			}
		}
	}
	if len(skipped) > 0 {
		v.add("resource-filters", auditor.SeverityCritical,
			fmt.Sprintf("Remove these entries from resourceFilters in ConfigMap %s/%s (Helm config.resourceFilters).", c.cfg.KyvernoNamespace, kyverno.ConfigMap),
			"ConfigMap %s/%s resourceFilters make Kyverno skip pods in Kueue-managed namespaces %s before %s runs",
			c.cfg.KyvernoNamespace, kyverno.ConfigMap, strings.Join(skipped, ", "), what)
	}
}

// matchConditionsSkip evaluates a webhook's matchConditions, with the API server's CEL
// matcher, on the CREATE of a GPU pod a tenant could send in ns (no labels, one GPU, the
// namespace's default ServiceAccount): the reason the webhook skips it, or "".
func (c gateChecker) matchConditionsSkip(w admissionv1.ValidatingWebhook, m *memoMatcher, ns *corev1.Namespace) string {
	if len(w.MatchConditions) == 0 {
		return ""
	}
	pod, requester := celmatch.TenantPod(ns.Name, c.representativeGPU())
	r := m.podCreate(pod, requester)
	switch {
	case r.Err != nil || r.Matches:
		return "" // a failing condition under failurePolicy Fail rejects the pod: it does not pass
	case r.Failed != "":
		return fmt.Sprintf("%s matchConditions %q is false for a GPU pod created by %s", w.Name, r.Failed, requester.GetName())
	}
	return fmt.Sprintf("%s matchConditions error on a GPU pod and its failurePolicy is Ignore", w.Name)
}

// representativeGPU is the first configured GPU resource that is a name, not a prefix.
func (c gateChecker) representativeGPU() string { return representativeGPU(c.cfg) }

func (v *view) representativeGPU() string { return representativeGPU(v.scope.cfg) }

func representativeGPU(cfg auditor.SR2Config) string {
	for _, r := range cfg.GPUResources {
		if !strings.HasSuffix(r, "*") {
			return r
		}
	}
	return "nvidia.com/gpu"
}

// memoMatcher evaluates once for all namespaces when no condition can tell them apart.
type memoMatcher struct {
	*celmatch.Matcher
	once *celmatch.Result
}

func (m *memoMatcher) podCreate(pod *corev1.Pod, requester user.Info) celmatch.Result {
	if m.PerNamespace() {
		return m.PodCreate(pod, requester)
	}
	if m.once == nil {
		r := m.PodCreate(pod, requester)
		m.once = &r
	}
	return *m.once
}
