// Package docs carries the rules' runbooks (docs/rules/*.md, and the waiver rule's in
// telemetry-metrics.md) into the binary, so that `enforcement-auditor explain RULE`
// shows the section a rule's catalogue entry links to.
package docs

import (
	"embed"
	"strings"
)

//go:embed rules/*.md telemetry-metrics.md
var files embed.FS

// RuleSection returns the body of the `### <id>` section of the file (a path under docs/,
// "rules/sr1.md"): the lines after the heading up to the next heading of that level or
// above (outside code blocks), trimmed; ok is false when the file or the section does not exist.
func RuleSection(file, id string) (string, bool) {
	b, err := files.ReadFile(file)
	if err != nil {
		return "", false
	}
	var out []string
	in, fenced := false, false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if heading := headingLevel(line); heading > 0 && !fenced {
			if in && heading <= 3 {
				break
			}
			if heading == 3 && strings.TrimSpace(line[4:]) == id {
				in = true
				continue
			}
		}
		if in {
			out = append(out, line)
		}
	}
	if !in {
		return "", false
	}
	return strings.TrimSpace(strings.Join(out, "\n")), true
}

// headingLevel is the level of a Markdown ATX heading (### Title: 3), 0 for another line.
func headingLevel(line string) int {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n == len(line) || line[n] != ' ' {
		return 0
	}
	return n
}
