package report

import (
	"io"

	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
)

// WithReportAPI sets the API -o policyreport writes (default openreports.io).
func (r *Report) WithReportAPI(api policyreport.API) *Report {
	r.reportAPI = api
	return r
}

// WritePolicyReport writes the findings as policy reports, one per namespace and one for
// the cluster, as a YAML stream `kubectl apply -f -` takes.
func (r *Report) WritePolicyReport(w io.Writer) error {
	api := r.reportAPI
	if api == "" {
		api = policyreport.APIs[0]
	}
	recs := make([]store.Record, len(r.Findings))
	for i, f := range r.Findings {
		recs[i] = store.Record{Finding: f}
	}
	return policyreport.WriteYAML(w, api, policyreport.Build(policyreport.Input{
		Findings: recs, Controls: r.Controls, Rules: r.rules, At: r.at, Judged: r.judged,
	}))
}
