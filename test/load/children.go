package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/live"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	promexp "github.com/llm-platform/enforcement-auditor/exporters/prometheus"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

// bareInformer is the floor: plain client-go informers, no transform, for the kinds the
// auditor caches typed (pods, namespaces, nodes, ConfigMaps, NetworkPolicies,
// Deployments, DaemonSets, the four RBAC kinds), full ReplicaSets and Jobs (the auditor keeps their metadata
// only), and Workloads. It prints its RSS and live heap after a GC as JSON.
func bareInformer(kubeconfig string) error {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs := kubernetes.NewForConfigOrDie(cfg)
	f := informers.NewSharedInformerFactory(cs, 0)
	infs := []cache.SharedIndexInformer{
		f.Core().V1().Pods().Informer(), f.Core().V1().Namespaces().Informer(), f.Core().V1().Nodes().Informer(),
		f.Core().V1().ConfigMaps().Informer(), f.Networking().V1().NetworkPolicies().Informer(),
		f.Apps().V1().Deployments().Informer(), f.Apps().V1().DaemonSets().Informer(),
		f.Apps().V1().ReplicaSets().Informer(), f.Batch().V1().Jobs().Informer(),
		f.Rbac().V1().Roles().Informer(), f.Rbac().V1().ClusterRoles().Informer(),
		f.Rbac().V1().RoleBindings().Informer(), f.Rbac().V1().ClusterRoleBindings().Informer(),
	}
	df := dynamicinformer.NewDynamicSharedInformerFactory(dynamic.NewForConfigOrDie(cfg), 0)
	infs = append(infs, df.ForResource(synth.WorkloadGVR).Informer())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	df.Start(ctx.Done())
	for _, inf := range infs {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return errors.New("informers did not sync")
		}
	}
	objects := 0
	for _, inf := range infs {
		objects += len(inf.GetStore().ListKeys())
	}
	time.Sleep(5 * time.Second)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss, err := rssOf(os.Getpid())
	if err != nil {
		return err
	}
	runtime.KeepAlive(infs)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"RSS": rss, "Heap": m.HeapAlloc, "Objects": objects})
}

// runPipeline is the daemon's wiring (app.New: live source, runner, store,
// Prometheus collector, /metrics and /readyz) plus the two options the daemon does not
// pass yet: engine.Options.Incremental and live.Options.KeepPod (the rules' pods, auditor.PodsRead). Same
// defaults: max delay 2s, resync 5m; the debounce the harness gives both.
func runPipeline(kubeconfig, listen string, debounce time.Duration) error {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	conf := auditor.DefaultConfig()
	var runner *engine.Runner
	src, err := live.New(cfg, live.Options{
		OnChange: func() { runner.Trigger() },
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config:   conf,
		KeepPod:  auditor.PodsRead(rules.All(conf)),
	})
	if err != nil {
		return err
	}
	st := store.New()
	rs := rules.All(conf)
	metas := make([]auditor.RuleMeta, 0, len(rs))
	for _, r := range rs {
		metas = append(metas, r.Meta())
	}
	coll := promexp.New(promexp.Options{Store: st, Rules: metas, Sources: src, MaxFindingSeries: conf.Metrics.MaxFindingSeries})
	runner = engine.NewRunner(engine.Options{Rules: rs, Source: src, Incremental: src, Store: st, Observer: coll,
		Debounce: debounce, MaxDelay: 2 * time.Second, Periodic: 5 * time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), WaiverMaxDuration: conf.Waivers.MaxDuration.Duration})
	var ready atomic.Bool
	mux := http.NewServeMux()
	mux.Handle("/metrics", promexp.Handler(promexp.NewRegistry(coll)))
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return srv.Shutdown(context.Background())
	})
	g.Go(func() error { return src.Run(gctx) })
	g.Go(func() error {
		if err := src.WaitForSync(gctx); err != nil {
			return nil
		}
		runner.EvaluateNow()
		ready.Store(true)
		return runner.Run(gctx)
	})
	return g.Wait()
}
