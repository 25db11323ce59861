// Package evidence builds, signs, verifies and stores compliance evidence documents:
// for each control (SR1, SR2, SR3) its status and every check the auditor performed,
// the objects each check inspected (identity and a SHA-256 of the part it read, never
// their values), the findings with first- and last-seen times and the waivers. A
// document is canonical JSON (RFC 8785) with a SHA-256 digest and an optional ed25519
// signature, so that any change to it is detected.
package evidence

import (
	"time"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Document identity.
const (
	APIVersion = auditor.GroupVersion
	Kind       = "ComplianceEvidence"
)

// Check results.
const (
	ResultPass         = "pass"
	ResultFail         = "fail"
	ResultInconclusive = "inconclusive"
)

// Cluster sources.
const (
	SourceCluster   = "cluster"
	SourceManifests = "manifests"
	// OfflineClusterID is Cluster.ID for a manifest scan.
	OfflineClusterID = "offline"
)

// Document is one piece of compliance evidence. Field order is irrelevant: the canonical
// form sorts members. Lists are never null, so the schema does not depend on content.
type Document struct {
	APIVersion     string    `json:"apiVersion"`
	Kind           string    `json:"kind"`
	GeneratedAt    time.Time `json:"generatedAt"`
	AuditorVersion string    `json:"auditorVersion"`
	Cluster        Cluster   `json:"cluster"`
	// EvaluatedAt is when the snapshot the checks judged was taken.
	EvaluatedAt time.Time `json:"evaluatedAt"`
	Config      ConfigRef `json:"config"`
	Limits      Limits    `json:"limits"`
	// Resources is what the auditor could see of each resource a check reads.
	Resources []Resource `json:"resources"`
	Controls  []Control  `json:"controls"`
	// Findings are every finding of the evaluation, waived or not.
	Findings []Finding `json:"findings"`
	// Waivers lists the accepted risks (the waived findings' waivers).
	Waivers []Waiver `json:"waivers"`
	Probes  Probes   `json:"probes"`
	Facts   []Fact   `json:"facts"`

	// Digest is "sha256:<hex>" over the canonical document without digest and signature.
	Digest    string     `json:"digest,omitempty"`
	Signature *Signature `json:"signature,omitempty"`
}

// Cluster says what was audited.
type Cluster struct {
	// ID is the UID of the kube-system Namespace (stable for a cluster's life), or
	// "offline" for a manifest scan.
	ID string `json:"id"`
	// Source is "cluster" or "manifests".
	Source string `json:"source"`
	// Files are the scanned manifest files (manifests only).
	Files []SourceFile `json:"files,omitempty"`
	// Note explains an ID that could not be determined.
	Note string `json:"note,omitempty"`
}

// SourceFile is one scanned manifest file.
type SourceFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256,omitempty"`
}

// ConfigRef identifies the effective auditor configuration without copying it.
type ConfigRef struct {
	APIVersion string `json:"apiVersion"`
	// SHA256 is over the canonical JSON of the effective configuration.
	SHA256 string `json:"sha256"`
}

// Limits records the bounds the document was built with.
type Limits struct {
	MaxObjectsPerCheck int `json:"maxObjectsPerCheck"`
}

// Resource is the visibility of one resource (auditor.Resource* ID).
type Resource struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	// Objects is how many objects of the resource the snapshot held.
	Objects int `json:"objects"`
}

// Control is one security requirement and the checks that prove it.
type Control struct {
	ID string `json:"id"`
	// Status is the engine's verdict: enforced, violated or unknown.
	Status  string       `json:"status"`
	Summary CheckSummary `json:"summary"`
	Checks  []Check      `json:"checks"`
}

// CheckSummary counts a control's checks by result.
type CheckSummary struct {
	Pass         int `json:"pass"`
	Fail         int `json:"fail"`
	Inconclusive int `json:"inconclusive"`
}

// Check is one rule run over the snapshot.
type Check struct {
	Rule     string `json:"rule"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	// Result: fail when an unwaived finding at or above medium severity counts against
	// the control; else inconclusive when the rule could not fully judge; else pass.
	Result  string   `json:"result"`
	Reasons []string `json:"reasons,omitempty"`
	// Findings counts the rule's unwaived findings (any severity); Waived its waived ones.
	Findings int `json:"findings"`
	Waived   int `json:"waived"`
	// Inputs are the resources the rule reads.
	Inputs []string `json:"inputs"`
	// Objects are the inspected objects, those named by findings first; ObjectsTotal
	// counts them all and ObjectsOmitted those beyond Limits.MaxObjectsPerCheck.
	Objects        []Object `json:"objects"`
	ObjectsTotal   int      `json:"objectsTotal"`
	ObjectsOmitted int      `json:"objectsOmitted"`
}

// Object identifies an inspected object and fingerprints what the check read of it.
type Object struct {
	APIVersion      string `json:"apiVersion"`
	Kind            string `json:"kind"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name"`
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// SHA256 is over the canonical JSON of the object with metadata reduced to name,
	// namespace, labels, annotations and ownerReferences (see docs).
	SHA256 string `json:"sha256,omitempty"`
	// HashError says why SHA256 is missing (an object that is not valid JSON).
	HashError string `json:"hashError,omitempty"`
}

// ObjectRef names the object of a finding.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Finding is one open finding.
type Finding struct {
	Fingerprint string     `json:"fingerprint"`
	Rule        string     `json:"rule"`
	Control     string     `json:"control"`
	Severity    string     `json:"severity"`
	Object      *ObjectRef `json:"object,omitempty"`
	Message     string     `json:"message"`
	FirstSeen   time.Time  `json:"firstSeen"`
	LastSeen    time.Time  `json:"lastSeen"`
	Waiver      *Terms     `json:"waiver,omitempty"`
}

// Terms are a waiver's reason and expiry.
type Terms struct {
	Reason string     `json:"reason"`
	Until  *time.Time `json:"until,omitempty"`
}

// Waiver is an accepted risk: which finding, why, until when.
type Waiver struct {
	Fingerprint string     `json:"fingerprint"`
	Rule        string     `json:"rule"`
	Object      *ObjectRef `json:"object,omitempty"`
	Reason      string     `json:"reason"`
	Until       *time.Time `json:"until,omitempty"`
}

// Probes are the active verifications of the snapshot, failures first.
type Probes struct {
	Network          []NetworkProbe   `json:"network"`
	NetworkOmitted   int              `json:"networkOmitted"`
	Admission        []AdmissionProbe `json:"admission"`
	AdmissionOmitted int              `json:"admissionOmitted"`
}

// NetworkProbe is one connection attempt into a protected namespace.
type NetworkProbe struct {
	Namespace string     `json:"namespace"`
	Target    *ObjectRef `json:"target,omitempty"`
	Address   string     `json:"address"`
	Reachable bool       `json:"reachable"`
	Outcome   string     `json:"outcome"`
	At        time.Time  `json:"at"`
}

// AdmissionProbe is one dry-run create of a GPU pod without a queue name.
type AdmissionProbe struct {
	Namespace string    `json:"namespace"`
	Admitted  bool      `json:"admitted"`
	DeniedBy  string    `json:"deniedBy,omitempty"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// Fact is a measurement a rule published (the detected CNI, ...). Value is null when
// the measurement is not a finite number.
type Fact struct {
	Metric string   `json:"metric"`
	Labels []Label  `json:"labels"`
	Value  *float64 `json:"value"`
}

// Label is one label of a Fact.
type Label struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Signature is an ed25519 signature over the same bytes as the digest.
type Signature struct {
	Algorithm string `json:"algorithm"`
	// KeyID is "sha256:<hex>" of the public key's PKIX DER encoding, as
	// `openssl pkey -pubin -outform DER | sha256sum` prints it.
	KeyID string `json:"keyId"`
	// PublicKey is the raw 32-byte key, base64; Value the 64-byte signature, base64.
	PublicKey string `json:"publicKey"`
	Value     string `json:"value"`
}
