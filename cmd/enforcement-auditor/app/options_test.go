package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// valid is what the CLI's flag defaults give.
func valid() Options { return Options{Config: auditor.DefaultConfig()}.WithDefaults() }

func TestOptionsValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	cases := map[string]struct {
		change func(*Options)
		want   []string // substrings of the error; none: valid
	}{
		"the defaults":             {change: func(*Options) {}},
		"negative debounce":        {change: func(o *Options) { o.Debounce = -time.Second }, want: []string{"--debounce: -1s is not a positive duration"}},
		"max delay under debounce": {change: func(o *Options) { o.MaxDelay = 100 * time.Millisecond }, want: []string{"--max-delay: 100ms is shorter than --debounce 200ms"}},
		"zero resync":              {change: func(o *Options) { o.Resync = 0 }, want: []string{"--resync"}},
		"evidence keep -1": {change: func(o *Options) { o.Evidence = EvidenceOptions{Dir: t.TempDir(), Interval: time.Hour, Keep: -1} },
			want: []string{"--evidence-keep: -1"}},
		"evidence interval 0": {change: func(o *Options) { o.Evidence = EvidenceOptions{Dir: t.TempDir(), Keep: 3} },
			want: []string{"--evidence-interval: 0s is not a positive duration"}},
		"evidence dir is a file": {change: func(o *Options) { o.Evidence = EvidenceOptions{Dir: file, Interval: time.Hour, Keep: 3} },
			want: []string{"--evidence-dir: " + file + " is not a directory"}},
		"evidence dir to create": {change: func(o *Options) {
			o.Evidence = EvidenceOptions{Dir: filepath.Join(t.TempDir(), "new"), Interval: time.Hour, Keep: 3}
		}},
		"evidence dir under nothing": {change: func(o *Options) {
			o.Evidence = EvidenceOptions{Dir: filepath.Join(file, "sub"), Interval: time.Hour, Keep: 3}
		}, want: []string{"--evidence-dir"}},
		"evidence settings ignored without a dir": {change: func(o *Options) { o.Evidence = EvidenceOptions{Keep: -1} }},
		"TLS key without certificate":             {change: func(o *Options) { o.TLSKeyFile = "k.pem" }, want: []string{"--tls-cert-file and --tls-private-key-file go together"}},
		"leader election without namespace": {change: func(o *Options) {
			o.LeaderElection = &LeaderElection{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
		}, want: []string{"--leader-election-namespace"}},
		"renew deadline not under the lease": {change: func(o *Options) {
			o.LeaderElection = &LeaderElection{Namespace: "ea", LeaseDuration: 10 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
		}, want: []string{"--leader-election-renew-deadline: 10s must be shorter"}},
		"reports":         {change: func(o *Options) { o.Reports = &ReportsOptions{API: "openreports", QPS: 5, Burst: 10} }},
		"reports qps 0":   {change: func(o *Options) { o.Reports = &ReportsOptions{API: "openreports", Burst: 10} }, want: []string{"--reports-qps: 0: must be positive"}},
		"reports burst 0": {change: func(o *Options) { o.Reports = &ReportsOptions{API: "openreports", QPS: 1} }, want: []string{"--reports-burst: 0: must be at least 1"}},
		"metrics auth unknown": {change: func(o *Options) { o.InsecureServing, o.MetricsAuth = true, "basic" },
			want: []string{`--metrics-auth: "basic", want none or kubernetes`}},
		"metrics auth over HTTPS": {change: func(o *Options) { o.MetricsAuth = MetricsAuthKubernetes },
			want: []string{"--metrics-auth goes with --insecure-serving"}},
		"metrics auth over HTTP": {change: func(o *Options) { o.InsecureServing, o.MetricsAuth = true, MetricsAuthKubernetes }},
		"network probe without its namespace": {change: func(o *Options) { o.NetworkProbe = true },
			want: []string{"network probe: the auditor's own namespace is unknown"}},
		"network probe from a protected namespace": {change: func(o *Options) {
			o.NetworkProbe, o.PodNamespace = true, o.Config.SR1.ProtectedNamespaces[0]
		}, want: []string{"runs in protected namespace"}},
		"network probe zero interval": {change: func(o *Options) { o.NetworkProbe, o.PodNamespace, o.ProbeInterval = true, "ea", -1 },
			want: []string{"--probe-interval"}},
		"every problem at once": {change: func(o *Options) { o.Debounce, o.Resync = -1, -1 }, want: []string{"--debounce", "--resync"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := valid()
			tc.change(&o)
			err := o.Validate()
			if len(tc.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
