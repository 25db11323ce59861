package auditor

import (
	"strings"
	"time"
)

// Waiver annotations: a team accepts a rule's risk on one object, with a reason and
// optionally an expiry (RFC 3339).
const (
	WaiveAnnotation       = "enforcement-auditor.llm-platform.io/waive"
	WaiveReasonAnnotation = "enforcement-auditor.llm-platform.io/waive-reason"
	WaiveUntilAnnotation  = "enforcement-auditor.llm-platform.io/waive-until"
)

// WaivedRules returns the rule IDs listed in the waive annotation (comma separated).
func WaivedRules(ann map[string]string) []string {
	v := strings.TrimSpace(ann[WaiveAnnotation])
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseWaiveUntil parses the expiry annotation; ok is false when it is set but invalid.
func ParseWaiveUntil(ann map[string]string) (until *time.Time, ok bool) {
	v := strings.TrimSpace(ann[WaiveUntilAnnotation])
	if v == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, false
	}
	return &t, true
}

// ActiveWaiver returns the waiver covering rule on an object with these annotations at
// time now, or nil. An expired waiver or an unparseable expiry waives nothing.
func ActiveWaiver(ann map[string]string, rule string, now time.Time) *Waiver {
	found := false
	for _, r := range WaivedRules(ann) {
		if r == rule {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	until, ok := ParseWaiveUntil(ann)
	if !ok || (until != nil && !now.Before(*until)) {
		return nil
	}
	return &Waiver{Reason: strings.TrimSpace(ann[WaiveReasonAnnotation]), Until: until}
}
