package evidence

import (
	"net/http"
	"strings"
)

// Path is where Handler serves the latest document.
const Path = "/evidence"

// Handler serves the document latest returns as JSON at /evidence (GET and HEAD), in
// the form Marshal writes, so that a downloaded copy verifies. When latest fails (no
// evaluation yet) it answers 503 with the error.
func Handler(latest func() (*Document, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		doc, err := latest()
		if err == nil && doc == nil {
			err = errNoDocument
		}
		if err != nil {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "no evidence available: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		body, err := Marshal(doc)
		if err != nil {
			http.Error(w, "encoding evidence: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		if doc.Digest != "" {
			h.Set("ETag", `"`+strings.TrimPrefix(doc.Digest, digestPrefix)+`"`)
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

type noDocumentError struct{}

func (noDocumentError) Error() string { return "no document yet" }

var errNoDocument error = noDocumentError{}
