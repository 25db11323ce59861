package auditor

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Control names one of the platform's security requirements.
type Control string

const (
	SR1 Control = "SR1" // the budget path: model servers reachable only through trusted namespaces
	SR2 Control = "SR2" // GPU quota: GPU pods go through Kueue admission
	SR3 Control = "SR3" // fail-closed budgets: LiteLLM prod never serves un-metered
)

// Controls lists every control in display order.
var Controls = []Control{SR1, SR2, SR3}

// Severity orders findings; higher is worse.
type Severity int

const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

// Severities lists every severity from least to most severe.
var Severities = []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity accepts the lower-case names used in the JSON contract and on the CLI.
func ParseSeverity(v string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(v, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want one of %s)", v, strings.Join(severityNames, ", "))
}

func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *Severity) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	p, err := ParseSeverity(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// ObjectRef names the Kubernetes object a finding is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (o *ObjectRef) String() string {
	if o == nil {
		return "(cluster)"
	}
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// MergeRefs returns the references of a and b, each once, sorted by kind, namespace and
// name.
func MergeRefs(a, b []ObjectRef) []ObjectRef {
	seen := make(map[ObjectRef]bool, len(a)+len(b))
	out := make([]ObjectRef, 0, len(a)+len(b))
	for _, r := range append(append([]ObjectRef(nil), a...), b...) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	return out
}

// Finding is one place where a control is not enforced. Rules produce findings;
// the store adds time and state to them.
type Finding struct {
	Rule        string     `json:"rule"`
	Control     Control    `json:"control"`
	Severity    Severity   `json:"severity"`
	Object      *ObjectRef `json:"object,omitempty"`
	Message     string     `json:"message"`
	Remediation string     `json:"remediation"`
	// Discriminator separates several findings of one rule on one object (for example
	// two ingress rules of one NetworkPolicy). It is part of the identity, not shown.
	Discriminator string `json:"-"`
	// Absent lists the resources whose absence this finding rests on, when the rule's
	// other findings do not (see RuleMeta.Absence). Not shown.
	Absent []string `json:"-"`
	// Waiver is set when an active waiver on the object accepts this risk: the finding
	// stays visible but does not count as a violation.
	Waiver *Waiver `json:"waiver,omitempty"`
	// Location is where the object was read from (manifest scans only).
	Location *Location `json:"location,omitempty"`
	// Environment names the platform of a scan of several (a GitOps repository's
	// overlay, see MergeEnvironments); empty when there is one. Part of the identity.
	Environment string `json:"environment,omitempty"`
}

// Waiver records a team's knowing acceptance of a finding.
type Waiver struct {
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until,omitempty"`
}

// Waived reports whether an active waiver covers the finding.
func (f *Finding) Waived() bool { return f.Waiver != nil }

// Key identifies a finding across evaluations: the same rule on the same object.
// Message and severity may change without changing the key.
func (f *Finding) Key() string {
	var b strings.Builder
	if f.Environment != "" {
		b.WriteString(f.Environment)
		b.WriteString("||")
	}
	b.WriteString(f.Rule)
	b.WriteByte('|')
	if f.Object != nil {
		b.WriteString(f.Object.Kind)
		b.WriteByte('|')
		b.WriteString(f.Object.Namespace)
		b.WriteByte('|')
		b.WriteString(f.Object.Name)
	}
	if f.Discriminator != "" {
		b.WriteByte('|')
		b.WriteString(f.Discriminator)
	}
	return b.String()
}

// Fingerprint is a short stable hash of Key, safe to use as an identifier in events
// and evidence.
func (f *Finding) Fingerprint() string {
	sum := sha256.Sum256([]byte(f.Key()))
	return hex.EncodeToString(sum[:8])
}

// Less orders findings deterministically: control, severity (worst first), rule, then
// Key, compared piece by piece without building the keys: sorting or merging thousands
// of findings on every evaluation would otherwise allocate two strings per comparison.
// It is the one finding order: reports, metrics, the store and evidence all use it.
func Less(a, b *Finding) bool {
	if a.Control != b.Control {
		return a.Control < b.Control
	}
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return compareKeys(a, b) < 0
}
