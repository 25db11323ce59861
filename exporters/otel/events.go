package otel

import (
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otellog "go.opentelemetry.io/otel/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/store"
)

// EventPrefix starts every event name; the transition type follows
// (enforcement_auditor.finding.opened, ...).
const EventPrefix = "enforcement_auditor.finding."

// SeverityChanged is the event-name suffix of a Changed transition whose severity
// differs from the previous one: routing on it (paging on an escalation) needs no
// attribute comparison, while message-only changes stay "changed".
const SeverityChanged = "severity_changed"

// Attribute keys of the finding events. Kubernetes object names use the OpenTelemetry
// semantic conventions where one exists for the kind (k8s.pod.name, ...); the generic
// object keys live under enforcement_auditor.* because k8s.* is reserved for the
// semantic conventions.
const (
	AttrRule             = "enforcement_auditor.rule"
	AttrControl          = "enforcement_auditor.control"
	AttrSeverity         = "enforcement_auditor.severity"
	AttrPreviousSeverity = "enforcement_auditor.previous_severity"
	AttrFingerprint      = "enforcement_auditor.finding.fingerprint"
	AttrFirstSeen        = "enforcement_auditor.finding.first_seen"
	AttrLastSeen         = "enforcement_auditor.finding.last_seen"
	AttrMessage          = "enforcement_auditor.finding.message"
	AttrWaived           = "enforcement_auditor.finding.waived"
	AttrWaiverReason     = "enforcement_auditor.waiver.reason"
	AttrWaiverUntil      = "enforcement_auditor.waiver.until"
	AttrObjectAPIVersion = "enforcement_auditor.object.api_version"
	AttrObjectKind       = "enforcement_auditor.object.kind"
	AttrObjectName       = "enforcement_auditor.object.name"
)

// kindNameKeys maps a core kind to its semantic-convention name attribute.
var kindNameKeys = map[string]attribute.Key{
	"Pod":                     semconv.K8SPodNameKey,
	"Deployment":              semconv.K8SDeploymentNameKey,
	"DaemonSet":               semconv.K8SDaemonSetNameKey,
	"StatefulSet":             semconv.K8SStatefulSetNameKey,
	"ReplicaSet":              semconv.K8SReplicaSetNameKey,
	"Job":                     semconv.K8SJobNameKey,
	"CronJob":                 semconv.K8SCronJobNameKey,
	"Node":                    semconv.K8SNodeNameKey,
	"Namespace":               semconv.K8SNamespaceNameKey,
	"Service":                 semconv.K8SServiceNameKey,
	"ReplicationController":   semconv.K8SReplicationControllerNameKey,
	"ResourceQuota":           semconv.K8SResourceQuotaNameKey,
	"HorizontalPodAutoscaler": semconv.K8SHPANameKey,
	"PersistentVolume":        semconv.K8SPersistentvolumeNameKey,
	"PersistentVolumeClaim":   semconv.K8SPersistentvolumeclaimNameKey,
	"StorageClass":            semconv.K8SStorageclassNameKey,
}

// coreGroups are the API groups whose kinds the semantic conventions name; a CRD that
// reuses a core kind name (a Kueue "Workload" is fine, a custom "Job" is not a batch Job)
// gets only the generic keys.
var coreGroups = map[string]bool{"": true, "apps": true, "batch": true, "autoscaling": true, "storage.k8s.io": true}

// EventName returns the event name of a transition.
func EventName(t store.Transition) string {
	typ := string(t.Type)
	if t.Type == store.Changed && t.Previous != nil && t.Previous.Severity != t.Record.Severity {
		typ = SeverityChanged
	}
	return EventPrefix + sanitize(typ)
}

// sanitize keeps an event-name segment to [a-z0-9_] whatever a future transition type
// is spelled like.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// Record builds the log record of one transition. at is used when the transition
// carries no time.
func Record(t store.Transition, at time.Time) otellog.Record {
	f := &t.Record.Finding
	var r otellog.Record
	r.SetEventName(EventName(t))
	ts := t.At
	if ts.IsZero() {
		ts = at
	}
	r.SetTimestamp(ts)
	sev := recordSeverity(t)
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(f.Message))

	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = append(attrs,
		attribute.String(AttrRule, f.Rule),
		attribute.String(AttrControl, string(f.Control)),
		attribute.String(AttrSeverity, f.Severity.String()),
		attribute.String(AttrFingerprint, f.Fingerprint()),
		attribute.String(AttrMessage, f.Message),
		attribute.Bool(AttrWaived, f.Waived()),
	)
	if !t.Record.FirstSeen.IsZero() {
		attrs = append(attrs, attribute.String(AttrFirstSeen, t.Record.FirstSeen.UTC().Format(time.RFC3339Nano)))
	}
	if !t.Record.LastSeen.IsZero() {
		attrs = append(attrs, attribute.String(AttrLastSeen, t.Record.LastSeen.UTC().Format(time.RFC3339Nano)))
	}
	if t.Previous != nil {
		attrs = append(attrs, attribute.String(AttrPreviousSeverity, t.Previous.Severity.String()))
	}
	// The waiver of a waived finding, or of the one that just expired.
	w := f.Waiver
	if w == nil && t.Previous != nil {
		w = t.Previous.Waiver
	}
	if w != nil {
		attrs = append(attrs, attribute.String(AttrWaiverReason, w.Reason))
		if w.Until != nil {
			attrs = append(attrs, attribute.String(AttrWaiverUntil, w.Until.UTC().Format(time.RFC3339)))
		}
	}
	attrs = append(attrs, objectAttributes(f.Object)...)
	r.AddAttributes(attrs...)
	return r
}

// objectAttributes names the object under the semantic-convention keys where they exist
// and always under the generic keys, so one query finds every event of a kind.
func objectAttributes(o *auditor.ObjectRef) []attribute.KeyValue {
	if o == nil {
		return nil
	}
	var out []attribute.KeyValue
	if o.Namespace != "" {
		out = append(out, semconv.K8SNamespaceNameKey.String(o.Namespace))
	}
	group := ""
	if i := strings.LastIndex(o.APIVersion, "/"); i >= 0 {
		group = o.APIVersion[:i]
	}
	if k, ok := kindNameKeys[o.Kind]; ok && coreGroups[group] && !(o.Kind == "Namespace" && o.Namespace != "") {
		out = append(out, k.String(o.Name))
	}
	if o.APIVersion != "" {
		out = append(out, attribute.String(AttrObjectAPIVersion, o.APIVersion))
	}
	return append(out, attribute.String(AttrObjectKind, o.Kind), attribute.String(AttrObjectName, o.Name))
}

// recordSeverity is the log severity of the event: a finding appearing, changing or
// losing its waiver is as severe as the finding; a resolution or a waived finding is
// news (the store opens findings born under a waiver with the waiver set).
func recordSeverity(t store.Transition) otellog.Severity {
	if t.Type == store.Resolved || t.Type == store.Waived || t.Record.Waived() {
		return otellog.SeverityInfo
	}
	switch t.Record.Severity {
	case auditor.SeverityInfo:
		return otellog.SeverityInfo
	case auditor.SeverityLow:
		return otellog.SeverityInfo2
	case auditor.SeverityMedium:
		return otellog.SeverityWarn
	case auditor.SeverityHigh:
		return otellog.SeverityError
	case auditor.SeverityCritical:
		return otellog.SeverityError2
	}
	return otellog.SeverityWarn
}
