package sr2

import (
	"fmt"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/dra"
)

// GPUs taken through Dynamic Resource Allocation are not in any container's resources:
// a gate whose check reads only resources.limits and requests admits a pod that takes
// them through spec.resourceClaims without a queue name (the battery's dra-claim request).

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
// a claim or claim template that can get a GPU. The gate rules grade a gate that admits
// the battery's DRA claim by it.
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

// admitsClaim reports a gate that admits the battery's DRA-claim request without the
// queue label in nss: critical when the cluster hands out GPUs through DRA (draUse), low
// (hardening) otherwise.
func (c gateChecker) admitsClaim(v *gateVerdict, what string, r batteryRequest, nss []string, why string) {
	sev := auditor.SeverityLow
	note := " (hardening: no ResourceSlice publishes devices of " + strings.Join(c.cfg.GPUDeviceDrivers, ", ") + " and no claim can get a GPU"
	var use draUse
	if c.draUse != nil {
		use = c.draUse()
	}
	switch {
	case use.InUse():
		sev = auditor.SeverityCritical
		note = "; the cluster hands out GPUs through DRA: " + evidenceList(use.Where)
	case len(use.Unseen) > 0:
		note = " (hardening: whether the cluster hands out GPUs through DRA is unknown: " + strings.Join(use.Unseen, ", ") + ")"
	default:
		note += ")"
	}
	v.add("dra-claims", sev,
		"Make the gate also deny pods without a queue name that have spec.resourceClaims (e.g. a CEL test `has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0`), or gate every pod of the managed namespaces.",
		"%s admits %s in %s (%s): a pod taking GPUs through a Dynamic Resource Allocation claim runs without a queue name%s",
		what, r.Describe(c.cfg.QueueNameLabel), strings.Join(nss, ", "), why, note)
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
