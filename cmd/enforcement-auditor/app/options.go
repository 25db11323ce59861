package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Validate checks every setting before anything starts, naming the flag that sets it:
// a daemon that starts with a setting it cannot honour (a negative debounce, an evidence
// directory that is a file) only says so later, in its logs, once per cycle.
func (o *Options) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	positive := func(flag string, d time.Duration) {
		if d <= 0 {
			bad(flag, "%s is not a positive duration", d)
		}
	}
	positive("debounce", o.Debounce)
	positive("max-delay", o.MaxDelay)
	positive("resync", o.Resync)
	positive("discovery-interval", o.DiscoveryInterval)
	positive("shutdown-timeout", o.ShutdownTimeout)
	if o.Debounce > 0 && o.MaxDelay > 0 && o.MaxDelay < o.Debounce {
		bad("max-delay", "%s is shorter than --debounce %s", o.MaxDelay, o.Debounce)
	}
	if len(o.Probes) > 0 {
		positive("probe-interval", o.ProbeInterval)
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	if le := o.LeaderElection; le != nil {
		if le.Namespace == "" {
			bad("leader-election-namespace", "leader election needs a namespace (or $POD_NAMESPACE)")
		}
		positive("leader-election-lease-duration", le.LeaseDuration)
		positive("leader-election-renew-deadline", le.RenewDeadline)
		positive("leader-election-retry-period", le.RetryPeriod)
		if le.RenewDeadline >= le.LeaseDuration && le.LeaseDuration > 0 {
			bad("leader-election-renew-deadline", "%s must be shorter than --leader-election-lease-duration %s", le.RenewDeadline, le.LeaseDuration)
		}
		if le.RetryPeriod >= le.RenewDeadline && le.RenewDeadline > 0 {
			bad("leader-election-retry-period", "%s must be shorter than --leader-election-renew-deadline %s", le.RetryPeriod, le.RenewDeadline)
		}
	}
	if r := o.Reports; r != nil {
		if r.QPS <= 0 {
			bad("reports-qps", "%v: must be positive", r.QPS)
		}
		if r.Burst < 1 {
			bad("reports-burst", "%d: must be at least 1", r.Burst)
		}
		if r.Resync < 0 {
			bad("reports-resync", "%s is not a positive duration", r.Resync)
		}
	}
	if ev := o.Evidence; ev.Dir != "" {
		positive("evidence-interval", ev.Interval)
		if ev.Keep < 1 {
			bad("evidence-keep", "%d: keep at least one document", ev.Keep)
		}
		if err := checkWritableDir(ev.Dir); err != nil {
			bad("evidence-dir", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// checkWritableDir accepts an existing directory, or a path whose parent is one (the
// writer creates it).
func checkWritableDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if pst, perr := os.Stat(parent); perr != nil || !pst.IsDir() {
		return fmt.Errorf("%s does not exist and %s is not a directory to create it in", dir, parent)
	}
	return nil
}

// Run validates the options, builds the daemon and runs it until ctx ends: the one
// entry point of `enforcement-auditor run`.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	d, err := New(o)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}
