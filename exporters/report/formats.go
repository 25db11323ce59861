package report

import (
	"fmt"
	"io"
	"strings"
)

// Formats lists the output formats of a report, in the order the CLI documents them.
var Formats = []string{"table", "json", "sarif", "junit", "github", "policyreport"}

// Write renders the report in the named format (one of Formats).
func (r *Report) Write(format string, w io.Writer) error {
	switch format {
	case "table":
		return r.WriteTable(w)
	case "json":
		return r.WriteJSON(w)
	case "sarif":
		return r.WriteSARIF(w)
	case "junit":
		return r.WriteJUnit(w)
	case "github":
		return r.WriteGitHub(w)
	case "policyreport":
		return r.WritePolicyReport(w)
	}
	return fmt.Errorf("unknown format %q, want one of %s", format, strings.Join(Formats, ", "))
}
