// Package live is the in-cluster source: client-go shared informers (resync 0, stripped
// by a transform) for core kinds, and dynamic or metadata-only informers for CRD-backed
// kinds, started when discovery shows the resource and stopped when it goes.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Options configure the live source.
type Options struct {
	// OnChange is called (from informer goroutines) whenever a watched object changes or a
	// resource appears or disappears. It must not block.
	OnChange func()
	Logger   *slog.Logger
	// DiscoveryInterval is how often discovery is polled for CRDs appearing or going
	// away; it doubles as the apiserver liveness check behind Stale. Default 15s.
	DiscoveryInterval time.Duration
	// Config says where narrowed resources live (see auditor.Narrow: Kyverno's
	// health Lease in SR2.KyvernoNamespace).
	Config auditor.Config
	// KeepPod, when set, decides which pods the cache keeps; the others are kept as
	// small stubs that snapshots do not show and whose events trigger nothing. The app
	// passes the union of the configured rules' pod predicates (auditor.RuleMeta.Pods):
	// at 100k pods, most of them CPU pods, it divides the cache several times. Nil
	// keeps every pod.
	KeepPod func(*corev1.Pod) bool
}

// Source implements engine.Source from informer caches.
type Source struct {
	opts    Options
	client  kubernetes.Interface
	dyn     dynamic.Interface
	meta    metadata.Interface
	disc    discovery.DiscoveryInterface
	factory informers.SharedInformerFactory
	// narrowed are the factories of resources watched in part (auditor.Narrow), by ID.
	narrowed map[string]informers.SharedInformerFactory
	// projection is what every informer's transform applies (see transformFor).
	projection *auditor.Projection

	mu        sync.RWMutex
	resources map[string]*watched // by resource ID
	// stale: the apiserver did not answer the last discovery. recovering: it answered
	// again after an outage, and some informer's watch has not resumed yet (see streams;
	// nil with fake clients, which have no transport: then recovery ends with discovery).
	stale      atomic.Bool
	recovering atomic.Bool
	streams    *streams
	started    atomic.Bool
	changes    changeLog
	released   sync.Once
	// workers counts the goroutines Run starts besides the factories' (custom
	// informers and their sync watchers): Run returns after all of them.
	workers sync.WaitGroup
}

// watched is one running informer and what we know about its health.
type watched struct {
	info     auditor.ResourceInfo
	gvr      schema.GroupVersionResource
	informer cache.SharedIndexInformer
	stop     chan struct{} // custom informers only; core ones stop with the source

	mu       sync.Mutex
	errState auditor.AvailabilityState // "" when healthy
	errMsg   string
	errors   uint64
	// answered: the last error is the apiserver's own answer (a status), not a
	// connection failure, so the resource's state is known.
	answered bool
}

func (w *watched) setError(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errors++
	var st apierrors.APIStatus
	w.answered = errors.As(err, &st)
	if apierrors.IsForbidden(err) {
		w.errState, w.errMsg = auditor.Forbidden, err.Error()
	} else {
		w.errState, w.errMsg = auditor.Failing, err.Error()
	}
}

func (w *watched) clearError() {
	w.mu.Lock()
	w.errState, w.errMsg = "", ""
	w.mu.Unlock()
}

func (w *watched) availability() auditor.Availability {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.errState != "" {
		return auditor.Availability{State: w.errState, Message: w.errMsg}
	}
	if !w.informer.HasSynced() {
		return auditor.Availability{State: auditor.Pending, Message: "cache not synced yet"}
	}
	return auditor.Availability{State: auditor.Synced}
}

// ClientConfig is cfg with the auditor's user agent and client-side rate limits, and
// protobuf for built-in kinds: a typed list decodes with a fraction of JSON's garbage
// (the dynamic client keeps asking for JSON, which custom resources need).
func ClientConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	cfg.UserAgent = "enforcement-auditor"
	return cfg
}

// New builds the source from a REST config. Nothing runs until Run.
func New(cfg *rest.Config, o Options) (*Source, error) {
	client, err := kubernetes.NewForConfig(ClientConfig(cfg))
	if err != nil {
		return nil, err
	}
	return NewWithClient(cfg, client, o)
}

// NewWithClient builds the source around an existing typed clientset (shared with the
// rest of the process, returned by Client); the informers' clients come from cfg, with
// a transport that sees their watch streams open and close (see streams).
func NewWithClient(cfg *rest.Config, client kubernetes.Interface, o Options) (*Source, error) {
	cfg = ClientConfig(cfg)
	st := newStreams()
	cfg.Wrap(st.wrap)
	watching, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := newSource(client, watching, dyn, meta, o)
	s.streams = st
	st.opened = func() {
		if s.recovering.Load() {
			time.AfterFunc(resumeGrace, s.checkResumed)
		}
	}
	return s, nil
}

// NewForClients builds the source from existing clients (fake clientsets in tests).
func NewForClients(client kubernetes.Interface, dyn dynamic.Interface, meta metadata.Interface, o Options) *Source {
	return newSource(client, client, dyn, meta, o)
}

// newSource builds the source; watching is the typed client the informers use.
func newSource(client, watching kubernetes.Interface, dyn dynamic.Interface, meta metadata.Interface, o Options) *Source {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DiscoveryInterval <= 0 {
		o.DiscoveryInterval = 15 * time.Second
	}
	if o.OnChange == nil {
		o.OnChange = func() {}
	}
	if o.Config.SR2.KyvernoNamespace == "" {
		o.Config.SR2.KyvernoNamespace = auditor.DefaultConfig().SR2.KyvernoNamespace
	}
	s := &Source{
		opts: o, client: client, dyn: dyn, meta: meta, disc: client.Discovery(),
		factory:    informers.NewSharedInformerFactoryWithOptions(watching, 0),
		narrowed:   map[string]informers.SharedInformerFactory{},
		projection: auditor.NewProjection(o.Config, o.KeepPod),
		resources:  map[string]*watched{},
	}
	for _, r := range auditor.Kinds {
		if n := r.Narrow; n != nil && r.Typed() {
			// One object only (Kyverno's health Lease: node leases change every 10s and
			// would wake the engine).
			s.narrowed[r.ID] = informers.NewSharedInformerFactoryWithOptions(watching, 0,
				informers.WithNamespace(n.Namespace(o.Config)),
				informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
					lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", n.Name).String()
				}))
		}
	}
	return s
}

// Client returns the typed client (used by the active probes).
func (s *Source) Client() kubernetes.Interface { return s.client }

func (s *Source) handler(w *watched) cache.ResourceEventHandler {
	changed := func(obj any) {
		w.clearError()
		s.changes.object(w.info.ID, namespaceOf(obj))
		s.opts.OnChange()
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if !isStub(obj) {
				changed(obj)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(metav1.Object)
			n, ok2 := newObj.(metav1.Object)
			if ok1 && ok2 && o.GetResourceVersion() == n.GetResourceVersion() || isStub(oldObj) && isStub(newObj) {
				return
			}
			changed(newObj)
		},
		DeleteFunc: func(obj any) {
			if !isStub(obj) {
				changed(obj)
			}
		},
	}
}

// namespaceOf returns an event object's namespace, tombstones included.
func namespaceOf(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		ns, _, _ := cache.SplitMetaNamespaceKey(t.Key)
		return ns
	}
	if k, ok := obj.(podStub); ok {
		ns, _, _ := cache.SplitMetaNamespaceKey(string(k))
		return ns
	}
	if m, ok := obj.(metav1.Object); ok {
		return m.GetNamespace()
	}
	return ""
}

// notifyFull records a change that is not an object event and wakes the engine.
func (s *Source) notifyFull(reason string) {
	s.changes.full(reason)
	s.opts.OnChange()
}

func (s *Source) register(info auditor.ResourceInfo, gvr schema.GroupVersionResource, inf cache.SharedIndexInformer, stop chan struct{}) (*watched, error) {
	w := &watched{info: info, gvr: gvr, informer: inf, stop: stop}
	if err := inf.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		w.setError(err)
		s.opts.Logger.Warn("list/watch failed", "resource", info.ID, "err", err)
		s.notifyFull(info.ID + " list/watch failed")
	}); err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(s.handler(w)); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.resources[info.ID] = w
	s.mu.Unlock()
	return w, nil
}

// Run registers the informers of the built-in kinds, runs discovery (which starts and
// stops the informers of CRD-backed kinds) and blocks until ctx ends. Caches fill in the
// background (see Synced). When it returns, every goroutine it started has ended and
// the informer factories are shut down.
func (s *Source) Run(ctx context.Context) error {
	defer s.workers.Wait()
	// The pod informer's namespace index leaves pod stubs out (see podStub); registered
	// before ForResource, which then returns it.
	s.factory.InformerFor(&corev1.Pod{}, func(c kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewPodInformer(c, metav1.NamespaceAll, resync, cache.Indexers{cache.NamespaceIndex: namespaceIndex})
	})
	for _, r := range auditor.Kinds {
		if !r.Typed() {
			continue
		}
		f := s.factory
		if nf, ok := s.narrowed[r.ID]; ok {
			f = nf
		}
		gi, err := f.ForResource(r.GroupVersionResource())
		if err != nil {
			return fmt.Errorf("informer for %s: %w", r.ID, err)
		}
		if err := gi.Informer().SetTransform(transformFor(r, s.projection)); err != nil {
			return fmt.Errorf("informer transform for %s: %w", r.ID, err)
		}
		if _, err := s.register(r, r.GroupVersionResource(), gi.Informer(), nil); err != nil {
			return err
		}
	}
	factories := append([]informers.SharedInformerFactory{s.factory}, slices.Collect(maps.Values(s.narrowed))...)
	for _, f := range factories {
		f.Start(ctx.Done())
		defer f.Shutdown()
	}
	// The first discovery registers the CRD kinds' informers before the source counts as
	// started: Synced (and so WaitForSync) must not see only the built-in kinds.
	s.discover(ctx)
	s.started.Store(true)
	s.discoveryLoop(ctx)
	return nil
}

func (s *Source) discoveryLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.DiscoveryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.mu.Lock()
			for id, w := range s.resources {
				if w.stop != nil {
					close(w.stop)
					delete(s.resources, id)
				}
			}
			s.mu.Unlock()
			return
		case <-t.C:
			s.discover(ctx)
			s.recheckErrors(ctx)
			s.checkResumed()
		}
	}
}

// discover starts informers for resources that are served and not watched yet, and
// stops those whose resource went away (a CRD uninstalled).
func (s *Source) discover(ctx context.Context) {
	// A cheap liveness check first, without client-go's retries (ten, a second apart, on a
	// reset connection) and bounded by the discovery interval, so staleness shows fast.
	var err error
	if rc := s.disc.RESTClient(); rc != nil { // nil for fake discovery in tests
		lctx, cancel := context.WithTimeout(ctx, min(s.opts.DiscoveryInterval, 5*time.Second)+time.Second)
		err = rc.Get().AbsPath("/version").MaxRetries(0).Do(lctx).Error()
		cancel()
	}
	var lists []*metav1.APIResourceList
	if err == nil {
		_, lists, err = s.disc.ServerGroupsAndResources()
	}
	if err != nil && len(lists) == 0 {
		if !s.stale.Swap(true) {
			if s.streams != nil {
				s.recovering.Store(true)
			}
			s.opts.Logger.Error("apiserver unreachable; serving the last known findings as stale", "err", err)
			s.notifyFull("apiserver unreachable")
		}
		return
	}
	if err != nil {
		// Some aggregated group failed (e.g. metrics-server down): use what answered.
		s.opts.Logger.Debug("partial discovery", "err", err)
	}
	if s.stale.Swap(false) {
		if s.recovering.Load() {
			s.opts.Logger.Info("apiserver reachable again; stale until every informer's watch has resumed")
			s.checkResumed()
		} else {
			s.opts.Logger.Info("apiserver reachable again")
			s.notifyFull("apiserver reachable again")
		}
	}
	served := map[schema.GroupResource][]string{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			gr := schema.GroupResource{Group: gv.Group, Resource: r.Name}
			served[gr] = append(served[gr], gv.Version)
		}
	}
	for _, r := range auditor.Kinds {
		if r.Typed() {
			continue // built-in kinds are always served
		}
		version := pickVersion(r.Versions, served[r.GroupResource()])
		s.mu.RLock()
		w, running := s.resources[r.ID]
		s.mu.RUnlock()
		switch {
		case version != "" && !running:
			s.startCustom(ctx, r, version)
		case version != "" && running && w.stop != nil && w.gvr.Version != version:
			// Kueue v0.15 to v0.16 serves v1beta2 in place: the running informer would
			// keep reading the old version until it is no longer served.
			s.opts.Logger.Info("preferred served version changed; restarting its informer", "resource", r.ID, "from", w.gvr.Version, "to", version)
			close(w.stop)
			s.mu.Lock()
			delete(s.resources, r.ID)
			s.mu.Unlock()
			s.startCustom(ctx, r, version)
		case version == "" && running && w.stop != nil:
			s.opts.Logger.Info("resource no longer served; stopping its informer", "resource", r.ID)
			close(w.stop)
			s.mu.Lock()
			delete(s.resources, r.ID)
			s.mu.Unlock()
			s.notifyFull(r.ID + " no longer served")
		}
	}
}

func pickVersion(preferred, served []string) string {
	for _, p := range preferred {
		for _, v := range served {
			if p == v {
				return p
			}
		}
	}
	return ""
}

func (s *Source) startCustom(ctx context.Context, r auditor.ResourceInfo, version string) {
	gvr := schema.GroupVersionResource{Group: r.Group, Version: version, Resource: r.Resource}
	var inf cache.SharedIndexInformer
	indexers := cache.Indexers{}
	if r.Namespaced {
		// Partial snapshots read one namespace's objects through this index.
		indexers[cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc
	}
	if r.OwnerOnly {
		// Owners are read for labels and owner references only: metadata informers keep
		// the cache small whatever the size of JobSet or RayCluster specs.
		inf = metadatainformer.NewFilteredMetadataInformer(s.meta, gvr, metav1.NamespaceAll, 0, indexers, nil).Informer()
	} else {
		inf = dynamicinformer.NewFilteredDynamicInformer(s.dyn, gvr, metav1.NamespaceAll, 0, indexers, nil).Informer()
	}
	tf := transformFor(r, s.projection)
	if r.OwnerOnly {
		tf = ownerTransform(r, gvr.GroupVersion().String())
	}
	if err := inf.SetTransform(tf); err != nil {
		s.opts.Logger.Error("informer transform", "resource", r.ID, "err", err)
	}
	stop := make(chan struct{})
	if _, err := s.register(r, gvr, inf, stop); err != nil {
		s.opts.Logger.Error("cannot watch resource", "resource", r.ID, "err", err)
		return
	}
	s.opts.Logger.Info("resource served; watching it", "resource", r.ID, "version", version)
	done := s.mergeStop(ctx, stop)
	s.workers.Add(2)
	go func() {
		defer s.workers.Done()
		inf.Run(done)
	}()
	s.notifyFull(r.ID + " watched")
	// An empty resource syncs without any event: say so, or its availability would read
	// "pending" until the next full evaluation.
	go func() {
		defer s.workers.Done()
		if cache.WaitForCacheSync(done, inf.HasSynced) {
			s.notifyFull(r.ID + " synced")
		}
	}()
}

// mergeStop returns a channel closed when ctx ends or stop is closed.
func (s *Source) mergeStop(ctx context.Context, stop chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		select {
		case <-ctx.Done():
		case <-stop:
		}
		close(out)
	}()
	return out
}

// recheckErrors lists one object of every resource in an error state: the reflector
// retries by itself, but a Forbidden that was fixed must also clear our state even when
// no object changes.
func (s *Source) recheckErrors(ctx context.Context) {
	s.mu.RLock()
	var bad []*watched
	for _, w := range s.resources {
		if w.availability().State == auditor.Forbidden || w.availability().State == auditor.Failing {
			bad = append(bad, w)
		}
	}
	s.mu.RUnlock()
	for _, w := range bad {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		var err error
		if n := w.info.Narrow; n != nil {
			// Only that object is watched (and granted by RBAC): probe the same.
			_, err = s.meta.Resource(w.gvr).Namespace(n.Namespace(s.opts.Config)).List(cctx, metav1.ListOptions{
				Limit: 1, FieldSelector: fields.OneTermEqualSelector("metadata.name", n.Name).String()})
		} else {
			_, err = s.meta.Resource(w.gvr).List(cctx, metav1.ListOptions{Limit: 1})
		}
		cancel()
		if err == nil && w.informer.HasSynced() {
			w.clearError()
			s.notifyFull(w.info.ID + " readable again")
		}
	}
}

// Synced reports whether every watched resource has synced or is known to be
// unreadable (forbidden, failing): a resource we may not read must not block readiness.
func (s *Source) Synced() bool {
	if !s.started.Load() {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, w := range s.resources {
		if w.availability().State == auditor.Pending {
			return false
		}
	}
	return true
}

// WaitForSync blocks until Synced or ctx ends. After the first sync it returns to the
// OS the memory the initial lists used: decoding every object of the cluster at once is
// the process's peak, which the Go runtime would otherwise keep mapped for minutes (at
// 10k pods, RSS was three times the live heap).
func (s *Source) WaitForSync(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !s.Synced() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for caches: %w", ctx.Err())
		case <-t.C:
		}
	}
	s.released.Do(debug.FreeOSMemory)
	return nil
}

// Stale reports whether the caches may be behind the cluster: the apiserver was
// unreachable at the last discovery, or it answers again but some informer has not
// resumed its watch yet (client-go's watch backoff reaches 30 s).
func (s *Source) Stale() bool { return s.stale.Load() || s.recovering.Load() }

// resumeGrace is how long a watch stream must stay open to count as resumed: a watch
// from a resource version the apiserver no longer has opens, then ends at once with
// "too old resource version", and the informer relists.
const resumeGrace = time.Second

// checkResumed ends a recovery when every informer's watch stream has been open for
// resumeGrace, or its resource answered with an error of its own (forbidden, a failing
// conversion webhook: its availability says so and its rules are inconclusive).
func (s *Source) checkResumed() {
	if s.streams == nil || s.stale.Load() || !s.recovering.Load() {
		return
	}
	now := time.Now()
	var waiting []string
	s.mu.RLock()
	for id, w := range s.resources {
		w.mu.Lock()
		answered := w.errState != "" && w.answered
		w.mu.Unlock()
		if answered {
			continue
		}
		if since := s.streams.openSince(w.gvr.GroupResource()); since.IsZero() || now.Sub(since) < resumeGrace {
			waiting = append(waiting, id)
		}
	}
	s.mu.RUnlock()
	if len(waiting) > 0 {
		sort.Strings(waiting)
		s.opts.Logger.Debug("waiting for watches to resume", "resources", waiting)
		return
	}
	if s.recovering.Swap(false) {
		s.opts.Logger.Info("every informer's watch resumed; findings are current again")
		s.notifyFull("watches resumed")
	}
}

// ResourceStates returns the availability of every known resource.
func (s *Source) ResourceStates() map[string]auditor.Availability {
	out := map[string]auditor.Availability{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range auditor.Kinds {
		if w, ok := s.resources[r.ID]; ok {
			out[r.ID] = w.availability()
		} else if r.Custom || r.OwnerOnly {
			out[r.ID] = auditor.Availability{State: auditor.NotServed, Message: "the API server does not serve " + r.ID}
		}
	}
	return out
}

// ListWatchErrors returns the count of list/watch failures per resource.
func (s *Source) ListWatchErrors() map[string]uint64 {
	out := map[string]uint64{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for id, w := range s.resources {
		w.mu.Lock()
		out[id] = w.errors
		w.mu.Unlock()
	}
	return out
}

// objects returns a watched resource's cached objects: all of them when namespaces is
// nil or the resource is cluster-scoped, else those of the given namespaces (for the
// namespaces resource: the Namespace objects of those names).
func (w *watched) objects(namespaces []string) []any {
	if namespaces != nil && w.info.ID == auditor.ResourceNamespaces {
		out := make([]any, 0, len(namespaces))
		for _, ns := range namespaces {
			if o, ok, _ := w.informer.GetStore().GetByKey(ns); ok {
				out = append(out, o)
			}
		}
		return out
	}
	if namespaces == nil || !w.info.Namespaced {
		return w.informer.GetStore().List()
	}
	idx := w.informer.GetIndexer()
	var out []any
	for _, ns := range namespaces {
		objs, err := idx.ByIndex(cache.NamespaceIndex, ns)
		if err != nil { // no namespace index: filter the whole cache
			for _, o := range idx.List() {
				if namespaceOf(o) == ns {
					out = append(out, o)
				}
			}
			continue
		}
		out = append(out, objs...)
	}
	return out
}

// Snapshot builds a snapshot from the caches. Objects are shared with the caches and
// must not be modified (rules are read-only by contract).
func (s *Source) Snapshot(now time.Time) (*auditor.Snapshot, error) {
	return s.snapshot(now, nil)
}

// PartialSnapshot implements engine.IncrementalSource: the given namespaces' own objects
// (read through the informers' namespace index) and every other cluster-scoped object;
// see auditor.Snapshot.Restrict.
func (s *Source) PartialSnapshot(now time.Time, namespaces []string) (*auditor.Snapshot, error) {
	if namespaces == nil {
		namespaces = []string{}
	}
	return s.snapshot(now, namespaces)
}

// Changes implements engine.IncrementalSource: the resources and namespaces whose
// objects changed since the previous call, or the reason a full evaluation is needed.
func (s *Source) Changes() auditor.ChangeSet { return s.changes.drain() }

// snapshot reads the caches: everything when namespaces is nil, else the namespaced
// objects of those namespaces only.
func (s *Source) snapshot(now time.Time, namespaces []string) (*auditor.Snapshot, error) {
	if !s.started.Load() {
		return nil, errors.New("source not started")
	}
	snap := &auditor.Snapshot{
		Now:          now,
		Custom:       map[schema.GroupKind][]*unstructured.Unstructured{},
		Availability: s.ResourceStates(),
	}
	s.mu.RLock()
	ids := make([]string, 0, len(s.resources))
	for id := range s.resources {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	sort.Strings(ids)
	for _, id := range ids {
		s.mu.RLock()
		w := s.resources[id]
		s.mu.RUnlock()
		if w == nil {
			continue
		}
		items := w.objects(namespaces)
		w.info.Reserve(snap, len(items))
		for _, it := range items {
			switch o := it.(type) {
			case *ownerMeta:
				w.info.Add(snap, o.owner)
			case *metav1.PartialObjectMetadata:
				w.info.Add(snap, &auditor.Owner{
					APIVersion: w.gvr.GroupVersion().String(), Kind: w.info.Kind, Namespace: o.Namespace, Name: o.Name,
					UID: o.UID, Labels: o.Labels, OwnerReferences: o.OwnerReferences,
				})
			default:
				w.info.Add(snap, it) // pod stubs are not pods: Add skips them
			}
		}
	}
	snap.Index()
	return snap, nil
}
