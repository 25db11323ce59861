package app

import (
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
)

// ReportsOptions configure --reports: the leader writes openreports.io or wgpolicyk8s.io
// reports, at most QPS writes a second (Burst at once), and every Resync (0: the
// writer's default) restores those someone else changed.
type ReportsOptions struct {
	API    policyreport.API
	QPS    float64
	Burst  int
	Resync time.Duration
}

func newReportWriter(o Options, rules []auditor.RuleMeta, isLeader func() bool) (*writer.Writer, error) {
	rc := live.ClientConfig(o.RESTConfig)
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, err
	}
	return writer.New(writer.Options{
		API: o.Reports.API, Dynamic: dyn, Discovery: disc, Rules: rules, IsLeader: isLeader,
		QPS: o.Reports.QPS, Burst: o.Reports.Burst, Resync: o.Reports.Resync, Logger: o.Logger.With("component", "reports"),
	}), nil
}
