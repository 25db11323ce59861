package engine

import "github.com/llm-platform/enforcement-auditor/auditor"

// applyWaivers marks findings covered by an active waiver annotation on their object.
func applyWaivers(findings []auditor.Finding, s *auditor.Snapshot) {
	for i := range findings {
		f := &findings[i]
		if f.Object == nil {
			continue
		}
		if w := auditor.ActiveWaiver(s.Annotations(f.Object), f.Rule, s.Now); w != nil {
			f.Waiver = w
		}
	}
}
