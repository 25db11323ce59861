package auditor

import (
	"strings"
	"time"
)

// Fact is a measured value a rule publishes besides its findings (the detected CNI, GPUs
// by coverage). The Prometheus exporter renders each fact as a gauge named
// enforcement_auditor_<Metric>; all facts of one Metric must use the same label names.
type Fact struct {
	Metric string
	Help   string
	Labels []Label
	Value  float64
}

// Label is one name/value pair of a Fact, kept ordered.
type Label struct{ Name, Value string }

// NetworkProbeResult is the outcome of one TCP connection attempt from the auditor
// (outside the trusted namespaces) to a target in a protected namespace. Probe results
// enter the Snapshot so that rules, not the prober, turn them into findings.
type NetworkProbeResult struct {
	Namespace string // protected namespace of the target
	Target    ObjectRef
	Address   string // host:port tried
	Port      int32
	Reachable bool   // the TCP handshake completed
	Outcome   string // OutcomeConnected, OutcomeRefused, OutcomeTimeout or "error: <reason>"
	At        time.Time
}

// Outcomes of one network probe attempt (NetworkProbeResult.Outcome); any other outcome
// is "error: <reason>", bucketed as OutcomeError.
const (
	OutcomeConnected = "connected"
	OutcomeRefused   = "refused"
	OutcomeTimeout   = "timeout"
	OutcomeError     = "error"
)

// NetworkProbeOutcomes are the outcome buckets (NetworkProbeResult.Bucket), in export order.
var NetworkProbeOutcomes = []string{OutcomeConnected, OutcomeRefused, OutcomeTimeout, OutcomeError}

// Bucket is the result's outcome bucket: a completed handshake is connected; "error: ..."
// and anything unexpected count as error.
func (r NetworkProbeResult) Bucket() string {
	if r.Reachable {
		return OutcomeConnected
	}
	switch r.Outcome {
	case OutcomeConnected, OutcomeRefused, OutcomeTimeout:
		return r.Outcome
	}
	return OutcomeError
}

// AdmissionProbeResult is the outcome of one server-side dry-run create of a GPU pod
// without a queue name in a Kueue-managed namespace.
type AdmissionProbeResult struct {
	Namespace string
	Admitted  bool   // the API server accepted the dry-run create: the gate is bypassed
	DeniedBy  string // the admission message when denied
	Error     string // the probe could not run (permission, network): inconclusive
	// Unguarded, when set, says why the prober refused to run: the guard that keeps the
	// auditor's cluster-wide pod create to dry runs is missing (Error says so too).
	Unguarded string
	At        time.Time
}

// AccessReview is a SubjectAccessReview's answer for one identity and one request: the
// daemon's confirmation (--confirm-rbac) of what the tamper rules decide from the RBAC
// objects. The API server answers with every authorizer it runs (webhooks included), so
// a review overrides the offline decision; rules read reviews beside the objects.
type AccessReview struct {
	User                                                string
	Groups                                              []string
	Verb, Group, Resource, Subresource, Namespace, Name string
	Allowed                                             bool
	// Denied: an authorizer denied explicitly (not merely no opinion).
	Denied bool
	Reason string
	// Error: the review could not be asked (permission, network); the offline decision stands.
	Error string
	At    time.Time
}

// Key identifies the review's question (user, groups and request).
func (r AccessReview) Key() string {
	return strings.Join([]string{r.User, strings.Join(r.Groups, ","), r.Verb, r.Group, r.Resource, r.Subresource, r.Namespace, r.Name}, "\x00")
}
