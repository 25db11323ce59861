package sr2

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// kyvernoChecker checks the two usual managed namespaces with the default configuration.
func kyvernoChecker() gateChecker {
	return gateChecker{cfg: auditor.DefaultConfig().SR2, managed: []*corev1.Namespace{sr2Managed("team-research"), sr2Managed("team-search")}}
}

// verdictText renders a verdict as "id severity" lines plus inconclusive reasons.
func verdictText(v gateVerdict) (ids []string, messages, inconclusive string) {
	var ms []string
	for _, c := range v.Conditions {
		ids = append(ids, c.ID+" "+c.Severity.String())
		ms = append(ms, c.Message)
	}
	return ids, strings.Join(ms, "\n"), strings.Join(v.Inconclusive, "\n")
}

func TestKyvernoWebhook(t *testing.T) {
	onlyTeamResearch := &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "team-research"}}
	cases := map[string]struct {
		objs          []any
		failurePolicy string
		ids           []string
		contains      string
		inconclusive  string
	}{
		"healthy": {objs: []any{sr2Webhooks()}, failurePolicy: "Fail"},
		"webhook configurations hidden": {objs: []any{sr2Webhooks(), sr2Unavailable(auditor.ResourceValidatingWebhookConfigurations, auditor.Forbidden)},
			inconclusive: "Kyverno's webhook cannot be judged: validatingwebhookconfigurations.admissionregistration.k8s.io is forbidden"},
		"offline, none among the inputs":                            {objs: []any{snapshottest.Offline()}, inconclusive: "no ValidatingWebhookConfiguration among the inputs"},
		"live, synced and empty: Kyverno's configuration is absent": {ids: []string{"webhook-missing high"}, contains: "kyverno-resource-validating-webhook-cfg does not exist"},
		"live, not synced yet": {objs: []any{sr2Unavailable(auditor.ResourceValidatingWebhookConfigurations, auditor.Pending)},
			inconclusive: "validatingwebhookconfigurations.admissionregistration.k8s.io is pending"},
		"Kyverno's configuration missing": {objs: []any{&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "other"}}},
			ids: []string{"webhook-missing high"}, contains: "does not exist"},
		"no hook for pods": {objs: []any{sr2Webhooks(sr2Hook("other.kyverno.svc-fail", admissionv1.Fail, nil))},
			ids: []string{"webhook-missing high"}, contains: "has no validate.kyverno.svc webhook receiving pod CREATE requests"},
		"fine-grained hook of the policy counts": {objs: []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-fail-finegrained-require-kueue-queue-name", admissionv1.Fail, nil))}, failurePolicy: "Fail"},
		"namespaceSelector leaves one out": {objs: []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, onlyTeamResearch))},
			ids: []string{"webhook-scope high"}, contains: "Kueue-managed namespaces team-search (validate.kyverno.svc-fail namespaceSelector kubernetes.io/metadata.name=team-research)"},
		"objectSelector narrows": {objs: []any{sr2Webhooks(func() admissionv1.ValidatingWebhook {
			h := sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, nil)
			h.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"gated": "yes"}}
			return h
		}())}, ids: []string{"webhook-scope high"}, contains: "objectSelector gated=yes"},
		"only Ignore hooks while the policy asks Fail": {objs: []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-ignore", admissionv1.Ignore, nil))}, failurePolicy: "Fail",
			ids: []string{"failure-policy high"}, contains: "only failurePolicy Ignore webhooks"},
		"only Ignore hooks, policy asks Ignore": {objs: []any{sr2Webhooks(sr2Hook("validate.kyverno.svc-ignore", admissionv1.Ignore, nil))}, failurePolicy: "Ignore"},
		"a hook without failurePolicy fails closed": {objs: []any{sr2Webhooks(func() admissionv1.ValidatingWebhook {
			h := sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, nil)
			h.FailurePolicy = nil
			return h
		}())}, failurePolicy: "Fail"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var v gateVerdict
			kyvernoChecker().kyvernoWebhook(snapshottest.New(snapshottest.At(sr2Now), tc.objs), &v, "ClusterPolicy x", "validate.kyverno.svc", "require-kueue-queue-name", tc.failurePolicy)
			ids, msgs, inc := verdictText(v)
			assert.Equal(t, tc.ids, ids)
			assert.Contains(t, msgs, tc.contains)
			if tc.inconclusive == "" {
				assert.Empty(t, inc)
			} else {
				assert.Contains(t, inc, tc.inconclusive)
			}
		})
	}
}

func TestKyvernoLease(t *testing.T) {
	lease := func(ns, value string, set bool) *coordinationv1.Lease {
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kyverno-health", Annotations: map[string]string{}}}
		if set {
			l.Annotations["kyverno.io/last-request-time"] = value
		}
		return l
	}
	cases := map[string]struct {
		objs         []any
		noClock      bool
		ids          []string
		inconclusive string
	}{
		"fresh":                     {objs: []any{sr2Lease(30 * time.Second)}},
		"at the deadline":           {objs: []any{sr2Lease(100 * time.Second)}},
		"stale":                     {objs: []any{sr2Lease(101 * time.Second)}, ids: []string{"health-lease-stale high"}},
		"stale but no clock":        {objs: []any{sr2Lease(time.Hour)}, noClock: true},
		"another namespace's lease": {objs: []any{lease("other", sr2Now.Add(-time.Hour).Format(time.RFC3339), true)}},
		"no lease at all":           {},
		"no annotation":             {objs: []any{lease("kyverno", "", false)}, inconclusive: "has no annotation kyverno.io/last-request-time"},
		"not a time":                {objs: []any{lease("kyverno", "yesterday", true)}, inconclusive: "is not an RFC 3339 time"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			at := snapshottest.At(sr2Now)
			if tc.noClock {
				at = snapshottest.At(time.Time{})
			}
			var v gateVerdict
			kyvernoChecker().kyvernoLease(snapshottest.New(at, tc.objs), &v)
			ids, _, inc := verdictText(v)
			assert.Equal(t, tc.ids, ids)
			if tc.inconclusive == "" {
				assert.Empty(t, inc)
			} else {
				assert.Contains(t, inc, tc.inconclusive)
			}
		})
	}
}

func TestKyvernoResourceFilters(t *testing.T) {
	cm := func(ns, filters string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kyverno"}, Data: map[string]string{"resourceFilters": filters}}
	}
	cases := map[string]struct {
		objs     []any
		ids      []string
		contains string
	}{
		"no ConfigMap":                       {},
		"filters elsewhere":                  {objs: []any{cm("kyverno", "[Event,*,*][*/*,kube-system,*][Pod,dev,*]")}},
		"the ConfigMap of another namespace": {objs: []any{cm("other", "[Pod,team-*,*]")}},
		"pods of a managed namespace skipped": {objs: []any{cm("kyverno", "[Event,*,*][Pod,team-se*,*]")}, ids: []string{"resource-filters critical"},
			contains: "team-search ([Pod,team-se*,*])"},
		"every kind everywhere": {objs: []any{cm("kyverno", "[*]")}, ids: []string{"resource-filters critical"}, contains: "team-research ([*]), team-search ([*])"},
		"a subresource only":    {objs: []any{cm("kyverno", "[Pod/exec,*,*]")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var v gateVerdict
			kyvernoChecker().kyvernoResourceFilters(snapshottest.New(tc.objs), &v, "ClusterPolicy x")
			ids, msgs, _ := verdictText(v)
			assert.Equal(t, tc.ids, ids)
			assert.Contains(t, msgs, tc.contains)
		})
	}
}

// Kyverno's webhook matchConditions, evaluated with the API server's CEL matcher on a
// tenant's GPU pod: a condition false for such pods means the gate is never consulted.
func TestGPUGateWebhookMatchConditions(t *testing.T) {
	ignore := admissionv1.Ignore
	hook := func(fp admissionv1.FailurePolicyType, conds ...admissionv1.MatchCondition) *admissionv1.ValidatingWebhookConfiguration {
		h := sr2Hook("validate.kyverno.svc-fail", fp, sr2KyvernoNSSelector)
		h.MatchConditions = conds
		return sr2Webhooks(h)
	}
	cases := map[string]struct {
		cfg      *admissionv1.ValidatingWebhookConfiguration
		want     []string
		contains string
	}{
		"system-user exclusion keeps tenant pods": {cfg: hook(admissionv1.Fail,
			admissionv1.MatchCondition{Name: "not-system", Expression: `!request.userInfo.username.startsWith('system:kube-')`})},
		"always false for tenant pods": {cfg: hook(admissionv1.Fail,
			admissionv1.MatchCondition{Name: "only-labelled", Expression: `has(object.metadata.labels) && 'kyverno-check' in object.metadata.labels`}),
			want: []string{"ClusterPolicy/require-kueue-queue-name#webhook-scope high"}, contains: `validate.kyverno.svc-fail matchConditions "only-labelled" is false for a GPU pod created by system:serviceaccount:team-research:default`},
		"false in one namespace only": {cfg: hook(admissionv1.Fail,
			admissionv1.MatchCondition{Name: "not-search", Expression: `request.namespace != 'team-search'`}),
			want: []string{"ClusterPolicy/require-kueue-queue-name#webhook-scope high"}, contains: `Kueue-managed namespaces team-search (validate.kyverno.svc-fail matchConditions "not-search"`},
		"an erroring condition under Fail rejects: no gap": {cfg: hook(admissionv1.Fail,
			admissionv1.MatchCondition{Name: "bad", Expression: `object.spec.nodeName == 'x'`})},
		"an erroring condition under Ignore skips": {cfg: hook(ignore,
			admissionv1.MatchCondition{Name: "bad", Expression: `object.spec.nodeName == 'x'`}),
			want: []string{"ClusterPolicy/require-kueue-queue-name#webhook-scope high"}, contains: "matchConditions error on a GPU pod and its failurePolicy is Ignore"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), sr2Policy(t), tc.cfg, sr2Lease(time.Second)))
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, sr2Keys(res.Findings), sr2Messages(res.Findings))
			assert.Contains(t, sr2Messages(res.Findings), tc.contains)
		})
	}
}

// BenchmarkGateWebhookMatchConditions: the gate rule on 1000 managed namespaces, with and
// without a matchCondition on Kyverno's webhook (compiled once per evaluation, evaluated
// once per namespace).
func BenchmarkGateWebhookMatchConditions(b *testing.B) {
	conds := map[string][]admissionv1.MatchCondition{
		"none": nil,
		// Reads nothing a namespace changes: evaluated once per evaluation.
		"namespace-independent": {{Name: "not-leases", Expression: `request.resource.resource != 'leases'`}},
		// Reads the requester: evaluated per namespace.
		"per-namespace": {{Name: "not-system", Expression: `!request.userInfo.username.startsWith('system:kube-')`}},
	}
	for _, name := range []string{"none", "namespace-independent", "per-namespace"} {
		b.Run(name, func(b *testing.B) {
			h := sr2Hook("validate.kyverno.svc-fail", admissionv1.Fail, sr2KyvernoNSSelector)
			h.MatchConditions = conds[name]
			objs := []any{sr2Obj(b, sr2GatePolicy), sr2Webhooks(h), sr2Lease(time.Second)}
			for i := 0; i < 1000; i++ {
				objs = append(objs, sr2Managed(fmt.Sprintf("team-%04d", i)))
			}
			s := snapshottest.New(snapshottest.At(sr2Now), objs)
			r := ruleFor(gatePolicyNotEnforcing)(auditor.DefaultConfig())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := r.Evaluate(s); len(res.Findings) != 0 {
					b.Fatal(res.Findings)
				}
			}
		})
	}
}
