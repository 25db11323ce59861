package probe

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var _ Prober = (*AccessReviewProbe)(nil)

// AccessReviewProbe confirms the tamper rules' offline RBAC decisions with the API
// server: every run it takes the questions Candidates finds in the latest snapshot (an
// identity and a request through which a rule would report a door) and asks each as a
// SubjectAccessReview, which every authorizer the server runs answers (RBAC, webhooks).
// The answers enter the next snapshots (Annotate), where the rules prefer them to their
// own decision. Reviews are bounded by Limiter (per minute, not per run); an answer is
// reused for MaxAge, so a run asks only new questions and stale ones; a question the
// budget leaves unasked keeps the offline decision. Needs create on
// subjectaccessreviews.authorization.k8s.io.
type AccessReviewProbe struct {
	Client     kubernetes.Interface
	Candidates func(*auditor.Snapshot) []auditor.AccessReview
	Limiter    *rate.Limiter
	MaxAge     time.Duration
	Logger     *slog.Logger
	Now        func() time.Time

	last lastRun[auditor.AccessReview]

	mu    sync.Mutex
	cache map[string]auditor.AccessReview
}

// NewAccessReviewProbe asks at most perMinute reviews a minute (burst: the same), and
// reuses an answer for maxAge.
func NewAccessReviewProbe(client kubernetes.Interface, candidates func(*auditor.Snapshot) []auditor.AccessReview, perMinute int, maxAge time.Duration, logger *slog.Logger) *AccessReviewProbe {
	return &AccessReviewProbe{Client: client, Candidates: candidates, Limiter: rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute),
		MaxAge: maxAge, Logger: logger, Now: time.Now}
}

func (p *AccessReviewProbe) Name() string { return "access-review" }

func (p *AccessReviewProbe) Run(ctx context.Context, snap *auditor.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		p.cache = map[string]auditor.AccessReview{}
	}
	var out []auditor.AccessReview
	asked, skipped := 0, 0
	next := map[string]auditor.AccessReview{}
	for _, q := range p.Candidates(snap) {
		k := q.Key()
		if _, dup := next[k]; dup {
			continue
		}
		if r, ok := p.cache[k]; ok && r.Error == "" && p.Now().Sub(r.At) < p.MaxAge {
			next[k] = r
			out = append(out, r)
			continue
		}
		if !p.Limiter.Allow() {
			skipped++ // over the budget: the offline decision stands until a later run
			continue
		}
		r := p.review(ctx, q)
		asked++
		next[k] = r
		out = append(out, r)
	}
	if ctx.Err() != nil {
		return
	}
	p.cache = next
	denied := 0
	for _, r := range out {
		if !r.Allowed && r.Error == "" {
			denied++
		}
	}
	p.last.store(out, func(r auditor.AccessReview) bool { return r.Allowed })
	p.Logger.Info("access reviews done", "answers", len(out), "asked", asked, "over budget", skipped, "not allowed", denied)
}

func (p *AccessReviewProbe) review(ctx context.Context, q auditor.AccessReview) auditor.AccessReview {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: q.User, Groups: q.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: q.Verb, Group: q.Group, Resource: q.Resource,
			Subresource: q.Subresource, Namespace: q.Namespace, Name: q.Name},
	}}
	q.At = p.Now()
	got, err := p.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		q.Error = err.Error()
		return q
	}
	q.Allowed, q.Denied, q.Reason = got.Status.Allowed, got.Status.Denied, got.Status.Reason
	if got.Status.EvaluationError != "" && !got.Status.Allowed {
		q.Error = got.Status.EvaluationError
	}
	return q
}

func (p *AccessReviewProbe) Annotate(snap *auditor.Snapshot) { snap.AccessReviews = p.last.load() }
