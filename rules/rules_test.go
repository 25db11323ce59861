package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
	"github.com/llm-platform/enforcement-auditor/rules/sr1"
	"github.com/llm-platform/enforcement-auditor/rules/sr2"
	"github.com/llm-platform/enforcement-auditor/rules/sr3"
)

func TestAllSortedAndUnique(t *testing.T) {
	cfg := auditor.DefaultConfig()
	all := All(cfg)
	require.Len(t, all, len(sr1.Rules(cfg))+len(sr2.Rules(cfg))+len(sr3.Rules(cfg))+1, "every family's rules and the waiver rule")
	require.GreaterOrEqual(t, len(all), 21)
	seen := map[string]bool{}
	for i, r := range all {
		m := r.Meta()
		assert.False(t, seen[m.ID], "duplicate rule ID %s", m.ID)
		seen[m.ID] = true
		assert.NotEmpty(t, m.Title, m.ID)
		assert.NotEmpty(t, m.Pass, "%s: what holds when it finds nothing (the policy reports' pass message)", m.ID)
		assert.NotEmpty(t, m.Remediation, m.ID)
		if i > 0 {
			p := all[i-1].Meta()
			assert.True(t, p.Control < m.Control || (p.Control == m.Control && p.ID < m.ID), "%s sorts before %s", p.ID, m.ID)
		}
	}
	assert.Equal(t, "cni-not-enforcing", all[0].Meta().ID)
	assert.Equal(t, "litellm-prod-absent", all[len(all)-1].Meta().ID)
}

func TestCatalogueIsAllsMetadata(t *testing.T) {
	// Pod predicates are functions (not comparable): compare whether each has one.
	strip := func(m auditor.RuleMeta) (auditor.RuleMeta, bool) { has := m.Pods != nil; m.Pods = nil; return m, has }
	var metas []auditor.RuleMeta
	var preds []bool
	for _, r := range All(auditor.DefaultConfig()) {
		m, has := strip(r.Meta())
		metas, preds = append(metas, m), append(preds, has)
	}
	var cat []auditor.RuleMeta
	var catPreds []bool
	for _, m := range Catalogue() {
		m, has := strip(m)
		cat, catPreds = append(cat, m), append(catPreds, has)
	}
	assert.Equal(t, metas, cat)
	assert.Equal(t, preds, catPreds)
}

var scopeRuleIDs = map[string]bool{"protected-namespace-absent": true, "kueue-managed-namespace-absent": true, "litellm-prod-absent": true}

func TestEveryRuleEvaluatesAnEmptySnapshot(t *testing.T) {
	s := snapshottest.New()
	for _, r := range All(auditor.DefaultConfig()) {
		t.Run(r.Meta().ID, func(t *testing.T) {
			var res auditor.Result
			require.NotPanics(t, func() { res = r.Evaluate(s) })
			for _, f := range res.Findings {
				if scopeRuleIDs[f.Rule] {
					continue // a claimed control with nothing in scope: the finding is the point
				}
				// Only notes such as "protected namespace serving does not exist".
				assert.Equal(t, auditor.SeverityInfo, f.Severity, f.Message)
			}
		})
	}
}

// Needs are inputs the rule's silence rests on: each must be one it reads (Inputs), so
// the live source's availability of it is reported too.
func TestRuleNeedsAreInputs(t *testing.T) {
	for _, m := range Catalogue() {
		for _, n := range m.Needs {
			assert.Contains(t, m.Inputs, n, "%s needs %s but does not declare it in Inputs", m.ID, n)
		}
		for _, n := range m.Absence {
			assert.Contains(t, m.Inputs, n, "%s rests on the absence of %s but does not declare it in Inputs", m.ID, n)
		}
	}
}

// TestAbsenceRules: the rules whose findings rest on an absence among the inputs, which
// a partial scan does not judge (scan --partial).
func TestAbsenceRules(t *testing.T) {
	var got []string
	for _, m := range Catalogue() {
		if len(m.Absence) > 0 {
			got = append(got, m.ID)
		}
	}
	assert.Equal(t, []string{"netpol-default-deny-missing", "tenant-namespace-admits-host-network", "gpu-gate-policy-missing"}, got)
}

// TestWaiverRuleKnowsTheCatalogue: every rule of the catalogue can be waived without an
// unknown-rule finding, so All wires the waiver rule to the real rule IDs.
func TestWaiverRuleKnowsTheCatalogue(t *testing.T) {
	var waiver auditor.Rule
	var ids []string
	for _, r := range All(auditor.DefaultConfig()) {
		if id := r.Meta().ID; id != auditor.WaiverInvalidRule {
			ids = append(ids, id)
		} else {
			waiver = r
		}
	}
	require.NotNil(t, waiver)
	require.NotEmpty(t, ids)
	wvNow := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	wvPod := func(ids, reason, until string) *corev1.Pod {
		ann := map[string]string{auditor.WaiveAnnotation: ids, auditor.WaiveUntilAnnotation: until}
		if reason != "" {
			ann[auditor.WaiveReasonAnnotation] = reason
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "trainer", Annotations: ann}}
	}
	in30d := wvNow.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	res := waiver.Evaluate(snapshottest.New(snapshottest.At(wvNow), wvPod(strings.Join(ids, ","), "accepted", in30d)))
	assert.Empty(t, res.Findings)
	res = waiver.Evaluate(snapshottest.New(snapshottest.At(wvNow), wvPod(strings.Join(ids, ","), "", in30d)))
	assert.Len(t, res.Findings, len(ids), "one finding per waived rule")
}
