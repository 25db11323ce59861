package kyverno

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Version is a Kyverno release (major.minor.patch). Patch is -1 when only the minor is
// known (read from the chart version label). The zero Version is unknown.
type Version struct {
	Major, Minor, Patch int
	// From says where the version was read ("image ghcr.io/kyverno/kyverno:v1.15.2").
	From string
}

// Known reports whether the version was read.
func (v Version) Known() bool { return v.Major > 0 }

func (v Version) String() string {
	switch {
	case !v.Known():
		return "unknown"
	case v.Patch < 0:
		return fmt.Sprintf("v%d.%d.x", v.Major, v.Minor)
	}
	return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast reports whether v is at or after major.minor.patch. The answer is known only
// when ok: an unknown version, or one whose patch is unknown where the patch decides,
// answers ok=false.
func (v Version) AtLeast(major, minor, patch int) (at, ok bool) {
	if !v.Known() {
		return false, false
	}
	if v.Major != major {
		return v.Major > major, true
	}
	if v.Minor != minor {
		return v.Minor > minor, true
	}
	if v.Patch < 0 {
		return patch == 0, patch == 0
	}
	return v.Patch >= patch, true
}

var semverRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`)

// ParseVersion reads "v1.15.2", "1.15.2" or "v1.16.0-rc.1" (the pre-release is read as
// its release).
func ParseVersion(s string) (Version, bool) {
	m := semverRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return Version{Major: a, Minor: b, Patch: c}, a > 0
}

// VersionFact is one behaviour of Kyverno the gate checks depend on that changed between
// releases, with where it was read upstream.
type VersionFact struct {
	ID      string
	Summary string
	Source  string
}

// The version facts. Every version-dependent reading in this package names one of them.
var (
	FactRuleFailureAction = VersionFact{ID: "rule-failure-action",
		Summary: "validate.failureAction and validate.failureActionOverrides on a rule exist from v1.13.0; up to v1.12 only spec.validationFailureAction and spec.validationFailureActionOverrides count",
		Source:  "kyverno/kyverno v1.12.0 and v1.13.0: pkg/policycache/cache.go checkValidationFailureActionOverrides"}
	FactOverrideFirstMatch = VersionFact{ID: "override-first-match",
		Summary: "from v1.13.3 the first override whose namespaces match decides, over the rule's own failureAction, and a rule no override matches keeps its action; in v1.13.0-v1.13.2 a rule with overrides enforces only where an Enforce override matches",
		Source:  "kyverno/kyverno v1.13.2 and v1.13.3: pkg/policycache/cache.go checkValidationFailureActionOverrides (kyverno#11811)"}
	FactOverrideNamespaceSelector = VersionFact{ID: "override-namespace-selector",
		Summary: "failure-action overrides match by namespaceSelector from v1.17.0; up to v1.16 only the namespaces wildcards match, and an override without namespaces matches no namespace",
		Source:  "kyverno/kyverno v1.16.0 and v1.17.0: pkg/policycache/cache.go checkValidationFailureActionOverrides"}
	FactExceptionsDefault = VersionFact{ID: "policy-exceptions-default",
		Summary: "--enablePolicyException defaults to false in v1.10, true in v1.11 and v1.12, false from v1.13 (the Helm chart's features.policyExceptions.enabled follows); up to v1.12 an empty --exceptionNamespace accepts exceptions from every namespace, from v1.13 it disables them and \"*\" means every namespace",
		Source:  "kyverno/kyverno v1.10.0..v1.19.0: cmd/internal/flag.go, cmd/internal/engine.go NewExceptionSelector, pkg/controllers/exceptions/controller.go, charts/kyverno/values.yaml features.policyExceptions"}
	FactCELExceptions = VersionFact{ID: "cel-policy-exceptions",
		Summary: "policies.kyverno.io PolicyExceptions (policyRefs, matchConditions) apply to ValidatingPolicies when --enablePolicyException is on; served as v1alpha1 in v1.14-v1.15, v1beta1 from v1.16, v1 from v1.17",
		Source:  "kyverno/kyverno v1.15.2: cmd/kyverno/main.go, pkg/cel/engine/exception.go ListExceptions, pkg/cel/policies/vpol/engine/reconciler.go; config/crds/policies.kyverno.io at v1.14.0..v1.18.0"}
	FactCELExceptionNamespace = VersionFact{ID: "cel-policy-exception-namespace",
		Summary: "up to v1.17.1 CEL PolicyExceptions apply from any namespace (--exceptionNamespace is not applied); from v1.17.2 and v1.18.0 they are read only from --exceptionNamespace when it names a namespace, from every namespace when it is unset or \"*\"",
		Source:  "kyverno/kyverno v1.17.1, v1.17.2 and v1.18.0: pkg/cel/engine/exception.go NewPolicyExceptionLister and cmd/kyverno/main.go celExceptionLister (kyverno#15613, cherry-picked to release-1.17 as #15615)"}
	FactChartVersionLabel = VersionFact{ID: "chart-version-label",
		Summary: "the chart labels its Deployments app.kubernetes.io/version with the chart version (3.N.x ships Kyverno v1.(N+10)), the image tag carries the Kyverno version",
		Source:  "kyverno/kyverno charts/kyverno/templates/_helpers/_labels.tpl and Chart.yaml at v1.10.0..v1.17.0"}
)

// VersionFacts lists the facts, for documentation and the report of a scan.
var VersionFacts = []VersionFact{FactRuleFailureAction, FactOverrideFirstMatch, FactOverrideNamespaceSelector, FactExceptionsDefault, FactCELExceptions, FactCELExceptionNamespace, FactChartVersionLabel}

// AdmissionControllerName is the Deployment of Kyverno's admission controller (Helm
// chart v3, Kyverno v1.10 and later); ContainerName its main container.
const (
	AdmissionControllerName = "kyverno-admission-controller"
	ContainerName           = "kyverno"
)

// AdmissionController is what the gate checks read of Kyverno's admission controller.
type AdmissionController struct {
	Namespace, Name string
	Version         Version
	// Flags are the container's command-line flags, by name without dashes; a bool flag
	// given without a value reads "true".
	Flags map[string]string
}

// FindAdmissionController returns Kyverno's admission controller Deployment in ns, or
// nil: the chart's name, or the chart's component label.
func FindAdmissionController(deploys []*appsv1.Deployment, ns string) *AdmissionController {
	var d *appsv1.Deployment
	for _, c := range deploys {
		if c.Namespace != ns {
			continue
		}
		if c.Name == AdmissionControllerName || c.Labels["app.kubernetes.io/component"] == "admission-controller" && c.Labels["app.kubernetes.io/part-of"] == "kyverno" {
			if d == nil || c.Name == AdmissionControllerName {
				d = c
			}
		}
	}
	if d == nil {
		return nil
	}
	ac := &AdmissionController{Namespace: d.Namespace, Name: d.Name, Flags: map[string]string{}}
	var ctr *corev1.Container
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		if c.Name == ContainerName || ctr == nil && strings.Contains(c.Image, "kyverno/kyverno") {
			ctr = c
		}
	}
	if ctr != nil {
		ac.Flags = parseFlags(ctr.Command, ctr.Args)
		if v, ok := ParseVersion(imageTag(ctr.Image)); ok {
			v.From = "image " + ctr.Image
			ac.Version = v
		}
	}
	if !ac.Version.Known() {
		ac.Version = versionFromLabel(d.Labels["app.kubernetes.io/version"])
	}
	return ac
}

// imageTag returns the tag of an image reference ("" for a digest-only reference).
func imageTag(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[i+1:]
	}
	return ""
}

// versionFromLabel reads the app.kubernetes.io/version label: a Kyverno version, or the
// chart's 3.N.x, which ships Kyverno v1.(N+10) with a patch the label does not tell.
func versionFromLabel(l string) Version {
	v, ok := ParseVersion(l)
	if !ok {
		return Version{}
	}
	from := "label app.kubernetes.io/version=" + l
	if v.Major == 3 {
		return Version{Major: 1, Minor: v.Minor + 10, Patch: -1, From: from + " (chart version)"}
	}
	if v.Major == 1 {
		v.From = from
		return v
	}
	return Version{}
}

// boolFlags are Kyverno's boolean flags (flag.BoolVar in kyverno/kyverno cmd/internal/flag.go
// and cmd/kyverno/main.go): a boolean takes its value only as -name=value, never from the
// next argument.
var boolFlags = map[string]bool{"enablePolicyException": true, "enableConfigMapCaching": true, "profile": true,
	"enableTracing": true, "disableMetrics": true, "allowInsecureRegistry": true, "autoUpdateWebhooks": true,
	"autoDeleteWebhooks": true, "backgroundScan": true, "excludeBootstrapResources": true}

// valueFlags are flags that always take a value: the auditor reads exceptionNamespace; the
// toggles (protectManagedResources, forceFailurePolicyIgnore, ...) are flag.Func flags,
// which are not booleans for the flag package and take the next argument.
var valueFlags = map[string]bool{"exceptionNamespace": true, "protectManagedResources": true,
	"forceFailurePolicyIgnore": true, "generateValidatingAdmissionPolicy": true}

// parseFlags reads the container's command line as Go's flag package parses it (Kyverno's
// flags are flag.CommandLine flags, parsed by flag.Parse): the program is the command's
// first element (without a command, every argument goes to the image's entrypoint);
// -name and --name are the same flag; -name=value sets it; -name value takes the next
// argument unless the flag is a boolean (a boolean is true alone, and takes a value only
// after =); parsing stops at the first argument that is not a flag and after "--"; a
// repeated flag keeps its last value. A flag of unknown type is read as a boolean when
// the next argument is itself a flag.
func parseFlags(command, args []string) map[string]string {
	all := append(append([]string(nil), command...), args...)
	if len(command) > 0 {
		all = all[1:]
	}
	out := map[string]string{}
	for i := 0; i < len(all); i++ {
		a := all[i]
		if len(a) < 2 || a[0] != '-' {
			break // the first non-flag argument ("-" included) ends the flags
		}
		if a == "--" {
			break
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			break // bad flag syntax: the program exits
		}
		if n, val, ok := strings.Cut(name, "="); ok {
			out[n] = val
			continue
		}
		next := i+1 < len(all)
		switch {
		case boolFlags[name]:
			out[name] = "true"
		case next && (valueFlags[name] || !strings.HasPrefix(all[i+1], "-")):
			out[name] = all[i+1]
			i++
		default:
			out[name] = "true"
		}
	}
	return out
}

// Exceptions says whether and from where the admission controller honours kyverno.io
// PolicyExceptions, and why.
type Exceptions struct {
	Known   bool // false: the admission controller or its version is not visible
	Enabled bool
	// Namespace is the namespace exceptions are read from; "*" every namespace.
	Namespace string
	Why       string
}

// Exceptions reads --enablePolicyException and --exceptionNamespace with their defaults
// for the running version (FactExceptionsDefault).
func (ac *AdmissionController) Exceptions() Exceptions {
	if ac == nil {
		return Exceptions{Why: "Kyverno's admission controller Deployment is not among the inputs"}
	}
	where := fmt.Sprintf("Deployment %s/%s", ac.Namespace, ac.Name)
	raw, set := ac.Flags["enablePolicyException"]
	enabled := false
	why := ""
	if set {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return Exceptions{Why: fmt.Sprintf("%s sets --enablePolicyException=%s, which is not a boolean", where, raw)}
		}
		enabled, why = b, fmt.Sprintf("%s sets --enablePolicyException=%t", where, b)
	} else {
		at11, ok11 := ac.Version.AtLeast(1, 11, 0)
		at13, ok13 := ac.Version.AtLeast(1, 13, 0)
		if !ok11 || !ok13 {
			return Exceptions{Why: fmt.Sprintf("%s does not set --enablePolicyException and Kyverno's version is %s: the default differs by version", where, ac.Version)}
		}
		enabled = at11 && !at13
		why = fmt.Sprintf("%s does not set --enablePolicyException, which defaults to %t in Kyverno %s", where, enabled, ac.Version)
	}
	if !enabled {
		return Exceptions{Known: true, Why: why}
	}
	ns := ac.Flags["exceptionNamespace"]
	at13, ok13 := ac.Version.AtLeast(1, 13, 0)
	switch {
	case ns == "" && !ok13:
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: why + fmt.Sprintf(" and no --exceptionNamespace (Kyverno %s: up to v1.12 that accepts every namespace, from v1.13 it disables exceptions; read as every namespace)", ac.Version)}
	case ns == "" && at13:
		return Exceptions{Known: true, Why: why + fmt.Sprintf(", but no --exceptionNamespace, which disables exceptions in Kyverno %s", ac.Version)}
	case ns == "":
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: why + " and no --exceptionNamespace: exceptions from every namespace apply"}
	case ns == "*" && (at13 || !ok13):
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: why + " and --exceptionNamespace=*: exceptions from every namespace apply"}
	}
	return Exceptions{Known: true, Enabled: true, Namespace: ns, Why: why + fmt.Sprintf(" and --exceptionNamespace=%s", ns)}
}

// CELExceptions says whether and from where policies.kyverno.io PolicyExceptions apply
// (FactCELExceptions, FactCELExceptionNamespace): --enablePolicyException decides
// whether (it defaults to false in every Kyverno that serves CEL policies, v1.14 and
// later); up to v1.17.1 from any namespace, from v1.17.2 only from --exceptionNamespace
// when that names a namespace.
func (ac *AdmissionController) CELExceptions() Exceptions {
	if ac == nil {
		return Exceptions{Why: "Kyverno's admission controller Deployment is not among the inputs"}
	}
	where := fmt.Sprintf("Deployment %s/%s", ac.Namespace, ac.Name)
	raw, set := ac.Flags["enablePolicyException"]
	if !set {
		return Exceptions{Known: true, Why: where + " does not set --enablePolicyException, which defaults to false in every Kyverno that serves CEL policies (v1.14 and later)"}
	}
	b, err := strconv.ParseBool(raw)
	if err != nil {
		return Exceptions{Why: fmt.Sprintf("%s sets --enablePolicyException=%s, which is not a boolean", where, raw)}
	}
	why := fmt.Sprintf("%s sets --enablePolicyException=%t", where, b)
	if !b {
		return Exceptions{Known: true, Why: why}
	}
	ns := ac.Flags["exceptionNamespace"]
	switch ns {
	case "":
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: why + " and no --exceptionNamespace: CEL exceptions from every namespace apply"}
	case "*":
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: why + " and --exceptionNamespace=*: CEL exceptions from every namespace apply"}
	}
	scoped, ok := ac.Version.AtLeast(1, 17, 2)
	switch {
	case !ok:
		return Exceptions{Why: fmt.Sprintf("%s and --exceptionNamespace=%s, and Kyverno's version is %s: CEL exceptions are read only from that namespace from v1.17.2, from every namespace before", why, ns, ac.Version)}
	case !scoped:
		return Exceptions{Known: true, Enabled: true, Namespace: "*", Why: fmt.Sprintf("%s; Kyverno %s reads CEL exceptions from every namespace (--exceptionNamespace=%s applies to them only from v1.17.2)", why, ac.Version, ns)}
	}
	return Exceptions{Known: true, Enabled: true, Namespace: ns, Why: fmt.Sprintf("%s and --exceptionNamespace=%s, from which Kyverno %s reads CEL exceptions", why, ns, ac.Version)}
}

// ServesPoliciesVersion reports whether a Kyverno release serves a policies.kyverno.io API
// version (FactCELExceptions: ValidatingPolicy and CEL PolicyException alike); ok is false
// when the version does not tell.
func (v Version) ServesPoliciesVersion(apiVersion string) (served, ok bool) {
	since := map[string][3]int{"v1alpha1": {1, 14, 0}, "v1beta1": {1, 16, 0}, "v1": {1, 17, 0}}
	at, known := since[apiVersion]
	if !known {
		return false, v.Known()
	}
	return v.AtLeast(at[0], at[1], at[2])
}
