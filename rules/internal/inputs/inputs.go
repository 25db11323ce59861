// Package inputs tells rules which of a snapshot's resources they cannot trust to be
// complete, so that they report what they could not judge instead of judging it wrong.
package inputs

import (
	"fmt"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Unseen explains why a resource's objects cannot be trusted to be complete; ok is false
// when the snapshot holds them all. The engine reports the state of every input already;
// rules use this to say what they could not judge because of it.
func Unseen(s *auditor.Snapshot, resource string) (reason string, ok bool) {
	a := s.AvailabilityOf(resource)
	if a.State == auditor.Synced {
		return "", false
	}
	reason = fmt.Sprintf("%s is %s", resource, a.State)
	if a.Message != "" {
		reason += " (" + a.Message + ")"
	}
	return reason, true
}

// Hidden lists the resources that are forbidden, failing or not synced: what they hold is
// unknown (a CRD that is not served holds nothing, which is not hidden).
func Hidden(s *auditor.Snapshot, ids []string) []string {
	var out []string
	for _, id := range ids {
		switch a := s.AvailabilityOf(id); a.State {
		case auditor.Forbidden, auditor.Failing, auditor.Pending:
			out = append(out, fmt.Sprintf("%s is %s", id, a.State))
		}
	}
	return out
}
