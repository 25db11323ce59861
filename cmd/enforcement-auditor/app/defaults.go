package app

import (
	"log/slog"
	"time"

	"github.com/llm-platform/enforcement-auditor/exporters/policyreport/writer"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// The defaults of `enforcement-auditor run`: the flags (cmd/enforcement-auditor/run.go)
// and Options (zero values) both take them from here, and a test of the command checks
// that the flags' defaults are Options' defaults.
const (
	DefaultListenAddress     = ":8080"
	DefaultDebounce          = 200 * time.Millisecond
	DefaultMaxDelay          = 2 * time.Second
	DefaultResync            = 5 * time.Minute
	DefaultDiscoveryInterval = 15 * time.Second
	DefaultShutdownTimeout   = 10 * time.Second

	DefaultLeaderElectionID = "enforcement-auditor"
	DefaultLeaseDuration    = 15 * time.Second
	DefaultRenewDeadline    = 10 * time.Second
	DefaultRetryPeriod      = 2 * time.Second

	DefaultMetricsAuth = MetricsAuthNone

	DefaultProbeInterval = 5 * time.Minute
	DefaultProbeTimeout  = 3 * time.Second

	DefaultConfirmRBACPerMinute = 600
	DefaultConfirmRBACMaxAge    = 10 * time.Minute

	DefaultEvidenceInterval = time.Hour
	DefaultEvidenceKeep     = 48

	DefaultReportsQPS    = 5
	DefaultReportsBurst  = 10
	DefaultReportsResync = writer.DefaultResync
)

// Values of Options.MetricsAuth (--metrics-auth, with --insecure-serving).
const (
	// MetricsAuthNone serves /metrics and /evidence to whoever reaches the port.
	MetricsAuthNone = serving.MetricsAuthNone
	// MetricsAuthKubernetes asks the API server (TokenReview, SubjectAccessReview for get
	// on the path), without TLS.
	MetricsAuthKubernetes = serving.MetricsAuthKubernetes
)

// WithDefaults returns o with every unset (zero) setting at its default: what New and
// Run use. Settings of an absent section (no LeaderElection, no Reports, no evidence
// directory) stay unset.
func (o Options) WithDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ListenAddress == "" {
		o.ListenAddress = DefaultListenAddress
	}
	def(&o.Debounce, DefaultDebounce)
	def(&o.MaxDelay, DefaultMaxDelay)
	def(&o.Resync, DefaultResync)
	def(&o.DiscoveryInterval, DefaultDiscoveryInterval)
	def(&o.ShutdownTimeout, DefaultShutdownTimeout)
	if o.MetricsAuth == "" {
		o.MetricsAuth = DefaultMetricsAuth
	}
	o.ServerLimits = o.ServerLimits.WithDefaults()
	def(&o.ProbeInterval, DefaultProbeInterval)
	def(&o.ProbeTimeout, DefaultProbeTimeout)
	if o.ConfirmRBACPerMinute == 0 {
		o.ConfirmRBACPerMinute = DefaultConfirmRBACPerMinute
	}
	def(&o.ConfirmRBACMaxAge, DefaultConfirmRBACMaxAge)
	if le := o.LeaderElection; le != nil {
		c := *le
		if c.Name == "" {
			c.Name = DefaultLeaderElectionID
		}
		def(&c.LeaseDuration, DefaultLeaseDuration)
		def(&c.RenewDeadline, DefaultRenewDeadline)
		def(&c.RetryPeriod, DefaultRetryPeriod)
		o.LeaderElection = &c
	}
	def(&o.Evidence.Interval, DefaultEvidenceInterval)
	if o.Evidence.Keep == 0 {
		o.Evidence.Keep = DefaultEvidenceKeep
	}
	if r := o.Reports; r != nil {
		c := *r
		if c.QPS == 0 {
			c.QPS = DefaultReportsQPS
		}
		if c.Burst == 0 {
			c.Burst = DefaultReportsBurst
		}
		def(&c.Resync, DefaultReportsResync)
		o.Reports = &c
	}
	return o
}
