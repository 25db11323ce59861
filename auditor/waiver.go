package auditor

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Waiver annotations: a team accepts a rule's risk on one object, with a reason and an
// expiry (RFC 3339). Both are required: a waiver without them waives nothing.
const (
	WaiveAnnotation       = "enforcement-auditor.llm-platform.io/waive"
	WaiveReasonAnnotation = "enforcement-auditor.llm-platform.io/waive-reason"
	WaiveUntilAnnotation  = "enforcement-auditor.llm-platform.io/waive-until"
)

// WaiverInvalidRule is the ID of the rule that reports invalid waivers. Its findings can
// never be waived: a waiver must not hide that waivers are broken.
const WaiverInvalidRule = "waiver-invalid"

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

// WaiverSpec is the waive annotations of one object, parsed but not yet judged.
type WaiverSpec struct {
	Rules  []string // rule IDs listed in the waive annotation, in order, without duplicates
	Reason string
	// Until is the parsed expiry; nil when UntilRaw is empty or not RFC 3339.
	Until    *time.Time
	UntilRaw string
}

// ParseWaiver reads the waive annotations; ok is false when the object waives no rule.
func ParseWaiver(ann map[string]string) (spec WaiverSpec, ok bool) {
	seen := map[string]bool{}
	for _, r := range WaivedRules(ann) {
		if !seen[r] {
			seen[r] = true
			spec.Rules = append(spec.Rules, r)
		}
	}
	if len(spec.Rules) == 0 {
		return WaiverSpec{}, false
	}
	spec.Reason = strings.TrimSpace(ann[WaiveReasonAnnotation])
	spec.UntilRaw = strings.TrimSpace(ann[WaiveUntilAnnotation])
	if until, ok := ParseWaiveUntil(ann); ok {
		spec.Until = until
	}
	return spec, true
}

// Expired reports whether the waiver has a valid expiry at or before now.
func (w WaiverSpec) Expired(now time.Time) bool {
	return w.Until != nil && !now.Before(*w.Until)
}

// Problems lists why the waiver is invalid at now, one sentence each naming the
// annotation: no reason, no expiry, an expiry that is not RFC 3339, or (when maxDuration
// is positive) an expiry further than maxDuration after now. An expired waiver is not
// invalid, merely inactive. Values are quoted only after truncation (annotations are
// free text).
func (w WaiverSpec) Problems(now time.Time, maxDuration time.Duration) []string {
	var out []string
	if w.Reason == "" {
		out = append(out, fmt.Sprintf("annotation %s is missing or empty", WaiveReasonAnnotation))
	}
	switch {
	case w.UntilRaw == "":
		out = append(out, fmt.Sprintf("annotation %s is missing: a waiver must expire", WaiveUntilAnnotation))
	case w.Until == nil:
		out = append(out, fmt.Sprintf("annotation %s %q is not an RFC 3339 time (e.g. 2026-01-31T00:00:00Z)", WaiveUntilAnnotation, truncate(w.UntilRaw, 64)))
	case maxDuration > 0 && w.Until.Sub(now) > maxDuration:
		out = append(out, fmt.Sprintf("annotation %s %s is %s ahead, beyond the maximum of %s (waivers.maxDuration)",
			WaiveUntilAnnotation, w.Until.Format(time.RFC3339), ceilDays(w.Until.Sub(now)), FormatDays(maxDuration)))
	}
	return out
}

// ActiveWaiver returns the waiver covering rule on an object with these annotations at
// time now, or nil. An expired, invalid (no reason, no or unparseable expiry) waiver
// waives nothing, and findings of WaiverInvalidRule are never waived. It does not bound
// the expiry: see ActiveWaiverWithin.
func ActiveWaiver(ann map[string]string, rule string, now time.Time) *Waiver {
	return ActiveWaiverWithin(ann, rule, now, 0)
}

// ActiveWaiverWithin is ActiveWaiver that also refuses a waiver expiring more than
// maxDuration after now (config waivers.maxDuration); zero or negative means no bound.
func ActiveWaiverWithin(ann map[string]string, rule string, now time.Time, maxDuration time.Duration) *Waiver {
	if rule == WaiverInvalidRule {
		return nil
	}
	spec, ok := ParseWaiver(ann)
	if !ok || !spec.covers(rule) || spec.Expired(now) || len(spec.Problems(now, maxDuration)) > 0 {
		return nil
	}
	until := *spec.Until
	return &Waiver{Reason: spec.Reason, Until: &until}
}

func (w WaiverSpec) covers(rule string) bool {
	for _, r := range w.Rules {
		if r == rule {
			return true
		}
	}
	return false
}

// FormatDays renders a duration in whole days when it is a whole number of days
// ("90 days"), else in Go notation.
func FormatDays(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		if d == day {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// ceilDays renders a positive duration rounded up to whole days, so that a waiver one
// hour past a 90-day limit reads "91 days", not "90 days".
func ceilDays(d time.Duration) string {
	n := int64(math.Ceil(d.Hours() / 24))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// truncate shortens s to at most n runes, marking the cut, and drops invalid UTF-8.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "..."
}
