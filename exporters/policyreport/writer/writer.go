// Package writer keeps the policy reports in the cluster in step with the findings
// store: the leader applies each namespace's report and the cluster report by
// server-side apply under its own field manager, deletes the reports of namespaces that
// no longer have results, never writes faster than its rate limit, and waits for the
// report CRDs when they are not served, picking them up when they appear.
package writer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
)

// FieldManager owns the fields the writer applies.
const FieldManager = "enforcement-auditor-reports"

// Options configure a Writer.
type Options struct {
	API       policyreport.API
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	// Rules are the rules evaluated (pass results of enforced controls).
	Rules []auditor.RuleMeta
	// IsLeader gates every write (nil: always).
	IsLeader func() bool
	// QPS and Burst bound the writes (applies and deletes) per second (default 5, 10).
	QPS   float64
	Burst int
	// Retry is how often failed writes are retried and, while the CRDs are not
	// served, discovery is asked again (default 30s).
	Retry  time.Duration
	Logger *slog.Logger
}

// Writer applies the reports of the published states. Its counters are its health:
// readiness does not depend on it.
type Writer struct {
	o       Options
	limiter *rate.Limiter
	nsRes   schema.GroupVersionResource
	clRes   schema.GroupVersionResource

	writes, errs atomic.Uint64
	lastOK       atomic.Int64 // unix nanoseconds
	served       atomic.Bool

	mu sync.Mutex
	// applied maps a namespace ("" for the cluster report) to the content last
	// applied; nil until the existing reports were listed (after leadership or the
	// CRDs appear).
	applied map[string]string
	poke    chan struct{}
}

// New returns a writer; nothing is written until Run.
func New(o Options) *Writer {
	if o.QPS <= 0 {
		o.QPS = 5
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Retry <= 0 {
		o.Retry = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.API == "" {
		o.API = policyreport.APIs[0]
	}
	w := &Writer{o: o, limiter: rate.NewLimiter(rate.Limit(o.QPS), o.Burst), poke: make(chan struct{}, 1)}
	w.nsRes, w.clRes = o.API.Resources()
	return w
}

// Writes counts reports applied or deleted since start.
func (w *Writer) Writes() uint64 { return w.writes.Load() }

// Errors counts failed applies and deletes since start.
func (w *Writer) Errors() uint64 { return w.errs.Load() }

// LastSuccess is when the reports were last fully in step (zero before).
func (w *Writer) LastSuccess() time.Time {
	n := w.lastOK.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Served reports whether the report API was served at the last look.
func (w *Writer) Served() bool { return w.served.Load() }

// LeadershipChanged makes the writer list the reports again before the next sync (a
// predecessor may have written others) and sync without waiting for an evaluation.
func (w *Writer) LeadershipChanged() {
	w.mu.Lock()
	w.applied = nil
	w.mu.Unlock()
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// Run syncs on every published state, on leadership changes, and every Retry while the
// last sync failed or the CRDs are not served, until ctx ends.
func (w *Writer) Run(ctx context.Context, st *store.Store, sub *store.Subscription) error {
	t := time.NewTicker(w.o.Retry)
	defer t.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.C():
		case <-w.poke:
		case <-t.C:
			if !pending {
				continue
			}
		}
		pending = w.Sync(ctx, st.State()) != nil
	}
}

// Sync brings the reports in step with one published state. A state without an
// evaluation (before the first) writes nothing: deleting every report then would be wrong.
func (w *Writer) Sync(ctx context.Context, st *store.State) error {
	if st == nil || st.Evaluation == nil {
		return nil
	}
	if w.o.IsLeader != nil && !w.o.IsLeader() {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.served.Load() {
		if err := w.discover(); err != nil {
			return err
		}
	}
	if w.applied == nil {
		if err := w.listExisting(ctx); err != nil {
			return w.failed(err)
		}
	}
	reports := policyreport.Build(policyreport.Input{
		Findings: st.Open, Controls: st.Evaluation.Controls, Rules: w.o.Rules, At: st.Evaluation.At,
	})
	want := make(map[string]bool, len(reports))
	var errs []error
	for i := range reports {
		r := &reports[i]
		want[r.Namespace] = true
		content, err := contentKey(r)
		if err != nil {
			return err
		}
		if prev, ok := w.applied[r.Namespace]; ok && prev == content {
			continue
		}
		if err := w.apply(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		w.applied[r.Namespace] = content
	}
	for ns := range w.applied {
		if want[ns] {
			continue
		}
		if err := w.delete(ctx, ns); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(w.applied, ns)
	}
	if err := errors.Join(errs...); err != nil {
		return w.failed(err)
	}
	w.lastOK.Store(time.Now().UnixNano())
	return nil
}

// failed logs err; a report API gone (CRD deleted) sends the writer back to discovery.
func (w *Writer) failed(err error) error {
	if apierrors.IsNotFound(err) || discovery.IsGroupDiscoveryFailedError(err) {
		w.served.Store(false)
	}
	w.o.Logger.Warn("policy reports not in step with the findings; retrying", "err", err, "retry", w.o.Retry.String())
	return err
}

// discover checks that the API serves both report resources.
func (w *Writer) discover() error {
	gv := w.nsRes.GroupVersion().String()
	list, err := w.o.Discovery.ServerResourcesForGroupVersion(gv)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("discovery of %s: %w", gv, err)
	}
	found := 0
	if list != nil {
		for _, r := range list.APIResources {
			if r.Name == w.nsRes.Resource || r.Name == w.clRes.Resource {
				found++
			}
		}
	}
	if found < 2 {
		return fmt.Errorf("%s and %s are not served: waiting for the report CRDs", w.nsRes.GroupResource(), w.clRes.GroupResource())
	}
	w.o.Logger.Info("report API served; writing policy reports", "api", gv)
	w.served.Store(true)
	w.applied = nil
	return nil
}

// listExisting records the reports the auditor owns now, so the next sync deletes
// those of namespaces without results.
func (w *Writer) listExisting(ctx context.Context) error {
	applied := map[string]string{}
	sel := metav1.ListOptions{LabelSelector: policyreport.ManagedByLabel + "=" + policyreport.Source}
	for _, res := range []schema.GroupVersionResource{w.nsRes, w.clRes} {
		list, err := w.o.Dynamic.Resource(res).List(ctx, sel)
		if err != nil {
			return fmt.Errorf("listing %s: %w", res.GroupResource(), err)
		}
		for _, it := range list.Items {
			if it.GetName() == policyreport.Name {
				applied[it.GetNamespace()] = "" // unknown content: applied again
			}
		}
	}
	w.applied = applied
	return nil
}

func (w *Writer) apply(ctx context.Context, r *policyreport.Report) error {
	obj, err := toUnstructured(r.Object(w.o.API))
	if err != nil {
		return err
	}
	if err := w.limiter.Wait(ctx); err != nil {
		return err
	}
	res := w.o.Dynamic.Resource(w.clRes)
	var ri dynamic.ResourceInterface = res
	if r.Namespace != "" {
		ri = w.o.Dynamic.Resource(w.nsRes).Namespace(r.Namespace)
	}
	_, err = ri.Apply(ctx, policyreport.Name, obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		w.errs.Add(1)
		return fmt.Errorf("applying the report of %s: %w", scope(r.Namespace), err)
	}
	w.writes.Add(1)
	return nil
}

func (w *Writer) delete(ctx context.Context, ns string) error {
	if err := w.limiter.Wait(ctx); err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = w.o.Dynamic.Resource(w.clRes)
	if ns != "" {
		ri = w.o.Dynamic.Resource(w.nsRes).Namespace(ns)
	}
	err := ri.Delete(ctx, policyreport.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		w.errs.Add(1)
		return fmt.Errorf("deleting the report of %s: %w", scope(ns), err)
	}
	w.writes.Add(1)
	return nil
}

func scope(ns string) string {
	if ns == "" {
		return "the cluster"
	}
	return "namespace " + ns
}

// contentKey is the report's content without the pass results' timestamps, which move
// with every evaluation: a report is written again only when something else changed.
func contentKey(r *policyreport.Report) (string, error) {
	c := *r
	c.Results = append(c.Results[:0:0], r.Results...)
	for i := range c.Results {
		if c.Results[i].Result == "pass" {
			c.Results[i].Timestamp = metav1.Timestamp{}
		}
	}
	b, err := json.Marshal(c)
	return string(b), err
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	// An apply configuration names no creation time.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}
