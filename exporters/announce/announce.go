// Package announce feeds the finding transitions the leader announces to the sinks
// (OpenTelemetry events, ...): an Emitter on its own goroutine, and a Checkpoint of the
// announced findings in a ConfigMap so a new leader neither loses nor repeats any.
package announce

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// Emitter feeds the sinks (OpenTelemetry events, ...) from the leader only, on its own
// goroutine (Run): it takes the latest published state from a one-slot mailbox, so the
// evaluation loop never waits for it and a slow sink skips to the newest state. That is
// why it diffs the state's findings against what was last announced rather than
// forwarding one evaluation's transitions: skipped states lose nothing. With a
// checkpoint, the announced set survives a leader change or a restart, so a new leader
// emits exactly the transitions its predecessor did not: none lost, none repeated
// (at-least-once only if a leader dies between emitting and saving).
type Emitter struct {
	main      *store.Store
	announced *store.Store
	sinks     []store.Sink
	isLeader  func() bool
	cp        *Checkpoint // nil: in memory only
	log       *slog.Logger

	mu       sync.Mutex
	needLoad bool
	poke     chan struct{} // leadership gained: emit without waiting for an evaluation
}

// New builds an emitter announcing main's findings to sinks while isLeader; cp, when
// set, keeps the announced findings across leaders.
func New(main *store.Store, sinks []store.Sink, isLeader func() bool, cp *Checkpoint, log *slog.Logger) *Emitter {
	return &Emitter{main: main, announced: store.New(), sinks: sinks, isLeader: isLeader, cp: cp, log: log, needLoad: cp != nil,
		poke: make(chan struct{}, 1)}
}

// Run emits from the published states until ctx ends. A leadership change wakes it
// too (poke), so a new leader announces without waiting for the next evaluation.
func (e *Emitter) Run(ctx context.Context, sub *store.Subscription) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case st := <-sub.C():
			e.emit(ctx, st.Evaluation)
		case <-e.poke:
			e.emit(ctx, e.main.State().Evaluation)
		}
	}
}

// LeadershipGained makes the next emission start from the saved checkpoint.
func (e *Emitter) LeadershipGained() {
	e.mu.Lock()
	e.needLoad = e.cp != nil
	e.mu.Unlock()
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// emit announces what changed between the announced findings and ev's.
func (e *Emitter) emit(ctx context.Context, ev *auditor.Evaluation) {
	if ev == nil || len(e.sinks) == 0 || !e.isLeader() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.needLoad {
		recs, err := e.cp.load(ctx)
		if err != nil {
			// Without the predecessor's state, announcing everything open again is the
			// safe side: a duplicate "opened" beats a lost one.
			e.log.Warn("cannot load the announced-findings checkpoint; re-announcing open findings", "err", err)
			recs = nil
		}
		e.announced.Restore(recs)
		e.needLoad = false
	}
	tr := e.announced.Apply(ev.At, ev.Findings)
	if len(tr) == 0 {
		return
	}
	first := map[string]time.Time{}
	for _, r := range e.main.Open() {
		first[r.Key()] = r.FirstSeen
	}
	for i := range tr {
		if t, ok := first[tr[i].Record.Key()]; ok {
			tr[i].Record.FirstSeen = t
		}
	}
	for _, s := range e.sinks {
		s.OnTransitions(ev, tr)
	}
	if e.cp != nil {
		if err := e.cp.save(ctx, e.announced.Open()); err != nil {
			e.log.Error("cannot save the announced-findings checkpoint", "err", err)
		}
	}
}

// Checkpoint keeps the announced findings in a ConfigMap of the auditor's namespace
// (gzip JSON in binaryData). It holds rule IDs, object references and messages (which
// never carry configuration values), no Secret data.
type Checkpoint struct {
	client    kubernetes.Interface
	namespace string
	name      string
}

// NewCheckpoint keeps the announced findings in ConfigMap namespace/name.
func NewCheckpoint(client kubernetes.Interface, namespace, name string) *Checkpoint {
	return &Checkpoint{client: client, namespace: namespace, name: name}
}

const checkpointKey = "announced.json.gz"

// maxCheckpointFindings keeps the ConfigMap well under the 1 MiB object limit.
const maxCheckpointFindings = 4000

func (c *Checkpoint) load(ctx context.Context) ([]store.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cm, err := c.client.CoreV1().ConfigMaps(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw, ok := cm.BinaryData[checkpointKey]
	if !ok {
		return nil, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s/%s: %w", c.namespace, c.name, err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s/%s: %w", c.namespace, c.name, err)
	}
	var saved []savedRecord
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("checkpoint %s/%s: %w", c.namespace, c.name, err)
	}
	recs := make([]store.Record, len(saved))
	for i, s := range saved {
		recs[i] = s.Record
		recs[i].Discriminator = s.Discriminator
	}
	return recs, nil
}

// savedRecord keeps the discriminator, which the JSON contract hides but which is part
// of a finding's identity.
type savedRecord struct {
	store.Record
	Discriminator string `json:"discriminator,omitempty"`
}

func (c *Checkpoint) save(ctx context.Context, recs []store.Record) error {
	if len(recs) > maxCheckpointFindings {
		recs = recs[:maxCheckpointFindings] // worst first (store order): the rest may be re-announced
	}
	saved := make([]savedRecord, len(recs))
	for i, r := range recs {
		saved[i] = savedRecord{Record: r, Discriminator: r.Discriminator}
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cms := c.client.CoreV1().ConfigMaps(c.namespace)
	cm, err := cms.Get(ctx, c.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: c.name, Namespace: c.namespace, Labels: map[string]string{"app.kubernetes.io/name": "enforcement-auditor"}},
			BinaryData: map[string][]byte{checkpointKey: buf.Bytes()},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	cm.BinaryData = map[string][]byte{checkpointKey: buf.Bytes()}
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	return err
}
