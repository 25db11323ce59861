package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection configures --leader-elect: every replica keeps its caches warm and serves
// metrics; only the leader emits events, writes evidence and runs active probes.
type LeaderElection struct {
	Namespace     string
	Name          string
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

// campaign runs leader election until ctx ends, re-campaigning after a lost lease.
func (d *Daemon) campaign(ctx context.Context) error {
	le := d.opts.LeaderElection
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s_%s", host, uuid.NewString())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, le.Namespace, le.Name,
		d.Source.Client().CoreV1(), d.Source.Client().CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	log := d.opts.Logger.With("component", "leader-election", "identity", id)
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   le.LeaseDuration,
			RenewDeadline:   le.RenewDeadline,
			RetryPeriod:     le.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            le.Name,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) {
					log.Info("became leader: emitting events, writing evidence and reports, running probes")
					d.emitter.LeadershipGained()
					if d.reports != nil {
						d.reports.LeadershipChanged()
					}
					d.leader.Store(true)
					d.Runner.Trigger()
				},
				OnStoppedLeading: func() {
					d.leader.Store(false)
					if d.reports != nil {
						d.reports.LeadershipChanged()
					}
					log.Info("stopped leading")
				},
				OnNewLeader: func(identity string) {
					if identity != id {
						log.Info("following", "leader", identity)
					}
				},
			},
		})
	}
	return nil
}
