package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The JUnit XML that CI systems read (Jenkins, GitLab, the test-report actions): the
// common subset of the Ant schema.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: a test suite per control, a test case per
// finding (rule and object) failing when at or above --fail-on, skipped when waived,
// passing below it with the message as output; a rule without findings is one passing
// case, or a skipped one when it could not judge or its control is not-applicable.
func (r *Report) WriteJUnit(w io.Writer) error {
	doc := junitSuites{Name: "enforcement-auditor"}
	for _, c := range auditor.Controls {
		s := junitSuite{Name: string(c) + " " + controlTitles[c]}
		reported := map[string]bool{}
		for _, f := range r.Findings {
			if f.Control != c {
				continue
			}
			reported[f.Rule] = true
			tc := junitCase{Name: f.Rule + " " + f.Object.String(), Classname: string(c) + "." + f.Rule}
			if f.Location != nil {
				tc.File, tc.Line = f.Location.File, f.Location.Line
			}
			detail := f.Message
			if f.Remediation != "" {
				detail += "\nfix: " + f.Remediation
			}
			switch {
			case f.Waived():
				tc.Skipped = &junitMessage{Message: "waived: " + f.Waiver.Reason}
			case f.Severity >= r.failOn:
				tc.Failure = &junitMessage{Message: f.Message, Type: f.Severity.String(), Body: detail}
			default:
				tc.SystemOut = fmt.Sprintf("%s (below --fail-on %s): %s", f.Severity, failOnName(r.failOn), detail)
			}
			s.add(tc)
		}
		for _, m := range r.ruleMetas() {
			if m.Control != c || reported[m.ID] {
				continue
			}
			tc := junitCase{Name: m.ID, Classname: string(c) + "." + m.ID}
			if reasons := r.Inconclusive[m.ID]; len(reasons) > 0 {
				tc.Skipped = &junitMessage{Message: "could not judge: " + strings.Join(reasons, "; ")}
			}
			if r.Controls[c] == auditor.NotApplicable {
				tc.Skipped = &junitMessage{Message: "not applicable: " + r.NotApplicable[c]}
			}
			s.add(tc)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (s *junitSuite) add(tc junitCase) {
	s.Tests++
	if tc.Failure != nil {
		s.Failures++
	}
	if tc.Skipped != nil {
		s.Skipped++
	}
	s.Cases = append(s.Cases, tc)
}
