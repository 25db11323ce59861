package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// WriteGitHub writes one GitHub Actions workflow command per finding, so the run shows
// each as an annotation on its file and line (manifest scans) or in the run summary:
// error at or above --fail-on, warning for medium and above below it, notice otherwise
// and for waived findings.
func (r *Report) WriteGitHub(w io.Writer) error {
	bw := &errWriter{w: w}
	for _, f := range r.Findings {
		level := "notice"
		switch {
		case f.Waived():
		case f.Severity >= r.failOn:
			level = "error"
		case f.Severity >= auditor.SeverityMedium:
			level = "warning"
		}
		var props []string
		if f.Location != nil && f.Location.File != "" && f.Location.File != "<stdin>" {
			props = append(props, "file="+escapeProperty(f.Location.File), "line="+strconv.Itoa(f.Location.Line))
		}
		title := fmt.Sprintf("%s %s %s: %s", f.Control, strings.ToUpper(f.Severity.String()), f.Rule, f.Object.String())
		props = append(props, "title="+escapeProperty(title))
		msg := f.Message
		if f.Waived() {
			msg = "waived (" + f.Waiver.Reason + "): " + msg
		}
		if f.Remediation != "" {
			msg += "\nfix: " + f.Remediation
		}
		fmt.Fprintf(bw, "::%s %s::%s\n", level, strings.Join(props, ","), escapeData(msg))
	}
	return bw.err
}

// escapeData escapes a workflow command's message as the runner unescapes it.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command property value: the message escapes plus
// the separators of properties.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
