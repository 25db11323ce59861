package sr2

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/dra"
)

// GPUs taken through Dynamic Resource Allocation are not in any container's resources:
// a gate whose check reads only resources.limits and requests admits a pod that takes
// them through spec.resourceClaims without a queue name.

// draUse says whether the cluster hands out GPUs through DRA: the ResourceSlices in which
// a GPU driver publishes devices, and the ResourceClaims and ResourceClaimTemplates with
// a request that can get a GPU.
type draUse struct {
	// Where names them ("ResourceSlice node-1-gpu (driver gpu.nvidia.com, 8 devices)",
	// "ResourceClaimTemplate ml/gpu").
	Where []string
	// Unseen says which of the DRA resources could not be read, when none was found.
	Unseen []string
}

// InUse reports whether GPUs are handed out through DRA.
func (u draUse) InUse() bool { return len(u.Where) > 0 }

// draGPUsInUse says whether the cluster publishes GPU devices in ResourceSlices or holds
// a claim or claim template that can get a GPU. The gate rules grade a gate blind to
// claims by it.
func draGPUsInUse(v *view, s *auditor.Snapshot) draUse {
	var u draUse
	u.Where = append(dra.PublishedGPUDevices(s, v.scope.cfg.GPUDeviceDrivers), v.dra().GPUClaims()...)
	for _, r := range []string{auditor.ResourceResourceSlices, auditor.ResourceResourceClaims, auditor.ResourceResourceClaimTemplates} {
		if s.Offline() {
			if !s.Saw(r) {
				u.Unseen = append(u.Unseen, r)
			}
			continue
		}
		if a := s.AvailabilityOf(r); a.State != auditor.Synced && a.State != auditor.NotServed {
			u.Unseen = append(u.Unseen, fmt.Sprintf("%s is %s", r, a.State))
		}
	}
	return u
}

// coversClaims reports whether the text of one denying check covers pods taking GPUs
// through DRA claims: it names spec.resourceClaims, or it names no resource at all (it
// gates every pod whatever it asks for).
func coversClaims(text []string, gpuResources []string) bool {
	if textNames(text, "resourceClaims") {
		return true
	}
	if mentionsResources(text) || len(textPrefixes(text)) > 0 {
		return false
	}
	for _, r := range gpuResources {
		if textNames(text, strings.TrimSuffix(r, "*")) {
			return false
		}
	}
	return true
}

// checkClaims reports a gate none of whose denying checks (the text of each) covers
// claims: critical when the cluster hands out GPUs through DRA (draUse), low
// (hardening) otherwise.
func (c gateChecker) checkClaims(v *gateVerdict, what string, checks ...[]string) {
	for _, text := range checks {
		if coversClaims(text, c.cfg.GPUResources) {
			return
		}
	}
	sev := auditor.SeverityLow
	why := " (hardening: no ResourceSlice publishes devices of " + strings.Join(c.cfg.GPUDeviceDrivers, ", ") + " and no claim can get a GPU"
	var use draUse
	if c.draUse != nil {
		use = c.draUse()
	}
	switch {
	case use.InUse():
		sev = auditor.SeverityCritical
		why = "; the cluster hands out GPUs through DRA: " + evidenceList(use.Where)
	case len(use.Unseen) > 0:
		why = " (hardening: whether the cluster hands out GPUs through DRA is unknown: " + strings.Join(use.Unseen, ", ") + ")"
	default:
		why += ")"
	}
	v.add("dra-claims", sev,
		"Make the gate also deny pods without a queue name that have spec.resourceClaims (e.g. a CEL test `has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0`), or gate every pod of the managed namespaces.",
		"%s checks GPUs in container resources only, never spec.resourceClaims: a pod taking GPUs through a Dynamic Resource Allocation claim is admitted without a queue name%s",
		what, why)
}

// evidenceList names a few items and counts the rest.
func evidenceList(items []string) string {
	shown := items
	if len(shown) > 3 {
		shown = shown[:3]
	}
	s := strings.Join(shown, ", ")
	if more := len(items) - len(shown); more > 0 {
		s += fmt.Sprintf(", %d more", more)
	}
	return s
}
