package engine

import (
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// applyWaivers marks findings covered by an active waiver annotation on their object.
func applyWaivers(findings []auditor.Finding, s *auditor.Snapshot, maxWaiver time.Duration) {
	for i := range findings {
		f := &findings[i]
		if f.Object == nil {
			continue
		}
		if w := auditor.ActiveWaiverWithin(s.Annotations(f.Object), f.Rule, s.Now, maxWaiver); w != nil {
			f.Waiver = w
		}
	}
}

// applyLocations points findings at the file, document and line their object was read
// from, when the snapshot knows it (manifest scans).
func applyLocations(findings []auditor.Finding, s *auditor.Snapshot) {
	if s.Locations == nil {
		return
	}
	for i := range findings {
		findings[i].Location = s.LocationOf(findings[i].Object)
	}
}
