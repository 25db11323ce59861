package otel

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

func attrsOf(r otellog.Record) map[string]any {
	out := map[string]any{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		out[string(kv.Key)] = kv.Value.AsInterface()
		return true
	})
	return out
}

func TestRecordMapping(t *testing.T) {
	high := auditor.Finding{Rule: "r", Control: auditor.SR1, Severity: auditor.SeverityHigh, Message: "m",
		Object: &auditor.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "serving", Name: "p"}}
	withMessage := func(f auditor.Finding, m string) *auditor.Finding { f.Message = m; return &f }
	withObject := func(f auditor.Finding, o *auditor.ObjectRef) auditor.Finding { f.Object = o; return f }
	waived := high
	waived.Waiver = &auditor.Waiver{Reason: "accepted"}

	cases := map[string]struct {
		tr       store.Transition
		name     string
		severity otellog.Severity
		has      map[string]any
		hasNot   []string
	}{
		"changed message only stays changed": {
			tr:   store.Transition{Type: store.Changed, Record: store.Record{Finding: high}, Previous: withMessage(high, "old")},
			name: "enforcement_auditor.finding.changed", severity: otellog.SeverityError,
			has: map[string]any{AttrPreviousSeverity: "high"},
		},
		"future transition type is named generically": {
			tr:   store.Transition{Type: store.TransitionType("Re-Opened"), Record: store.Record{Finding: high}},
			name: "enforcement_auditor.finding.re_opened", severity: otellog.SeverityError,
		},
		"opened already waived is informational": {
			tr:   store.Transition{Type: store.Opened, Record: store.Record{Finding: waived}},
			name: "enforcement_auditor.finding.opened", severity: otellog.SeverityInfo,
			has: map[string]any{AttrWaived: true, AttrWaiverReason: "accepted"}, hasNot: []string{AttrWaiverUntil},
		},
		"CRD reusing a core kind name gets only the generic keys": {
			tr: store.Transition{Type: store.Opened, Record: store.Record{Finding: withObject(high,
				&auditor.ObjectRef{APIVersion: "example.io/v1", Kind: "Job", Namespace: "ml", Name: "j"})}},
			name: "enforcement_auditor.finding.opened", severity: otellog.SeverityError,
			has:    map[string]any{"k8s.namespace.name": "ml", AttrObjectKind: "Job", AttrObjectName: "j", AttrObjectAPIVersion: "example.io/v1"},
			hasNot: []string{"k8s.job.name"},
		},
		"batch Job gets the semantic-convention key": {
			tr: store.Transition{Type: store.Opened, Record: store.Record{Finding: withObject(high,
				&auditor.ObjectRef{APIVersion: "batch/v1", Kind: "Job", Namespace: "ml", Name: "j"})}},
			name: "enforcement_auditor.finding.opened", severity: otellog.SeverityError,
			has: map[string]any{"k8s.job.name": "j"},
		},
		"cluster-scoped node": {
			tr: store.Transition{Type: store.Opened, Record: store.Record{Finding: withObject(high,
				&auditor.ObjectRef{APIVersion: "v1", Kind: "Node", Name: "gpu-1"})}},
			name: "enforcement_auditor.finding.opened", severity: otellog.SeverityError,
			has: map[string]any{"k8s.node.name": "gpu-1"}, hasNot: []string{"k8s.namespace.name"},
		},
		"finding about the cluster has no object keys": {
			tr:   store.Transition{Type: store.Resolved, Record: store.Record{Finding: withObject(high, nil)}},
			name: "enforcement_auditor.finding.resolved", severity: otellog.SeverityInfo,
			hasNot: []string{AttrObjectKind, AttrObjectName, "k8s.namespace.name", AttrFirstSeen, AttrLastSeen},
		},
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := Record(tc.tr, at)
			assert.Equal(t, tc.name, r.EventName())
			assert.Equal(t, tc.severity, r.Severity())
			assert.Equal(t, at, r.Timestamp(), "a transition without time takes the evaluation's")
			got := attrsOf(r)
			assert.Equal(t, tc.tr.Record.Fingerprint(), got[AttrFingerprint])
			for k, v := range tc.has {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tc.hasNot {
				assert.NotContains(t, got, k)
			}
		})
	}
}
