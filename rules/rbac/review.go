package rbac

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
)

// reviews are the snapshot's SubjectAccessReview answers by question, built once per
// evaluation; the latest answer of a question wins.
var reviews = auditor.NewView(func(s *auditor.Snapshot) map[string]auditor.AccessReview {
	if len(s.AccessReviews) == 0 {
		return nil
	}
	out := make(map[string]auditor.AccessReview, len(s.AccessReviews))
	for _, r := range s.AccessReviews {
		out[r.Key()] = r
	}
	return out
})

// Question is the SubjectAccessReview that asks whether the identity may send the
// request (its user name and groups as the authenticator gives them).
func Question(id Identity, act Action) auditor.AccessReview {
	u := id.UserInfo()
	return auditor.AccessReview{User: u.GetName(), Groups: u.GetGroups(), Verb: act.Verb, Group: act.Group, Resource: act.Resource,
		Subresource: act.Subresource, Namespace: act.Namespace, Name: act.Name}
}

// confirm applies the reviews to a direct opening: a request a review answered "not
// allowed" is dropped (the API server, with every authorizer it runs, says no); ok
// false when none is left. confirmed: a review allowed one of the remaining requests.
func confirm(rv map[string]auditor.AccessReview, o Opening) (out Opening, ok, confirmed bool) {
	if rv == nil || o.Escalation != "" {
		return o, true, false
	}
	var kept []Action
	for _, act := range o.Actions {
		r, asked := rv[Question(o.Identity, act).Key()]
		switch {
		case !asked || r.Error != "":
			kept = append(kept, act)
		case r.Allowed:
			kept = append(kept, act)
			confirmed = true
		}
	}
	o.Actions = kept
	return o, len(kept) > 0, confirmed
}

// Candidates are the questions worth a SubjectAccessReview in this snapshot: each
// identity and request of a direct opening of the doors (at most maxActions per
// opening, the ones a finding names).
func Candidates(cfg auditor.Config, s *auditor.Snapshot, doors []Door) []auditor.AccessReview {
	var out []auditor.AccessReview
	for _, o := range Of(s).Openings(ScopeOf(cfg, s), doors) {
		if o.Escalation != "" {
			continue
		}
		for i, act := range o.Actions {
			if i == maxActions {
				break
			}
			out = append(out, Question(o.Identity, act))
		}
	}
	return out
}
