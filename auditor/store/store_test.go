package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

var (
	t0 = time.Date(2025, 11, 1, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
	t2 = t0.Add(2 * time.Minute)
	// expiries of waivers
	dec1 = time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	jan1 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func pod(name string) *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: name}
}

// gpuFinding is a literal finding of the SR2 rule on pod team-a/<name>.
func gpuFinding(name string, sev auditor.Severity, msg string) auditor.Finding {
	return auditor.Finding{Rule: "gpu-pod-missing-queue-name", Control: auditor.SR2, Severity: sev, Object: pod(name), Message: msg, Remediation: "set the queue label"}
}

func waivedBy(f auditor.Finding, reason string, until time.Time) auditor.Finding {
	u := until
	f.Waiver = &auditor.Waiver{Reason: reason, Until: &u}
	return f
}

func rec(f auditor.Finding, first, last time.Time) Record {
	return Record{Finding: f, FirstSeen: first, LastSeen: last}
}

func prev(f auditor.Finding) *auditor.Finding { return &f }

// step is one evaluation. Setup steps are applied without checks; every other step
// asserts its transitions exactly (nil: none) and, when wantOpen is set, the open findings.
type step struct {
	at       time.Time
	findings []auditor.Finding
	setup    bool
	want     []Transition
	wantOpen []Record
}

func TestApply(t *testing.T) {
	a := gpuFinding("a", auditor.SeverityHigh, "pod requests 1 GPU")
	b := gpuFinding("b", auditor.SeverityHigh, "pod requests 2 GPU")
	aMsg := gpuFinding("a", auditor.SeverityHigh, "pod requests 4 GPU")
	aInfo := gpuFinding("a", auditor.SeverityInfo, "pod requests 1 GPU")
	aWaived := waivedBy(a, "benchmark until the queue exists", dec1)
	aWaivedLonger := waivedBy(a, "benchmark until the queue exists", jan1)
	aWaivedOtherReason := waivedBy(a, "vendor test", dec1)
	aWaivedInfo := waivedBy(aInfo, "benchmark until the queue exists", dec1)
	np := auditor.Finding{Rule: "protected-namespace-default-deny", Control: auditor.SR1, Severity: auditor.SeverityCritical,
		Object:  &auditor.ObjectRef{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "serving", Name: "allow"},
		Message: "ingress rule 0 allows all namespaces", Discriminator: "ingress[0]"}
	np1 := np
	np1.Discriminator = "ingress[1]"
	np1.Message = "ingress rule 1 allows all namespaces"
	cluster := auditor.Finding{Rule: "cni-enforces-networkpolicy", Control: auditor.SR1, Severity: auditor.SeverityCritical, Message: "no CNI"}

	cases := map[string][]step{
		"first evaluation opens every finding": {
			{at: t0, findings: []auditor.Finding{b, a},
				want:     []Transition{{Type: Opened, At: t0, Record: rec(a, t0, t0)}, {Type: Opened, At: t0, Record: rec(b, t0, t0)}},
				wantOpen: []Record{rec(a, t0, t0), rec(b, t0, t0)}},
		},
		"unchanged finding emits nothing and advances LastSeen only": {
			{at: t0, findings: []auditor.Finding{a}, want: []Transition{{Type: Opened, At: t0, Record: rec(a, t0, t0)}}},
			{at: t1, findings: []auditor.Finding{a}, want: nil, wantOpen: []Record{rec(a, t0, t1)}},
		},
		"resolution is reported at the evaluation that no longer sees it": {
			{at: t0, findings: []auditor.Finding{a, b}, setup: true},
			{at: t1, findings: []auditor.Finding{b},
				want:     []Transition{{Type: Resolved, At: t1, Record: rec(a, t0, t0)}},
				wantOpen: []Record{rec(b, t0, t1)}},
		},
		"message change is changed with the previous finding": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: []auditor.Finding{aMsg},
				want:     []Transition{{Type: Changed, At: t1, Record: rec(aMsg, t0, t1), Previous: prev(a)}},
				wantOpen: []Record{rec(aMsg, t0, t1)}},
		},
		"severity change is changed": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: []auditor.Finding{aInfo},
				want: []Transition{{Type: Changed, At: t1, Record: rec(aInfo, t0, t1), Previous: prev(a)}}},
		},
		"remediation-only change is not a transition": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: []auditor.Finding{func() auditor.Finding { f := a; f.Remediation = "new text"; return f }()},
				want: nil},
		},
		"open finding becomes waived": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaived},
				want:     []Transition{{Type: Waived, At: t1, Record: rec(aWaived, t0, t1), Previous: prev(a)}},
				wantOpen: []Record{rec(aWaived, t0, t1)}},
		},
		"finding born waived is opened with its waiver": {
			{at: t0, findings: []auditor.Finding{aWaived},
				want:     []Transition{{Type: Opened, At: t0, Record: rec(aWaived, t0, t0)}},
				wantOpen: []Record{rec(aWaived, t0, t0)}},
		},
		"waived finding loses its waiver while still open": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: []auditor.Finding{a},
				want:     []Transition{{Type: WaiverExpired, At: t1, Record: rec(a, t0, t1), Previous: prev(aWaived)}},
				wantOpen: []Record{rec(a, t0, t1)}},
		},
		"waived finding that goes away is resolved, not waiver_expired": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: nil,
				want:     []Transition{{Type: Resolved, At: t1, Record: rec(aWaived, t0, t0)}},
				wantOpen: []Record{}},
		},
		"extended waiver is waived again": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaivedLonger},
				want: []Transition{{Type: Waived, At: t1, Record: rec(aWaivedLonger, t0, t1), Previous: prev(aWaived)}}},
		},
		"waiver with a new reason is waived again": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaivedOtherReason},
				want: []Transition{{Type: Waived, At: t1, Record: rec(aWaivedOtherReason, t0, t1), Previous: prev(aWaived)}}},
		},
		"same waiver terms in new pointers is not a transition": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: []auditor.Finding{waivedBy(a, "benchmark until the queue exists", dec1.In(time.FixedZone("CET", 3600)))},
				want: nil},
		},
		"severity change of a waived finding is changed": {
			{at: t0, findings: []auditor.Finding{aWaived}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaivedInfo},
				want: []Transition{{Type: Changed, At: t1, Record: rec(aWaivedInfo, t0, t1), Previous: prev(aWaived)}}},
		},
		"waiver change wins over a simultaneous severity change": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaivedInfo},
				want: []Transition{{Type: Waived, At: t1, Record: rec(aWaivedInfo, t0, t1), Previous: prev(a)}}},
		},
		"duplicate key in one evaluation keeps the first": {
			{at: t0, findings: []auditor.Finding{a, aMsg},
				want:     []Transition{{Type: Opened, At: t0, Record: rec(a, t0, t0)}},
				wantOpen: []Record{rec(a, t0, t0)}},
		},
		"discriminated findings on one object are separate": {
			{at: t0, findings: []auditor.Finding{np1, np},
				want: []Transition{{Type: Opened, At: t0, Record: rec(np, t0, t0)}, {Type: Opened, At: t0, Record: rec(np1, t0, t0)}}},
			{at: t1, findings: []auditor.Finding{np},
				want: []Transition{{Type: Resolved, At: t1, Record: rec(np1, t0, t0)}}},
		},
		"finding without an object is tracked": {
			{at: t0, findings: []auditor.Finding{cluster}, want: []Transition{{Type: Opened, At: t0, Record: rec(cluster, t0, t0)}}},
			{at: t1, findings: []auditor.Finding{cluster}, want: nil, wantOpen: []Record{rec(cluster, t0, t1)}},
		},
		"resolved finding that comes back is opened with a new first seen": {
			{at: t0, findings: []auditor.Finding{a}, setup: true},
			{at: t1, findings: nil, setup: true},
			{at: t2, findings: []auditor.Finding{a},
				want: []Transition{{Type: Opened, At: t2, Record: rec(a, t2, t2)}}},
		},
		"mixed transitions are ordered by type then finding": {
			{at: t0, findings: []auditor.Finding{a, b, np}, setup: true},
			{at: t1, findings: []auditor.Finding{aWaived, cluster, gpuFinding("b", auditor.SeverityMedium, "pod requests 2 GPU")},
				want: []Transition{
					{Type: Changed, At: t1, Record: rec(gpuFinding("b", auditor.SeverityMedium, "pod requests 2 GPU"), t0, t1), Previous: prev(b)},
					{Type: Opened, At: t1, Record: rec(cluster, t1, t1)},
					{Type: Resolved, At: t1, Record: rec(np, t0, t0)},
					{Type: Waived, At: t1, Record: rec(aWaived, t0, t1), Previous: prev(a)},
				}},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			s := New()
			for i, st := range steps {
				got := s.Apply(st.at, st.findings)
				if st.setup {
					continue
				}
				assert.Equal(t, st.want, got, "step %d transitions", i)
				if st.wantOpen != nil {
					assert.Equal(t, st.wantOpen, s.Open(), "step %d open findings", i)
				}
			}
			assert.Equal(t, len(steps), s.Evaluations())
		})
	}
}

// TestLifecycleBracketing checks the documented invariant: whatever happens in
// between, a finding's transitions start with one Opened and end with one Resolved.
func TestLifecycleBracketing(t *testing.T) {
	a := gpuFinding("a", auditor.SeverityHigh, "pod requests 1 GPU")
	evals := [][]auditor.Finding{
		{waivedBy(a, "r", dec1)},
		{a},
		{waivedBy(a, "r", jan1)},
		{gpuFinding("a", auditor.SeverityLow, "pod requests 1 GPU")},
		nil,
	}
	s := New()
	var types []TransitionType
	for i, fs := range evals {
		for _, tr := range s.Apply(t0.Add(time.Duration(i)*time.Minute), fs) {
			types = append(types, tr.Type)
		}
	}
	assert.Equal(t, []TransitionType{Opened, WaiverExpired, Waived, WaiverExpired, Resolved}, types)
}

func TestOpenIsSafeDuringApply(t *testing.T) {
	s := New()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			s.Apply(t0.Add(time.Duration(i)*time.Second), []auditor.Finding{gpuFinding("a", auditor.SeverityHigh, "m")})
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			for _, r := range s.Open() {
				assert.Equal(t, "gpu-pod-missing-queue-name", r.Rule)
			}
		}
	}()
	wg.Wait()
	assert.Equal(t, 200, s.Evaluations())
}

// TestSubscriptionKeepsTheLatestState: publishing never blocks; a consumer that has not
// taken a state gets the newest one, and the replaced ones are counted.
func TestSubscriptionKeepsTheLatestState(t *testing.T) {
	s := New()
	sub := s.Subscribe("slow")
	for i := 1; i <= 3; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		s.Publish(&auditor.Evaluation{At: at, Findings: []auditor.Finding{gpuFinding("p", auditor.SeverityHigh, fmt.Sprint(i))}})
	}
	st := <-sub.C()
	require.Equal(t, uint64(3), st.Seq)
	require.Equal(t, "3", st.Open[0].Message)
	require.Equal(t, uint64(2), sub.Coalesced())
	select {
	case <-sub.C():
		t.Fatal("a state was delivered twice")
	default:
	}
	require.Same(t, st, s.State(), "State is the published state, whole")
}
