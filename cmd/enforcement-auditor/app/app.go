// Package app is the composition root of `enforcement-auditor run`: from Options (the
// flags, parsed by the command) it builds the one clientset, the live source, the probes,
// the evaluation loop, the findings store, the HTTP serving chain and the exporters, and
// runs them under one errgroup. It holds wiring only: the components live in auditor/,
// probe/, serving/ and exporters/. Library packages never import it.
package app

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/client-go/kubernetes"

	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/auditor/version"
	"github.com/llm-platform/enforcement-auditor/exporters/evidence"
	otelexp "github.com/llm-platform/enforcement-auditor/exporters/otel"
	"github.com/llm-platform/enforcement-auditor/probe"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/serving"
)

// Run validates the options, builds the daemon and runs it until ctx ends, then flushes
// the OpenTelemetry events: the one entry point of `enforcement-auditor run`.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = o.WithDefaults()
	p, err := newParts(o)
	if err != nil {
		return err
	}
	v := version.Get()
	host := ""
	if o.RESTConfig != nil {
		host = o.RESTConfig.Host
	}
	o.Logger.Info("starting enforcement-auditor", "version", v.Version, "revision", v.Revision, "apiserver", host,
		"listen_address", o.ListenAddress, "config", o.Config)
	sink, err := otelexp.New(ctx, otelexp.Options{ServiceVersion: v.Version, Logger: o.Logger})
	if err != nil {
		return fmt.Errorf("OpenTelemetry: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
		defer cancel()
		if err := sink.Shutdown(sctx); err != nil {
			o.Logger.Error("flushing OpenTelemetry events", "err", err)
		}
	}()
	if sink.Enabled() {
		p.sinks, p.otelDropped = []store.Sink{sink}, sink.Dropped
	}
	d, err := newDaemon(o, p)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// parts are the components built from Options before the daemon: each is a setting
// turned into an object, and each can fail on what the setting names (a key file, a
// probe's client).
type parts struct {
	client kubernetes.Interface
	signer *evidence.Signer
	probes []probe.Prober
	auth   *serving.KubeAuth
	secure secureFunc
	// sinks receive the finding transitions the leader announces (OpenTelemetry events).
	sinks       []store.Sink
	otelDropped func() uint64
}

// newParts builds the one clientset, the signer, the probes and the serving chain.
func newParts(o Options) (parts, error) {
	p := parts{client: o.Client, probes: slices.Clone(o.Probes)}
	if p.client == nil {
		c, err := kubernetes.NewForConfig(live.ClientConfig(o.RESTConfig))
		if err != nil {
			return p, err
		}
		p.client = c
	}
	if o.Evidence.SigningKey != "" {
		s, err := evidence.LoadSigner(o.Evidence.SigningKey)
		if err != nil {
			return p, err
		}
		p.signer = s
	}
	if o.NetworkProbe {
		p.probes = append(p.probes, &probe.NetworkProbe{
			Prober: probe.NewNetworkProber(probe.NetworkProberOptions{Timeout: o.ProbeTimeout}),
			Config: o.Config, Logger: o.Logger.With("component", "network-probe"),
		})
	}
	if o.AdmissionProbe {
		ap, err := probe.NewAdmissionProbe(p.client, o.Config, o.Logger.With("component", "admission-probe"))
		if err != nil {
			return p, err
		}
		p.probes = append(p.probes, ap)
	}
	if o.ConfirmRBAC {
		p.probes = append(p.probes, probe.NewAccessReviewProbe(p.client, rules.AccessReviewCandidates(o.Config),
			o.ConfirmRBACPerMinute, o.ConfirmRBACMaxAge, o.Logger.With("component", "access-review")))
	}
	switch {
	case !o.InsecureServing:
		p.secure = secureServing(o)
	case o.MetricsAuth == MetricsAuthKubernetes:
		p.auth = &serving.KubeAuth{Client: p.client}
	}
	return p, nil
}

// New builds the daemon from o (defaults applied, not validated, no OpenTelemetry
// events: Run does both); nothing runs until Run.
func New(o Options) (*Daemon, error) {
	o = o.WithDefaults()
	p, err := newParts(o)
	if err != nil {
		return nil, err
	}
	return newDaemon(o, p)
}
