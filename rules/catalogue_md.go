package rules

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// docFile maps a control to its detailed runbook (one `### <rule-id>` heading per rule).
var docFile = map[auditor.Control]string{auditor.SR1: "docs/rules/sr1.md", auditor.SR2: "docs/rules/sr2.md", auditor.SR3: "docs/rules/sr3.md"}

// DocFile is the runbook that documents the rule under a `### <rule-id>` heading, from
// the repository's root.
func DocFile(m auditor.RuleMeta) string {
	if m.ID == "waiver-invalid" {
		return "docs/telemetry-metrics.md" // waivers are documented with the telemetry
	}
	return docFile[m.Control]
}

// CatalogueMarkdown renders the README's rule catalogue from the rules themselves, so the
// documentation cannot drift from the code (`make generate` rewrites it, a test checks it).
func CatalogueMarkdown() string {
	var b strings.Builder
	b.WriteString("| Rule | Control | Severity | What it finds |\n|---|---|---|---|\n")
	metas := Catalogue()
	for _, m := range metas {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s |\n", m.ID, m.ID, m.Control, m.Severity, m.Title)
	}
	for _, m := range metas {
		doc := DocFile(m)
		fmt.Fprintf(&b, "\n#### %s\n\n%s, %s. %s.\n\n**Fix:** %s\n\nDetails and examples: [%s](%s#%s).\n",
			m.ID, m.Control, m.Severity, m.Title, m.Remediation, doc, doc, m.ID)
	}
	return b.String()
}
