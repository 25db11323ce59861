package engine

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

type fakeRule struct {
	meta auditor.RuleMeta
	eval func(*auditor.Snapshot) auditor.Result
}

func (r fakeRule) Meta() auditor.RuleMeta                      { return r.meta }
func (r fakeRule) Evaluate(s *auditor.Snapshot) auditor.Result { return r.eval(s) }

func finding(rule string, c auditor.Control, sev auditor.Severity, name string) auditor.Finding {
	return auditor.Finding{Rule: rule, Control: c, Severity: sev, Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: name}}
}

func TestEvaluateControlStatus(t *testing.T) {
	violating := fakeRule{meta: auditor.RuleMeta{ID: "violating", Control: auditor.SR1}, eval: func(*auditor.Snapshot) auditor.Result {
		return auditor.Result{Findings: []auditor.Finding{finding("violating", auditor.SR1, auditor.SeverityHigh, "p")}}
	}}
	infoOnly := fakeRule{meta: auditor.RuleMeta{ID: "info-only", Control: auditor.SR2}, eval: func(*auditor.Snapshot) auditor.Result {
		return auditor.Result{Findings: []auditor.Finding{finding("info-only", auditor.SR2, auditor.SeverityInfo, "p")}}
	}}
	panicking := fakeRule{meta: auditor.RuleMeta{ID: "panicking", Control: auditor.SR3}, eval: func(*auditor.Snapshot) auditor.Result {
		var p *auditor.Finding
		return auditor.Result{Findings: []auditor.Finding{*p}} // nil dereference: a rule bug
	}}
	forbiddenInput := fakeRule{meta: auditor.RuleMeta{ID: "forbidden-input", Control: auditor.SR2, Inputs: []string{auditor.ResourceKueueWorkloads}},
		eval: func(*auditor.Snapshot) auditor.Result { return auditor.Result{} }}
	notServedInput := fakeRule{meta: auditor.RuleMeta{ID: "not-served", Control: auditor.SR3, Inputs: []string{auditor.ResourceCNPGClusters}},
		eval: func(*auditor.Snapshot) auditor.Result { return auditor.Result{} }}
	needsNamespaces := fakeRule{meta: auditor.RuleMeta{ID: "needs-namespaces", Control: auditor.SR1, Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceAdminNetworkPolicies}, Needs: []string{auditor.ResourceNamespaces}},
		eval: func(*auditor.Snapshot) auditor.Result { return auditor.Result{} }}
	notApplicable := func(c auditor.Control) auditor.Rule {
		return fakeRule{meta: auditor.RuleMeta{ID: "scope-" + string(c), Control: c},
			eval: func(*auditor.Snapshot) auditor.Result {
				return auditor.Result{NotApplicable: string(c) + " is not claimed"}
			}}
	}

	cases := map[string]struct {
		rules        []auditor.Rule
		availability map[string]auditor.Availability
		seen         map[string]bool // offline snapshots only
		want         map[auditor.Control]auditor.ControlState
		inconclusive []string
	}{
		"no rules: all enforced": {
			want: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"a high finding violates its control only": {
			rules: []auditor.Rule{violating},
			want:  map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"an info finding does not violate": {
			rules: []auditor.Rule{infoOnly},
			want:  map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"a panicking rule is inconclusive and others still run": {
			rules:        []auditor.Rule{panicking, violating},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Unknown},
			inconclusive: []string{"panicking"},
		},
		"a forbidden input makes the rule inconclusive": {
			rules:        []auditor.Rule{forbiddenInput},
			availability: map[string]auditor.Availability{auditor.ResourceKueueWorkloads: {State: auditor.Forbidden, Message: "workloads is forbidden"}},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Unknown, auditor.SR3: auditor.Enforced},
			inconclusive: []string{"forbidden-input"},
		},
		"a CRD that is not served is a normal case": {
			rules:        []auditor.Rule{notServedInput},
			availability: map[string]auditor.Availability{auditor.ResourceCNPGClusters: {State: auditor.NotServed}},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"offline, a needed input absent from the inputs: unknown, naming it": {
			rules:        []auditor.Rule{needsNamespaces},
			seen:         map[string]bool{auditor.ResourceNetworkPolicies: true},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
			inconclusive: []string{"needs-namespaces"},
		},
		"offline, the needed input among the inputs, an optional one absent: enforced": {
			rules: []auditor.Rule{needsNamespaces},
			seen:  map[string]bool{auditor.ResourceNamespaces: true},
			want:  map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"live, a synced empty list of a needed input is knowledge: enforced": {
			rules:        []auditor.Rule{needsNamespaces},
			availability: map[string]auditor.Availability{auditor.ResourceNamespaces: {State: auditor.Synced}},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"a control with nothing in scope and not claimed is not-applicable, even with a rule inconclusive": {
			rules:        []auditor.Rule{notApplicable(auditor.SR3), panicking},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Enforced, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.NotApplicable},
			inconclusive: []string{"panicking"},
		},
		"a violation wins over not-applicable": {
			rules: []auditor.Rule{notApplicable(auditor.SR1), violating},
			want:  map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
		},
		"live, a needed input not synced yet: unknown": {
			rules:        []auditor.Rule{needsNamespaces},
			availability: map[string]auditor.Availability{auditor.ResourceNamespaces: {State: auditor.Pending}},
			want:         map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Enforced, auditor.SR3: auditor.Enforced},
			inconclusive: []string{"needs-namespaces"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &auditor.Snapshot{Availability: tc.availability, Seen: tc.seen}
			s.Index()
			ev := Evaluate(tc.rules, s, 0)
			assert.Equal(t, tc.want, ev.Controls)
			var inc []string
			for id := range ev.Inconclusive {
				inc = append(inc, id)
			}
			assert.ElementsMatch(t, tc.inconclusive, inc)
			if len(tc.inconclusive) > 0 && tc.inconclusive[0] == "panicking" && len(ev.Inconclusive["panicking"]) > 0 {
				assert.Contains(t, ev.Inconclusive["panicking"][0], "rule failed on unexpected input")
			}
			if tc.seen != nil && len(tc.inconclusive) > 0 {
				assert.Equal(t, []string{"no Namespace among the inputs (namespaces): add them to the scan or scan the live cluster"}, ev.Inconclusive["needs-namespaces"])
			}
		})
	}
}

func TestEvaluateAppliesWaivers(t *testing.T) {
	r := fakeRule{meta: auditor.RuleMeta{ID: "r", Control: auditor.SR3}, eval: func(*auditor.Snapshot) auditor.Result {
		f := finding("r", auditor.SR3, auditor.SeverityCritical, "cm")
		f.Object.Kind = "ConfigMap"
		return auditor.Result{Findings: []auditor.Finding{f}}
	}}
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	s := &auditor.Snapshot{Now: now}
	s.ConfigMaps = append(s.ConfigMaps, configMap("ns", "cm", map[string]string{
		auditor.WaiveAnnotation:       "r",
		auditor.WaiveReasonAnnotation: "private network, accepted by the CISO (RISK-12)",
		auditor.WaiveUntilAnnotation:  "2026-12-01T00:00:00Z",
	}))
	s.Index()
	ev := Evaluate([]auditor.Rule{r}, s, 90*24*time.Hour)
	require.Len(t, ev.Findings, 1)
	require.True(t, ev.Findings[0].Waived())
	assert.Equal(t, auditor.Enforced, ev.Controls[auditor.SR3], "a waived finding does not violate its control")
}

type countingSource struct{ n atomic.Int32 }

func (c *countingSource) Snapshot(now time.Time) (*auditor.Snapshot, error) {
	c.n.Add(1)
	s := &auditor.Snapshot{Now: now}
	s.Index()
	return s, nil
}

func TestRunnerDebouncesBursts(t *testing.T) {
	src := &countingSource{}
	r := NewRunner(Options{Source: src, Store: store.New(), Debounce: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	require.Eventually(t, func() bool { return src.n.Load() == 1 }, time.Second, 5*time.Millisecond, "evaluates once at start")
	for i := 0; i < 20; i++ {
		r.Trigger()
		time.Sleep(5 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return src.n.Load() == 2 }, time.Second, 5*time.Millisecond, "a burst becomes one evaluation")
	time.Sleep(150 * time.Millisecond)
	assert.Equal(t, int32(2), src.n.Load(), "no evaluation without a trigger")
	cancel()
	<-done
}

func TestRunnerMaxDelayBoundsAnEndlessBurst(t *testing.T) {
	src := &countingSource{}
	r := NewRunner(Options{Source: src, Store: store.New(), Debounce: 40 * time.Millisecond, MaxDelay: 120 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	require.Eventually(t, func() bool { return src.n.Load() == 1 }, time.Second, 5*time.Millisecond)
	stop := time.After(400 * time.Millisecond)
loop:
	for {
		select {
		case <-stop:
			break loop
		default:
			r.Trigger()
			time.Sleep(10 * time.Millisecond)
		}
	}
	assert.GreaterOrEqual(t, src.n.Load(), int32(3), "triggers every 10ms never go quiet, yet evaluation happens every MaxDelay")
}

func TestEvaluateAttachesLocations(t *testing.T) {
	r := fakeRule{meta: auditor.RuleMeta{ID: "r", Control: auditor.SR3}, eval: func(*auditor.Snapshot) auditor.Result {
		onFile := finding("r", auditor.SR3, auditor.SeverityHigh, "cm")
		onFile.Object.Kind = "ConfigMap"
		unknown := finding("r", auditor.SR3, auditor.SeverityHigh, "elsewhere")
		unknown.Object.Kind = "ConfigMap"
		cluster := auditor.Finding{Rule: "r", Control: auditor.SR3, Severity: auditor.SeverityHigh}
		return auditor.Result{Findings: []auditor.Finding{onFile, unknown, cluster}}
	}}
	loc := auditor.Location{File: "deploy/litellm.yaml", Document: 2, Line: 14}
	cases := map[string]struct {
		locations map[auditor.ObjectKey]auditor.Location
		want      map[string]*auditor.Location
	}{
		"manifest scan": {
			locations: map[auditor.ObjectKey]auditor.Location{{Kind: "ConfigMap", Namespace: "ns", Name: "cm"}: loc},
			want:      map[string]*auditor.Location{"cm": &loc, "elsewhere": nil, "": nil},
		},
		"live source": {want: map[string]*auditor.Location{"cm": nil, "elsewhere": nil, "": nil}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := &auditor.Snapshot{Locations: tc.locations}
			s.Index()
			ev := Evaluate([]auditor.Rule{r}, s, 0)
			got := map[string]*auditor.Location{}
			for _, f := range ev.Findings {
				n := ""
				if f.Object != nil {
					n = f.Object.Name
				}
				got[n] = f.Location
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
