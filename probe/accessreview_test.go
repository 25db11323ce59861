package probe

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestAccessReviewProbe: each candidate asked once as a SubjectAccessReview with the
// identity's user, groups and request; answers reused within MaxAge; over the rate
// budget a question is left unasked (the offline decision stands); a failed review is
// an error, asked again next run.
func TestAccessReviewProbe(t *testing.T) {
	client := fake.NewClientset()
	var asked []authorizationv1.SubjectAccessReviewSpec
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		asked = append(asked, sar.Spec)
		if sar.Spec.ResourceAttributes.Namespace == "broken" {
			return true, nil, errors.New("connection refused")
		}
		sar.Status.Allowed = sar.Spec.ResourceAttributes.Resource == "policyexceptions"
		return true, sar, nil
	})
	q := func(ns, res string) auditor.AccessReview {
		return auditor.AccessReview{User: "", Groups: []string{"tenants", "system:authenticated"}, Verb: "create", Group: "kyverno.io", Resource: res, Namespace: ns}
	}
	candidates := []auditor.AccessReview{q("kyverno", "policyexceptions"), q("kyverno", "policyexceptions"), q("kyverno", "clusterpolicies"), q("broken", "policyexceptions")}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	p := &AccessReviewProbe{Client: client, Candidates: func(*auditor.Snapshot) []auditor.AccessReview { return candidates },
		Limiter: rate.NewLimiter(0, 3), MaxAge: time.Minute, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}

	p.Run(context.Background(), &auditor.Snapshot{})
	require.Len(t, asked, 3, "the duplicate asked once")
	assert.Equal(t, []string{"tenants", "system:authenticated"}, asked[0].Groups)
	assert.Equal(t, "kyverno", asked[0].ResourceAttributes.Namespace)
	var s auditor.Snapshot
	p.Annotate(&s)
	require.Len(t, s.AccessReviews, 3)
	assert.True(t, s.AccessReviews[0].Allowed)
	assert.False(t, s.AccessReviews[1].Allowed)
	assert.Empty(t, s.AccessReviews[1].Error)
	assert.Contains(t, s.AccessReviews[2].Error, "connection refused")

	// Within MaxAge: the answers are reused; the failed one is asked again, but the
	// budget (3, no refill) is spent: left unasked.
	p.Run(context.Background(), &auditor.Snapshot{})
	assert.Len(t, asked, 3)
	p.Annotate(&s)
	assert.Len(t, s.AccessReviews, 2, "the unasked question has no answer")

	// After MaxAge, with budget: asked again.
	now = now.Add(2 * time.Minute)
	p.Limiter = rate.NewLimiter(0, 10)
	p.Run(context.Background(), &auditor.Snapshot{})
	assert.Len(t, asked, 6)
}
