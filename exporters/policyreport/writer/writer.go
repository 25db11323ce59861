// Package writer keeps the policy reports in the cluster in step with the findings
// store: the leader applies each namespace's report and the cluster report by
// server-side apply under its own field manager, deletes the reports of namespaces that
// no longer have results, never writes faster than its rate limit, and waits for the
// report CRDs when they are not served, picking them up when they appear.
//
// The reports live in the tenants' namespaces, where a tenant may be allowed to edit or
// delete them. Every Resync the leader reads the reports it owns again and restores any
// that someone else changed, deleted or forged, so a tenant's edit stands at most one
// resync period.
package writer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
)

// FieldManager owns the fields the writer applies.
const FieldManager = "enforcement-auditor-reports"

// DefaultResync is how often the leader reads the reports it owns again and restores
// those someone else changed or deleted (--reports-resync).
const DefaultResync = 3 * time.Minute

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
	Retry time.Duration
	// Resync is how often the reports are read again and restored when they differ from
	// what the writer last wrote (default DefaultResync).
	Resync time.Duration
	Logger *slog.Logger
}

// Writer applies the reports of the published states. Its counters are its health:
// readiness does not depend on it.
type Writer struct {
	o       Options
	limiter *rate.Limiter
	nsRes   schema.GroupVersionResource
	clRes   schema.GroupVersionResource

	writes, errs, restores atomic.Uint64
	lastOK                 atomic.Int64 // unix nanoseconds
	served                 atomic.Bool

	mu sync.Mutex
	// applied maps a namespace ("" for the cluster report) to what was last written
	// there; nil until the existing reports were listed (after leadership or the CRDs
	// appear).
	applied map[string]*written
	poke    chan struct{}
}

// written is one report as the writer last wrote it.
type written struct {
	// content is the report's contentKey; "" when unknown (a report found by listing,
	// written again at the next sync).
	content string
	// obj is the object written (nil when unknown) and seen the server's copy right after
	// the write, without the fields the server maintains: a report whose copy differs
	// from seen was changed by someone else.
	obj  *unstructured.Unstructured
	seen map[string]any
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
	if o.Resync <= 0 {
		o.Resync = DefaultResync
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

// Restores counts reports restored since start because someone else changed, deleted
// or forged them (also counted in Writes).
func (w *Writer) Restores() uint64 { return w.restores.Load() }

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
// last sync failed or the CRDs are not served; every Resync it restores the reports
// someone else changed (Reconcile); until ctx ends.
func (w *Writer) Run(ctx context.Context, st *store.Store, sub *store.Subscription) error {
	t := time.NewTicker(w.o.Retry)
	defer t.Stop()
	resync := time.NewTicker(w.o.Resync)
	defer resync.Stop()
	pending := false
	for {
		reconcile := false
		select {
		case <-ctx.Done():
			return nil
		case <-sub.C():
		case <-w.poke:
		case <-resync.C:
			reconcile = true
		case <-t.C:
			if !pending {
				continue
			}
			reconcile = true // the failure may have been a restore
		}
		err := w.Sync(ctx, st.State())
		if err == nil && reconcile {
			err = w.Reconcile(ctx)
		}
		pending = err != nil
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
		Findings: st.Open, Controls: st.Evaluation.Controls, Rules: w.o.Rules, At: st.Evaluation.At, Judged: st.Evaluation.Judged,
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
		if prev, ok := w.applied[r.Namespace]; ok && prev.content == content {
			continue
		}
		obj, err := toUnstructured(r.Object(w.o.API))
		if err != nil {
			return err
		}
		got, err := w.apply(ctx, r.Namespace, obj)
		if err == nil && othersOwnFields(got) {
			// Fields someone else set survive a server-side apply: replace the whole
			// report so that it holds only what the writer wrote.
			got, err = w.replace(ctx, r.Namespace, obj, got.GetResourceVersion())
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w.applied[r.Namespace] = &written{content: content, obj: obj, seen: editable(got)}
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
	owned, err := w.listOwned(ctx)
	if err != nil {
		return err
	}
	applied := make(map[string]*written, len(owned))
	for ns := range owned {
		applied[ns] = &written{} // unknown content: applied again
	}
	w.applied = applied
	return nil
}

// listOwned returns the reports named policyreport.Name that carry the auditor's
// managed-by label, by namespace ("" for the cluster report). The list names the
// report (a metadata.name field selector), so RBAC can limit it to that name.
func (w *Writer) listOwned(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	sel := metav1.ListOptions{
		LabelSelector: policyreport.ManagedByLabel + "=" + policyreport.Source,
		FieldSelector: fields.OneTermEqualSelector("metadata.name", policyreport.Name).String(),
	}
	owned := map[string]*unstructured.Unstructured{}
	for _, res := range []schema.GroupVersionResource{w.nsRes, w.clRes} {
		list, err := w.o.Dynamic.Resource(res).List(ctx, sel)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", res.GroupResource(), err)
		}
		for i := range list.Items {
			if it := &list.Items[i]; it.GetName() == policyreport.Name {
				owned[it.GetNamespace()] = it
			}
		}
	}
	return owned, nil
}

// Reconcile reads the reports the auditor owns and restores those that differ from what
// the writer last wrote (a tenant's edit), are missing (a tenant's deletion, or its
// label removed) or were never written by it (a forged report under the auditor's name
// and label: deleted), within the write rate limit. It does nothing on a follower,
// before the first sync or while the report API is not served.
func (w *Writer) Reconcile(ctx context.Context) error {
	if w.o.IsLeader != nil && !w.o.IsLeader() {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.served.Load() || w.applied == nil {
		return nil
	}
	owned, err := w.listOwned(ctx)
	if err != nil {
		return w.failed(err)
	}
	nss := make([]string, 0, len(w.applied))
	for ns := range w.applied {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	var errs []error
	for _, ns := range nss {
		prev := w.applied[ns]
		if prev.obj == nil {
			continue // not written yet: the next sync writes it
		}
		cur, ok := owned[ns]
		if !ok {
			// Deleted, or its label removed: read it by name.
			cur, err = w.resource(ns).Get(ctx, policyreport.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				cur, err = nil, nil
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("reading the report of %s: %w", scope(ns), err))
				continue
			}
		}
		var got *unstructured.Unstructured
		switch {
		case cur == nil:
			w.o.Logger.Warn("policy report deleted by someone else; restoring it", "namespace", ns)
			got, err = w.apply(ctx, ns, prev.obj)
		case !reflect.DeepEqual(editable(cur), prev.seen):
			w.o.Logger.Warn("policy report changed by someone else; restoring it", "namespace", ns, "managers", otherManagers(cur))
			got, err = w.replace(ctx, ns, prev.obj, cur.GetResourceVersion())
		default:
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w.restores.Add(1)
		prev.seen = editable(got)
	}
	for ns := range owned {
		if _, ok := w.applied[ns]; ok {
			continue
		}
		w.o.Logger.Warn("policy report under the auditor's name and label that it did not write; deleting it", "namespace", ns, "managers", otherManagers(owned[ns]))
		if err := w.delete(ctx, ns); err != nil {
			errs = append(errs, err)
			continue
		}
		w.restores.Add(1)
	}
	if err := errors.Join(errs...); err != nil {
		return w.failed(err)
	}
	return nil
}

func (w *Writer) resource(ns string) dynamic.ResourceInterface {
	if ns == "" {
		return w.o.Dynamic.Resource(w.clRes)
	}
	return w.o.Dynamic.Resource(w.nsRes).Namespace(ns)
}

// apply writes obj by server-side apply (creating it when absent).
func (w *Writer) apply(ctx context.Context, ns string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if err := w.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	got, err := w.resource(ns).Apply(ctx, policyreport.Name, obj.DeepCopy(), metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		w.errs.Add(1)
		return nil, fmt.Errorf("applying the report of %s: %w", scope(ns), err)
	}
	w.writes.Add(1)
	return got, nil
}

// replace writes obj over the report at resourceVersion rv (an update, not an apply):
// every field someone else added goes. A conflict (the report changed again) fails;
// the retry reads it again.
func (w *Writer) replace(ctx context.Context, ns string, obj *unstructured.Unstructured, rv string) (*unstructured.Unstructured, error) {
	if err := w.limiter.Wait(ctx); err != nil {
		return nil, err
	}
	u := obj.DeepCopy()
	u.SetResourceVersion(rv)
	got, err := w.resource(ns).Update(ctx, u, metav1.UpdateOptions{FieldManager: FieldManager})
	if err != nil {
		w.errs.Add(1)
		return nil, fmt.Errorf("restoring the report of %s: %w", scope(ns), err)
	}
	w.writes.Add(1)
	return got, nil
}

func (w *Writer) delete(ctx context.Context, ns string) error {
	if err := w.limiter.Wait(ctx); err != nil {
		return err
	}
	err := w.resource(ns).Delete(ctx, policyreport.Name, metav1.DeleteOptions{})
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

// editable is a report's copy without the fields the server maintains (versions,
// uid, managed fields): what another writer could have changed.
func editable(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	c := u.DeepCopy().Object
	if md, ok := c["metadata"].(map[string]any); ok {
		for _, f := range []string{"managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"} {
			delete(md, f)
		}
	}
	return c
}

// otherManagers lists the field managers other than the writer's that own fields of u.
func otherManagers(u *unstructured.Unstructured) []string {
	var out []string
	for _, m := range u.GetManagedFields() {
		if m.Manager != FieldManager {
			out = append(out, m.Manager+" "+string(m.Operation))
		}
	}
	return out
}

// othersOwnFields reports whether someone else owns fields of u (set them by apply or update).
func othersOwnFields(u *unstructured.Unstructured) bool { return len(otherManagers(u)) > 0 }

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
