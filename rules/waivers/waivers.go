// Package waivers holds the rule about waivers themselves: waiver-invalid judges the
// waive annotations of every object against the catalogue of the other rules.
package waivers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/internal/family"
)

// Rules returns the waiver rules; known are the metadata of every other rule (a waiver
// naming none of them waives nothing).
func Rules(cfg auditor.Config, known []auditor.RuleMeta) []auditor.Rule {
	return []auditor.Rule{waiverInvalid(cfg, known)}
}

// waiverInvalid: a waive annotation the auditor does not honour, or should not. One
// finding per object and waived rule (Discriminator: the rule ID), carrying the waived
// rule's control at medium severity: an invalid exception to a control is a defect of
// that control, and keeps it from reading "enforced" while a bad waiver (an expiry beyond
// waivers.maxDuration, which the engine does not bound yet) still hides its findings.
// A waiver naming an unknown rule, or this rule, waives nothing and belongs to no
// control: it is reported at low severity under this rule's own control, so a typo
// does not flip a control's state.
//
// Expired waivers are not reported: they waive nothing, and the finding they covered
// comes back with a waiver_expired transition. Objects the snapshot does not hold
// cannot carry an applied waiver either, so the rule declares no inputs: it is never
// inconclusive, it judges exactly the waivers the engine could apply.
func waiverInvalid(cfg auditor.Config, known []auditor.RuleMeta) auditor.Rule {
	maxDur := cfg.Waivers.MaxDuration.Duration
	meta := auditor.RuleMeta{
		ID: auditor.WaiverInvalidRule, Control: auditor.SR1, Severity: auditor.SeverityMedium, Scope: auditor.ScopeNamespace,
		Pods:  waiverPods,
		Title: "Waiver annotation the auditor does not accept",
		Pass:  "every waiver annotation is well formed, bounded in time and names known rules",
		Remediation: fmt.Sprintf("Give the waiver a reason (annotation %s) and an RFC 3339 expiry (annotation %s) at most %s ahead, "+
			"and list only rule IDs from docs/rules in %s; or remove the waive annotations and fix the finding.",
			auditor.WaiveReasonAnnotation, auditor.WaiveUntilAnnotation, auditor.FormatDays(maxDur), auditor.WaiveAnnotation),
	}
	byID := make(map[string]auditor.RuleMeta, len(known))
	for _, m := range known {
		byID[m.ID] = m
	}
	return family.New(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		for _, o := range annotatedObjects(s) {
			res.Findings = append(res.Findings, judgeWaiver(meta, byID, maxDur, s, o)...)
		}
		return res
	})
}

// annotated is one object that may carry a waiver.
type annotated struct {
	ref *auditor.ObjectRef
	ann map[string]string
	// malformed names an annotations field that is not a map of strings while it holds
	// a waive key (manifests only; the API server rejects such objects).
	malformed string
}

// annotatedObjects lists every object whose findings the engine can waive: the objects
// of every kind Snapshot.Annotations resolves (the table of kinds; owner kinds keep no
// annotations).
func annotatedObjects(s *auditor.Snapshot) []annotated {
	var out []annotated
	for _, r := range auditor.Kinds {
		if !r.Typed() {
			continue // custom kinds below, tolerant of malformed annotations
		}
		for _, o := range r.Objects(s) {
			if ann := o.GetAnnotations(); len(ann) > 0 {
				out = append(out, annotated{ref: &auditor.ObjectRef{APIVersion: r.APIVersion(), Kind: r.Kind, Namespace: o.GetNamespace(), Name: o.GetName()}, ann: ann})
			}
		}
	}
	gks := make([]schema.GroupKind, 0, len(s.Custom))
	for gk := range s.Custom {
		gks = append(gks, gk)
	}
	sort.Slice(gks, func(i, j int) bool { return gks[i].String() < gks[j].String() })
	for _, gk := range gks {
		for _, u := range s.Custom[gk] {
			if a, ok := customAnnotated(u); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// customAnnotated reads an unstructured object's annotations without trusting their
// types: a non-string value makes GetAnnotations return nil, which would silently drop
// a waiver the author meant to set.
func customAnnotated(u *unstructured.Unstructured) (annotated, bool) {
	if u == nil {
		return annotated{}, false
	}
	ref := &auditor.ObjectRef{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	if ann := u.GetAnnotations(); len(ann) > 0 {
		return annotated{ref: ref, ann: ann}, true
	}
	raw, found, err := unstructured.NestedFieldNoCopy(u.Object, "metadata", "annotations")
	if !found || err != nil || raw == nil {
		return annotated{}, false
	}
	m, isMap := raw.(map[string]interface{})
	if !isMap {
		return annotated{}, false // not a map at all: no waiver can be read from it
	}
	for _, k := range []string{auditor.WaiveAnnotation, auditor.WaiveReasonAnnotation, auditor.WaiveUntilAnnotation} {
		if v, ok := m[k]; ok {
			if _, isString := v.(string); !isString {
				return annotated{ref: ref, malformed: fmt.Sprintf("metadata.annotations[%s] is a %T, not a string", k, v)}, true
			}
		}
	}
	return annotated{}, false
}

func judgeWaiver(meta auditor.RuleMeta, known map[string]auditor.RuleMeta, maxDur time.Duration, s *auditor.Snapshot, o annotated) []auditor.Finding {
	if o.malformed != "" {
		f := meta.NewFinding(o.ref, fmt.Sprintf("waiver on %s cannot be read: %s, so the annotations of this object are ignored and nothing is waived",
			o.ref.String(), o.malformed))
		f.Severity = auditor.SeverityLow
		f.Discriminator = "malformed"
		return []auditor.Finding{f}
	}
	spec, ok := auditor.ParseWaiver(o.ann)
	if !ok || spec.Expired(s.Now) {
		return nil
	}
	problems := spec.Problems(s.Now, maxDur)
	var out []auditor.Finding
	for _, id := range spec.Rules {
		m, isKnown := known[id]
		switch {
		case id == meta.ID:
			f := meta.NewFinding(o.ref, fmt.Sprintf("annotation %s on %s lists %s, which cannot be waived; the entry waives nothing",
				auditor.WaiveAnnotation, o.ref.String(), id))
			f.Severity = auditor.SeverityLow
			f.Discriminator = id
			out = append(out, f)
		case !isKnown:
			f := meta.NewFinding(o.ref, fmt.Sprintf("annotation %s on %s names unknown rule %q; the entry waives nothing (check the rule ID against docs/rules)",
				auditor.WaiveAnnotation, o.ref.String(), truncateID(id)))
			f.Severity = auditor.SeverityLow
			f.Discriminator = "unknown:" + id
			out = append(out, f)
		case len(problems) > 0:
			effect := ""
			if len(spec.Problems(s.Now, 0)) > 0 {
				effect = "; it waives nothing"
			}
			f := meta.NewFinding(o.ref, fmt.Sprintf("waiver of rule %s (%s) on %s is invalid: %s%s",
				id, m.Control, o.ref.String(), strings.Join(problems, "; "), effect))
			f.Control = m.Control
			f.Discriminator = id
			out = append(out, f)
		}
	}
	return out
}

// truncateID bounds an unknown rule ID quoted in a message (annotations are free text).
func truncateID(id string) string {
	const n = 63
	if len(id) <= n {
		return id
	}
	return strings.ToValidUTF8(id[:n], "") + "..."
}
