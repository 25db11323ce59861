package rules

import (
	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/rbac"
	"github.com/llm-platform/enforcement-auditor/rules/sr1"
	"github.com/llm-platform/enforcement-auditor/rules/sr2"
	"github.com/llm-platform/enforcement-auditor/rules/sr3"
)

// AccessReviewCandidates returns the questions the daemon's RBAC confirmation asks the
// API server (SubjectAccessReviews) about a snapshot: each identity and request through
// which a tamper rule would report a door of SR1, SR2 or SR3, each once. Controls the
// configuration leaves out are not asked about.
func AccessReviewCandidates(cfg auditor.Config) func(*auditor.Snapshot) []auditor.AccessReview {
	doors := []struct {
		c     auditor.Control
		doors func(*auditor.Snapshot) []rbac.Door
	}{{auditor.SR1, sr1.TamperDoors(cfg)}, {auditor.SR2, sr2.TamperDoors(cfg)}, {auditor.SR3, sr3.TamperDoors(cfg)}}
	return func(s *auditor.Snapshot) []auditor.AccessReview {
		seen := map[string]bool{}
		var out []auditor.AccessReview
		for _, d := range doors {
			if !cfg.Claims(d.c) {
				continue
			}
			for _, q := range rbac.Candidates(cfg, s, d.doors(s)) {
				if k := q.Key(); !seen[k] {
					seen[k] = true
					out = append(out, q)
				}
			}
		}
		return out
	}
}
