package evidence

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	doc := mustBuild(t, fixture())
	ok := func() (*Document, error) { return doc, nil }
	cases := map[string]struct {
		latest   func() (*Document, error)
		method   string
		path     string
		status   int
		verifies bool
		body     string
	}{
		"GET serves the verifiable document": {latest: ok, method: http.MethodGet, path: "/evidence", status: 200, verifies: true},
		"HEAD has no body":                   {latest: ok, method: http.MethodHead, path: "/evidence", status: 200},
		"POST is not allowed":                {latest: ok, method: http.MethodPost, path: "/evidence", status: 405},
		"other paths are not found":          {latest: ok, method: http.MethodGet, path: "/evidence/x", status: 404},
		"no evaluation yet": {latest: func() (*Document, error) { return nil, errors.New("evidence: no evaluation yet") },
			method: http.MethodGet, path: "/evidence", status: 503, body: "no evaluation yet"},
		"nil document": {latest: func() (*Document, error) { return nil, nil }, method: http.MethodGet, path: "/evidence", status: 503},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(Handler(tc.latest))
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode)
			if tc.body != "" {
				assert.Contains(t, string(body), tc.body)
			}
			if tc.status == 200 {
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				assert.Equal(t, `"`+strings.TrimPrefix(doc.Digest, "sha256:")+`"`, resp.Header.Get("ETag"))
			}
			if tc.method == http.MethodHead {
				assert.Empty(t, body)
			}
			if tc.verifies {
				require.NoError(t, Verify(body, nil))
			}
		})
	}
}
