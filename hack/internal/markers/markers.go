// Package markers rewrites the generated part of a document: what lies between a begin
// and an end marker (the README's rule catalogue, operate.md's RBAC table).
package markers

import (
	"fmt"
	"os"
	"strings"
)

// Replace returns doc with what lies between begin and end replaced by body.
func Replace(doc, begin, end, body string) (string, error) {
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("markers %q ... %q not found", strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

// Main rewrites the file named by the first argument (def without one) in place with
// body between the markers, and exits 1 naming the file when it cannot.
func Main(def, begin, end string, body func() string) {
	path := def
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	b, err := os.ReadFile(path)
	if err == nil {
		var out string
		if out, err = Replace(string(b), begin, end, body()); err == nil {
			err = os.WriteFile(path, []byte(out), 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(1)
	}
}
