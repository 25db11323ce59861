package announce

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

type recordingSink struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingSink) OnTransitions(_ *auditor.Evaluation, tr []store.Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range tr {
		r.got = append(r.got, string(t.Type)+" "+t.Record.Object.Name)
	}
}

func (r *recordingSink) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func podFinding(name, discriminator string) auditor.Finding {
	return auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: auditor.SeverityHigh,
		Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team", Name: name}, Message: "m", Discriminator: discriminator}
}

// emit simulates one evaluation on a replica: the main store applies, then the emitter runs.
func emit(e *Emitter, main *store.Store, at time.Time, fs ...auditor.Finding) {
	main.Apply(at, fs)
	e.emit(context.Background(), &auditor.Evaluation{At: at, Findings: fs})
}

// TestEmitterFailoverNeitherLosesNorRepeats: two replicas share a checkpoint; the second
// takes over after the first announced some transitions and the cluster changed meanwhile.
func TestEmitterFailoverNeitherLosesNorRepeats(t *testing.T) {
	client := fake.NewClientset()
	cp := NewCheckpoint(client, "ea", "ea-announced")
	log := slog.New(slog.DiscardHandler)
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	sinkA, sinkB := &recordingSink{}, &recordingSink{}
	leaderA, leaderB := true, false
	mainA, mainB := store.New(), store.New()
	a := New(mainA, []store.Sink{sinkA}, func() bool { return leaderA }, cp, log)
	b := New(mainB, []store.Sink{sinkB}, func() bool { return leaderB }, cp, log)

	x, y, z := podFinding("x", ""), podFinding("y", "rule[1]"), podFinding("z", "")
	emit(a, mainA, t0, x, y)
	emit(b, mainB, t0, x, y)
	assert.ElementsMatch(t, []string{"opened x", "opened y"}, sinkA.take())
	assert.Empty(t, sinkB.take(), "a follower announces nothing")

	// A dies. While nobody leads, x resolves and z opens; B evaluates but does not lead.
	leaderA = false
	emit(b, mainB, t0.Add(time.Second), y, z)
	assert.Empty(t, sinkB.take())

	// B takes over: it announces exactly what A did not.
	leaderB = true
	b.LeadershipGained()
	emit(b, mainB, t0.Add(2*time.Second), y, z)
	assert.ElementsMatch(t, []string{"resolved x", "opened z"}, sinkB.take(), "nothing lost, y (with its discriminator) not repeated")

	emit(b, mainB, t0.Add(3*time.Second), y, z)
	assert.Empty(t, sinkB.take(), "steady state announces nothing")
}

func TestEmitterWithoutCheckpointAnnouncesFromScratch(t *testing.T) {
	sink := &recordingSink{}
	main := store.New()
	e := New(main, []store.Sink{sink}, func() bool { return true }, nil, slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	emit(e, main, t0, podFinding("x", ""))
	require.Equal(t, []string{"opened x"}, sink.take())
	emit(e, main, t0.Add(time.Second))
	require.Equal(t, []string{"resolved x"}, sink.take())
}
