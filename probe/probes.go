package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Prober runs one kind of active probe. Probes are a source: they fill their own
// section of every snapshot as it is built (Annotate), and take their targets from a
// fresh snapshot of the informer caches, never from an evaluation's result.
type Prober interface {
	Name() string
	// Run probes once; targets come from snap, read from the caches just before.
	Run(ctx context.Context, snap *auditor.Snapshot)
	// Annotate copies the latest results into a snapshot being built.
	Annotate(snap *auditor.Snapshot)
}

// The daemon's probes.
var (
	_ Prober = (*NetworkProbe)(nil)
	_ Prober = (*AdmissionProbe)(nil)
)

// lastRun holds a probe's latest complete run: Run stores it while Annotate may be
// copying the previous one into a snapshot.
type lastRun[T any] struct {
	mu      sync.Mutex
	results []T
}

// store keeps a run's results and counts those that hit (reachable, admitted) for the log.
func (l *lastRun[T]) store(res []T, hit func(T) bool) int {
	l.mu.Lock()
	l.results = res
	l.mu.Unlock()
	n := 0
	for _, r := range res {
		if hit(r) {
			n++
		}
	}
	return n
}

func (l *lastRun[T]) load() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.results
}

// NetworkProbe adapts NetworkProber to the daemon: every run it takes the Services
// and pods of the protected namespaces from the snapshot it is given (the informer
// caches, read just before) and tries a TCP connection to each port from the auditor's
// own pod.
type NetworkProbe struct {
	Prober *NetworkProber
	Config auditor.Config
	Logger *slog.Logger

	last lastRun[auditor.NetworkProbeResult]
}

func (n *NetworkProbe) Name() string { return "network" }

func (n *NetworkProbe) Run(ctx context.Context, snap *auditor.Snapshot) {
	protected := map[string]bool{}
	for _, ns := range n.Config.Protected() {
		protected[ns] = true
	}
	var services []*corev1.Service
	for _, svc := range snap.Services {
		if protected[svc.Namespace] {
			services = append(services, svc)
		}
	}
	var pods []*corev1.Pod
	for _, ns := range n.Config.Protected() {
		pods = append(pods, snap.PodsIn(ns)...)
	}
	targets := append(NetworkTargets(services, n.Config.Protected()),
		HeadlessTargets(services, pods, n.Config.Protected())...)
	res := n.Prober.Probe(ctx, targets)
	if ctx.Err() != nil {
		return // interrupted: keep the previous complete run
	}
	reachable := n.last.store(res, func(r auditor.NetworkProbeResult) bool { return r.Reachable })
	n.Logger.Info("network probe done", "targets", len(res), "reachable", reachable)
}

func (n *NetworkProbe) Annotate(snap *auditor.Snapshot) { snap.NetworkProbes = n.last.load() }

// AdmissionProbe adapts AdmissionProber: the namespaces probed are the Kueue-managed
// ones of the latest snapshot.
type AdmissionProbe struct {
	Prober *AdmissionProber
	Logger *slog.Logger

	last lastRun[auditor.AdmissionProbeResult]

	mu     sync.Mutex
	latest *auditor.Snapshot // the namespaces to probe come from it
}

// ManagedNamespaces returns the Kueue-managed namespaces of a snapshot (Config.KueueManaged)
// that can still admit a pod: terminating ones left out, sorted.
func ManagedNamespaces(cfg auditor.Config, snap *auditor.Snapshot) []string {
	var out []string
	for _, ns := range cfg.KueueManagedNamespaces(snap.Namespaces) {
		if !auditor.Terminating(ns) { // a pod cannot be created in a terminating namespace
			out = append(out, ns.Name)
		}
	}
	return out
}

func (a *AdmissionProbe) Name() string { return "admission" }

func (a *AdmissionProbe) Run(ctx context.Context, snap *auditor.Snapshot) {
	a.mu.Lock()
	a.latest = snap
	a.mu.Unlock()
	res, err := a.Prober.Probe(ctx)
	if err != nil || ctx.Err() != nil {
		if err != nil {
			a.Logger.Warn("admission probe failed", "err", err)
		}
		return
	}
	admitted := a.last.store(res, func(r auditor.AdmissionProbeResult) bool { return r.Admitted })
	a.Logger.Info("admission probe done", "namespaces", len(res), "admitted", admitted)
}

func (a *AdmissionProbe) Annotate(snap *auditor.Snapshot) { snap.AdmissionProbes = a.last.load() }

// NewAdmissionProbe builds the adapter; namespaces come from the latest snapshot, and so
// do the ValidatingAdmissionPolicies and bindings its guard check reads (guardCheck).
func NewAdmissionProbe(client kubernetes.Interface, cfg auditor.Config, logger *slog.Logger) (*AdmissionProbe, error) {
	a := &AdmissionProbe{Logger: logger}
	p, err := NewAdmissionProber(AdmissionProberOptions{
		Client: client,
		Guard:  a.guardCheck(client),
		Namespaces: func(context.Context) ([]string, error) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.latest == nil {
				return nil, nil
			}
			return ManagedNamespaces(cfg, a.latest), nil
		},
		GPUResource:  corev1.ResourceName(firstConcreteGPU(cfg.SR2.GPUResources)),
		GatePolicies: cfg.SR2.GatePolicyNames,
	})
	if err != nil {
		return nil, err
	}
	a.Prober = p
	return a, nil
}

// guardCheck returns the prober's start-of-run check that the guard limiting the
// auditor's pod creates to dry runs is in place (CheckGuard) in the latest
// snapshot. The auditor's identity is what the API server says it is (a
// SelfSubjectReview, asked until it answers): the user name the guard must match, with
// no flag or token parsing to get wrong. A user that is not a ServiceAccount (a
// kubeconfig user running the auditor outside the cluster) holds no grant of the probes
// component: the check is skipped, with a warning.
func (a *AdmissionProbe) guardCheck(client kubernetes.Interface) func(context.Context) error {
	var (
		mu       sync.Mutex // runs do not overlap; this only keeps the race detector sure
		username string
		warned   bool
	)
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if username == "" {
			r, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("cannot tell which user the auditor runs as (SelfSubjectReview: %w), so not whether its guard matches it", err)
			}
			username = r.Status.UserInfo.Username
		}
		if _, _, ok := ParseServiceAccountUsername(username); !ok {
			if !warned {
				a.Logger.Warn("the auditor does not run as a ServiceAccount: not checking for its pod-create guard", "user", username)
				warned = true
			}
			return nil
		}
		a.mu.Lock()
		snap := a.latest
		a.mu.Unlock()
		if snap == nil {
			return errors.New("no snapshot yet to look for the guard in")
		}
		if err := CheckGuard(username, snap.ValidatingAdmissionPolicies, snap.ValidatingAdmissionBindings); err != nil {
			a.Logger.Warn("admission probe refused: its guard is missing", "err", err)
			return err
		}
		return nil
	}
}

func firstConcreteGPU(rs []string) string {
	for _, r := range rs {
		if r != "" && r[len(r)-1] != '*' {
			return r
		}
	}
	return "nvidia.com/gpu"
}
