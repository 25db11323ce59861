package rbac

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestTamperPrefersAccessReviews: where the daemon asked a SubjectAccessReview, its
// answer wins over the offline decision: allowed confirms the finding, not allowed drops
// the request (and the finding when none is left), an error keeps the offline decision.
func TestTamperPrefersAccessReviews(t *testing.T) {
	exc := Action{Verb: "create", Group: "kyverno.io", Resource: "policyexceptions", Namespace: "kyverno"}
	cm := Action{Verb: "update", Resource: "configmaps", Namespace: "kyverno", Name: "x"}
	doors := []Door{{ID: "exc", What: "create exceptions", Actions: []Action{exc}}, {ID: "cm", What: "edit x", Actions: []Action{cm}}}
	snap := func(reviews ...auditor.AccessReview) *auditor.Snapshot {
		s := &auditor.Snapshot{
			Namespaces:   []*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "kyverno"}}},
			ClusterRoles: []*rbacv1.ClusterRole{crole("door", nil, nil, rule(l("create"), l("kyverno.io"), l("policyexceptions")), rule(l("update"), l(""), l("configmaps")))},
			RoleBindings: []*rbacv1.RoleBinding{
				rb("kyverno", "tenants", clusterRoleRef("door"), group("tenants")),
			},
			AccessReviews: reviews,
		}
		s.Index()
		return s.ForEvaluation()
	}
	meta := auditor.RuleMeta{ID: "t", Control: auditor.SR2, Severity: auditor.SeverityCritical}
	cfg := auditor.DefaultConfig()
	tenants := Identity{Kind: rbacv1.GroupKind, Name: "tenants"}
	answer := func(act Action, allowed bool, errText string) auditor.AccessReview {
		q := Question(tenants, act)
		q.Allowed, q.Error = allowed, errText
		return q
	}
	doorsOf := func(res auditor.Result) map[string]string {
		out := map[string]string{}
		for _, f := range res.Findings {
			out[f.Discriminator] = f.Message
		}
		return out
	}

	offline := doorsOf(Tamper(meta, cfg, snap(), doors))
	require.Len(t, offline, 2)
	for _, m := range offline {
		assert.NotContains(t, m, "SubjectAccessReview")
	}

	got := doorsOf(Tamper(meta, cfg, snap(answer(exc, true, ""), answer(cm, false, "")), doors))
	require.Len(t, got, 1, "the request the API server does not allow is dropped: %v", got)
	assert.Contains(t, got["Group tenants|exc|"], "(confirmed by SubjectAccessReview)")

	got = doorsOf(Tamper(meta, cfg, snap(answer(exc, false, "connection refused")), doors))
	assert.Len(t, got, 2, "a review that failed keeps the offline decision")
	assert.NotContains(t, got["Group tenants|exc|"], "confirmed")
}
