package report

import (
	"fmt"
	"io"
	"strings"
)

// formats is every output format of a report, in the order the CLI documents them.
var formats = []struct {
	name  string
	write func(*Report, io.Writer) error
}{
	{"table", (*Report).WriteTable},
	{"json", (*Report).WriteJSON},
	{"sarif", (*Report).WriteSARIF},
	{"junit", (*Report).WriteJUnit},
	{"github", (*Report).WriteGitHub},
	{"policyreport", (*Report).WritePolicyReport},
}

// Formats lists the output formats of a report, in the order the CLI documents them.
var Formats = func() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.name
	}
	return out
}()

// Write renders the report in the named format (one of Formats).
func (r *Report) Write(format string, w io.Writer) error {
	for _, f := range formats {
		if f.name == format {
			return f.write(r, w)
		}
	}
	return fmt.Errorf("unknown format %q, want one of %s", format, strings.Join(Formats, ", "))
}
