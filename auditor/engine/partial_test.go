package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// TestPartialScanDoesNotJudgeAbsences: in a partial scan a finding resting on an absence
// (the rule's Absence, or the finding's own Absent) is not judged: the control is unknown
// and the reason names what is not among the inputs. A full scan keeps it; a finding on
// what the inputs hold stays in both.
func TestPartialScanDoesNotJudgeAbsences(t *testing.T) {
	ns := &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: "serving"}
	absenceRule := fakeRule{meta: auditor.RuleMeta{ID: "deny-missing", Control: auditor.SR1, Absence: []string{auditor.ResourceNetworkPolicies}},
		eval: func(*auditor.Snapshot) auditor.Result {
			return auditor.Result{Findings: []auditor.Finding{{Rule: "deny-missing", Control: auditor.SR1, Severity: auditor.SeverityHigh, Object: ns}}}
		}}
	mixedRule := fakeRule{meta: auditor.RuleMeta{ID: "db", Control: auditor.SR3},
		eval: func(*auditor.Snapshot) auditor.Result {
			return auditor.Result{Findings: []auditor.Finding{
				{Rule: "db", Control: auditor.SR3, Severity: auditor.SeverityMedium, Absent: []string{auditor.ResourceCNPGClusters, auditor.ResourceCNPGClusters}},
				finding("db", auditor.SR3, auditor.SeverityHigh, "held"),
			}}
		}}
	presenceRule := fakeRule{meta: auditor.RuleMeta{ID: "open", Control: auditor.SR2},
		eval: func(*auditor.Snapshot) auditor.Result {
			return auditor.Result{Findings: []auditor.Finding{finding("open", auditor.SR2, auditor.SeverityCritical, "p")}}
		}}
	rules := []auditor.Rule{absenceRule, mixedRule, presenceRule}
	snap := func(partial bool) *auditor.Snapshot {
		s := &auditor.Snapshot{Seen: map[string]bool{auditor.ResourceNamespaces: true}, Partial: partial}
		s.Index()
		return s
	}
	cases := map[string]struct {
		partial      bool
		rules        []string
		controls     map[auditor.Control]auditor.ControlState
		inconclusive map[string][]string
	}{
		"full scan: the absence is SR1's gap": {
			rules:        []string{"deny-missing", "open", "db", "db"},
			controls:     map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Violated, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Violated},
			inconclusive: map[string][]string{},
		},
		"partial scan: absences not among the inputs": {
			partial:  true,
			rules:    []string{"open", "db"},
			controls: map[auditor.Control]auditor.ControlState{auditor.SR1: auditor.Unknown, auditor.SR2: auditor.Violated, auditor.SR3: auditor.Violated},
			inconclusive: map[string][]string{
				"deny-missing": {"partial scan: its finding on Namespace/serving rests on no NetworkPolicy being among the inputs, and the files not scanned may hold one; scan them all to judge it"},
				"db":           {"partial scan: its finding rests on no Cluster being among the inputs, and the files not scanned may hold one; scan them all to judge it"},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := Evaluate(rules, snap(tc.partial), 0)
			var got []string
			for _, f := range ev.Findings {
				got = append(got, f.Rule)
			}
			assert.Equal(t, tc.rules, got)
			assert.Equal(t, tc.controls, ev.Controls)
			assert.Equal(t, tc.inconclusive, ev.Inconclusive)
		})
	}
}

// TestScopedScanJudgesWhatItRead: a live scan scoped to namespaces read every
// cluster-scoped object and the namespaced objects of those namespaces: an absence
// there is judged, one elsewhere is not.
func TestScopedScanJudgesWhatItRead(t *testing.T) {
	nsRef := func(name string) *auditor.ObjectRef {
		return &auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: name}
	}
	cm := &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "litellm", Name: "c"}
	cases := map[string]struct {
		obj    *auditor.ObjectRef
		absent []string
		judged bool
	}{
		"a namespace read":                        {nsRef("serving"), []string{auditor.ResourceNetworkPolicies}, true},
		"a namespace not read":                    {nsRef("inference"), []string{auditor.ResourceNetworkPolicies}, false},
		"an object of a namespace not read":       {cm, []string{auditor.ResourceCNPGClusters}, false},
		"cluster-wide, cluster-scoped kinds":      {nil, []string{auditor.ResourceKyvernoClusterPolicies, auditor.ResourceValidatingAdmissionPolicies}, true},
		"cluster-wide, a namespaced kind":         {nil, []string{auditor.ResourceNetworkPolicies}, false},
		"a cluster-scoped object, cluster kinds":  {&auditor.ObjectRef{APIVersion: "v1", Kind: "Node", Name: "n"}, []string{auditor.ResourceKyvernoClusterPolicies}, true},
		"a cluster-scoped object, namespaced one": {&auditor.ObjectRef{APIVersion: "v1", Kind: "Node", Name: "n"}, []string{auditor.ResourceConfigMaps}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := fakeRule{meta: auditor.RuleMeta{ID: "r", Control: auditor.SR1, Absence: tc.absent}, eval: func(*auditor.Snapshot) auditor.Result {
				return auditor.Result{Findings: []auditor.Finding{{Rule: "r", Control: auditor.SR1, Severity: auditor.SeverityHigh, Object: tc.obj}}}
			}}
			s := &auditor.Snapshot{Scope: []string{"serving", "team-a"}}
			s.Index()
			ev := Evaluate([]auditor.Rule{r}, s, 0)
			if tc.judged {
				assert.Len(t, ev.Findings, 1)
				assert.Empty(t, ev.Inconclusive)
				return
			}
			assert.Empty(t, ev.Findings)
			if assert.Len(t, ev.Inconclusive["r"], 1) {
				assert.Contains(t, ev.Inconclusive["r"][0], "scan scoped to namespaces serving, team-a: its finding")
				assert.Contains(t, ev.Inconclusive["r"][0], "the namespaces not read may hold one")
			}
			assert.Equal(t, auditor.Unknown, ev.Controls[auditor.SR1])
		})
	}
}
