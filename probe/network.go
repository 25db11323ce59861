// Package probe holds the auditor's active checks: instead of inferring enforcement from
// objects, it tries what an untrusted client would try and reports what happened. The
// results enter the Snapshot; rules turn them into findings.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// NetworkTarget is one address to try in a protected namespace.
type NetworkTarget struct {
	Namespace string
	// Target is the object behind the address (a Service, or a Pod for headless Services).
	Target  auditor.ObjectRef
	Address string // host:port
	Port    int32
}

// ContextDialer opens connections; *net.Dialer satisfies it, tests substitute their own.
type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// NetworkProberOptions configures a NetworkProber; zero values take the defaults.
type NetworkProberOptions struct {
	// Timeout bounds one connection attempt (default 3s).
	Timeout time.Duration
	// Concurrency is how many attempts run at once (default 4).
	Concurrency int
	// RatePerSecond caps new attempts per second across workers (default 10), so a probe
	// run never looks like a port scan to the network or the targets.
	RatePerSecond float64
	// Dialer opens the connections (default a net.Dialer).
	Dialer ContextDialer
	// Now stamps results (default time.Now).
	Now func() time.Time
}

// NetworkProber tries TCP connections to protected targets from the auditor's own pod.
type NetworkProber struct {
	opts    NetworkProberOptions
	limiter *rate.Limiter
}

// NewNetworkProber applies the defaults to opts.
func NewNetworkProber(opts NetworkProberOptions) *NetworkProber {
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.RatePerSecond <= 0 {
		opts.RatePerSecond = 10
	}
	if opts.Dialer == nil {
		opts.Dialer = &net.Dialer{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &NetworkProber{opts: opts, limiter: rate.NewLimiter(rate.Limit(opts.RatePerSecond), 1)}
}

// Probe tries every target once and returns one result per target, in target order.
// Targets not tried because ctx ended are reported as errors, never as unreachable.
func (p *NetworkProber) Probe(ctx context.Context, targets []NetworkTarget) []auditor.NetworkProbeResult {
	results := make([]auditor.NetworkProbeResult, len(targets))
	jobs := make(chan int)
	var wg sync.WaitGroup
	workers := min(p.opts.Concurrency, len(targets))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = p.probeOne(ctx, targets[i])
			}
		}()
	}
	for i := range targets {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

func (p *NetworkProber) probeOne(ctx context.Context, t NetworkTarget) auditor.NetworkProbeResult {
	res := auditor.NetworkProbeResult{Namespace: t.Namespace, Target: t.Target, Address: t.Address, Port: t.Port}
	if err := p.limiter.Wait(ctx); err != nil {
		res.Outcome, res.At = "error: probe run ended before this target: "+cause(ctx, err).Error(), p.opts.Now()
		return res
	}
	dctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	conn, err := p.opts.Dialer.DialContext(dctx, "tcp", t.Address)
	res.At = p.opts.Now()
	if err == nil {
		_ = conn.Close()
		res.Reachable, res.Outcome = true, auditor.OutcomeConnected
		return res
	}
	res.Outcome = classify(ctx, err)
	return res
}

// classify maps a dial error to an outcome. A timeout of the attempt itself is a
// timeout; the whole run being cancelled is an error (it proves nothing).
func classify(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return auditor.OutcomeRefused
	case ctx.Err() != nil:
		return "error: probe run ended: " + cause(ctx, ctx.Err()).Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT), isTimeout(err):
		return auditor.OutcomeTimeout
	}
	return "error: " + err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return err
}

// NetworkTargets lists every TCP port of every Service in the protected namespaces at
// its cluster IPs, sorted by namespace, name and port. Headless Services (clusterIP
// None) have no address of their own and are skipped (see HeadlessTargets);
// ExternalName Services point outside the namespace and are skipped too.
func NetworkTargets(services []*corev1.Service, protected []string) []NetworkTarget {
	var out []NetworkTarget
	for _, svc := range services {
		if svc == nil || !slices.Contains(protected, svc.Namespace) || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		ref := auditor.ObjectRef{APIVersion: "v1", Kind: "Service", Namespace: svc.Namespace, Name: svc.Name}
		for _, ip := range ips {
			if ip == corev1.ClusterIPNone || net.ParseIP(ip) == nil {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				if !isTCP(sp.Protocol) || sp.Port <= 0 {
					continue
				}
				out = append(out, NetworkTarget{Namespace: svc.Namespace, Target: ref, Address: net.JoinHostPort(ip, strconv.Itoa(int(sp.Port))), Port: sp.Port})
			}
		}
	}
	sortTargets(out)
	return out
}

// HeadlessTargets lists, for headless Services in the protected namespaces, the TCP
// target ports of the running pods they select, at the pods' IPs (named target ports
// are resolved against the pods' container ports).
func HeadlessTargets(services []*corev1.Service, pods []*corev1.Pod, protected []string) []NetworkTarget {
	var out []NetworkTarget
	for _, svc := range services {
		if svc == nil || !slices.Contains(protected, svc.Namespace) || svc.Spec.ClusterIP != corev1.ClusterIPNone || len(svc.Spec.Selector) == 0 {
			continue
		}
		for _, pod := range pods {
			if pod == nil || pod.Namespace != svc.Namespace || pod.Status.Phase != corev1.PodRunning || net.ParseIP(pod.Status.PodIP) == nil || !selects(svc.Spec.Selector, pod.Labels) {
				continue
			}
			ref := auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name}
			for _, sp := range svc.Spec.Ports {
				if !isTCP(sp.Protocol) {
					continue
				}
				port := targetPort(sp, pod)
				if port <= 0 {
					continue
				}
				out = append(out, NetworkTarget{Namespace: pod.Namespace, Target: ref, Address: net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port))), Port: port})
			}
		}
	}
	sortTargets(out)
	return out
}

func isTCP(p corev1.Protocol) bool { return p == "" || p == corev1.ProtocolTCP }

func selects(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func targetPort(sp corev1.ServicePort, pod *corev1.Pod) int32 {
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == sp.TargetPort.StrVal && isTCP(cp.Protocol) {
					return cp.ContainerPort
				}
			}
		}
		return 0
	case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0:
		return sp.TargetPort.IntVal
	}
	return sp.Port
}

func sortTargets(ts []NetworkTarget) {
	slices.SortFunc(ts, func(a, b NetworkTarget) int {
		for _, c := range [][2]string{{a.Namespace, b.Namespace}, {a.Target.Name, b.Target.Name}, {a.Address, b.Address}} {
			if c[0] != c[1] {
				if c[0] < c[1] {
					return -1
				}
				return 1
			}
		}
		return int(a.Port) - int(b.Port)
	})
}

// ValidateProbeNamespace refuses to probe from a namespace whose pods may legitimately
// reach the protected namespaces: a connection from there would prove nothing.
func ValidateProbeNamespace(own string, cfg auditor.Config) error {
	if own == "" {
		return errors.New("network probe: the auditor's own namespace is unknown (set POD_NAMESPACE from the downward API)")
	}
	if cfg.IsProtected(own) {
		return fmt.Errorf("network probe: the auditor runs in protected namespace %q; probes must come from an untrusted namespace", own)
	}
	if cfg.IsTrusted(own) {
		return fmt.Errorf("network probe: the auditor runs in trusted namespace %q, which may reach the protected namespaces; run it in a namespace outside sr1.trustedNamespaces", own)
	}
	return nil
}
