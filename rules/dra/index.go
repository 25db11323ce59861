package dra

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Group is the API group of Dynamic Resource Allocation.
const Group = "resource.k8s.io"

// GPUs says which DRA devices are GPUs: those of the drivers (auditor.SR2Config
// GPUDeviceDrivers) and every device of the classes (GPUDeviceClasses).
type GPUs struct {
	Drivers []string
	Classes []string
}

// Index holds a snapshot's DRA objects decoded into the resource.k8s.io/v1 types
// (v1beta2 has the same shape for every field read here) and memoises the verdicts on
// device classes. Built once per evaluation; safe for concurrent use.
type Index struct {
	mu      sync.Mutex // guards memo
	gpus    GPUs
	s       *auditor.Snapshot
	classes map[string]decoded[resourcev1.DeviceClassSpec]
	claims  map[string]decoded[resourcev1.ResourceClaimSpec] // namespace/name
	// claimPod is the UID of the pod controlling a claim (a claim generated from a
	// template for that pod), by namespace/name.
	claimPod  map[string]types.UID
	templates map[string]decoded[resourcev1.ResourceClaimSpec] // namespace/name
	memo      map[string]verdict
}

type decoded[T any] struct {
	spec T
	err  error
}

// NewIndex indexes the snapshot's DeviceClasses, ResourceClaims and ResourceClaimTemplates.
func NewIndex(s *auditor.Snapshot, g GPUs) *Index {
	ix := &Index{gpus: g, s: s, classes: map[string]decoded[resourcev1.DeviceClassSpec]{},
		claims: map[string]decoded[resourcev1.ResourceClaimSpec]{}, claimPod: map[string]types.UID{}, templates: map[string]decoded[resourcev1.ResourceClaimSpec]{}, memo: map[string]verdict{}}
	for _, u := range s.CustomObjects(Group, "DeviceClass") {
		var o resourcev1.DeviceClass
		err := fromUnstructured(u, &o)
		ix.classes[u.GetName()] = decoded[resourcev1.DeviceClassSpec]{spec: o.Spec, err: err}
	}
	for _, u := range s.CustomObjects(Group, "ResourceClaim") {
		var o resourcev1.ResourceClaim
		err := fromUnstructured(u, &o)
		ix.claims[u.GetNamespace()+"/"+u.GetName()] = decoded[resourcev1.ResourceClaimSpec]{spec: o.Spec, err: err}
		if c := metav1.GetControllerOfNoCopy(u); c != nil && c.APIVersion == "v1" && c.Kind == "Pod" && c.UID != "" {
			ix.claimPod[u.GetNamespace()+"/"+u.GetName()] = c.UID
		}
	}
	for _, u := range s.CustomObjects(Group, "ResourceClaimTemplate") {
		var o resourcev1.ResourceClaimTemplate
		err := fromUnstructured(u, &o)
		ix.templates[u.GetNamespace()+"/"+u.GetName()] = decoded[resourcev1.ResourceClaimSpec]{spec: o.Spec.Spec, err: err}
	}
	return ix
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, false); err != nil {
		return fmt.Errorf("%s %s does not fit resource.k8s.io/v1: %w", u.GetKind(), objName(u), err)
	}
	return nil
}

func objName(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

// verdict is whether a class (with a request's own selectors) can get GPUs.
type verdict struct {
	gpu bool
	// why names what makes it a GPU request: "driver gpu.nvidia.com", "configured GPU class".
	why string
	// unknown says why it cannot be judged.
	unknown string
}

// requestVerdict judges one device request: a device must match the class's selectors
// and the request's (DRA allocator semantics); a class without selectors matches every
// device, so it gets a GPU when a GPU driver publishes one.
func (ix *Index) requestVerdict(class string, selectors []resourcev1.DeviceSelector) verdict {
	if slices.Contains(ix.gpus.Classes, class) {
		return verdict{gpu: true, why: "a configured GPU class"}
	}
	key := class
	for _, s := range selectors {
		if s.CEL != nil {
			key += "\x00" + s.CEL.Expression
		}
	}
	ix.mu.Lock()
	v, ok := ix.memo[key]
	ix.mu.Unlock()
	if ok {
		return v
	}
	v = ix.judge(class, selectors)
	ix.mu.Lock()
	ix.memo[key] = v
	ix.mu.Unlock()
	return v
}

func (ix *Index) judge(class string, selectors []resourcev1.DeviceSelector) verdict {
	c, ok := ix.classes[class]
	switch {
	case !ok:
		return verdict{unknown: fmt.Sprintf("DeviceClass %s is not %s", class, ix.where(auditor.ResourceDeviceClasses))}
	case c.err != nil:
		return verdict{unknown: c.err.Error()}
	}
	all := append(slices.Clone(c.spec.Selectors), selectors...)
	var errs []string
	for _, d := range ix.gpus.Drivers {
		can, err := SelectorsCanSelect(all, d)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if can {
			return verdict{gpu: true, why: "its selectors can select devices of driver " + d}
		}
	}
	if len(errs) > 0 {
		return verdict{unknown: "DeviceClass " + class + ": " + strings.Join(errs, "; ")}
	}
	return verdict{}
}

// where says where an object of the resource was looked for: "among the inputs"
// offline, "in the cluster" live (with the resource's state when it is not synced).
func (ix *Index) where(resource string) string {
	if ix.s.Offline() {
		return "among the inputs"
	}
	if a := ix.s.AvailabilityOf(resource); a.State != auditor.Synced {
		return fmt.Sprintf("visible (%s is %s)", resource, a.State)
	}
	return "in the cluster"
}

// Demand is what a pod takes through its resource claims.
type Demand struct {
	// GPUs counts the GPUs of exact-count requests that can get GPUs.
	GPUs int64
	// AllDevices: a request takes every matching device of a node (allocationMode All):
	// its count is unknown (at least one).
	AllDevices bool
	// Where says which claims and requests take them: "claim gpu (ResourceClaimTemplate
	// gpu-tpl), request gpus: 2 of DeviceClass gpu.nvidia.com (its selectors can select
	// devices of driver gpu.nvidia.com)".
	Where []string
	// Unknown says, for each claim that cannot be judged, why.
	Unknown []string
}

// TakesGPUs reports whether some claim of the pod can get a GPU.
func (d Demand) TakesGPUs() bool { return d.GPUs > 0 || d.AllDevices }

// PodDemand resolves a pod's spec.resourceClaims (by resourceClaimName or
// resourceClaimTemplateName) to their requests and judges each.
func (ix *Index) PodDemand(p *corev1.Pod) Demand {
	var d Demand
	for _, c := range p.Spec.ResourceClaims {
		var (
			spec decoded[resourcev1.ResourceClaimSpec]
			ok   bool
			what string
			res  string
		)
		switch {
		case c.ResourceClaimName != nil:
			what, res = "ResourceClaim "+p.Namespace+"/"+*c.ResourceClaimName, auditor.ResourceResourceClaims
			spec, ok = ix.claims[p.Namespace+"/"+*c.ResourceClaimName]
		case c.ResourceClaimTemplateName != nil:
			if name := ix.generatedClaim(p, c.Name); name != "" {
				// The claim the pod runs with: the template may since have been deleted or
				// replaced by one asking for something else.
				what, res = "ResourceClaim "+p.Namespace+"/"+name+" generated from ResourceClaimTemplate "+*c.ResourceClaimTemplateName, auditor.ResourceResourceClaims
				spec, ok = ix.claims[p.Namespace+"/"+name]
				break
			}
			what, res = "ResourceClaimTemplate "+p.Namespace+"/"+*c.ResourceClaimTemplateName, auditor.ResourceResourceClaimTemplates
			spec, ok = ix.templates[p.Namespace+"/"+*c.ResourceClaimTemplateName]
		default:
			continue
		}
		switch {
		case !ok:
			d.Unknown = append(d.Unknown, fmt.Sprintf("claim %s names %s, which is not %s: whether it takes GPUs is unknown", c.Name, what, ix.where(res)))
			continue
		case spec.err != nil:
			d.Unknown = append(d.Unknown, fmt.Sprintf("claim %s: %s", c.Name, spec.err))
			continue
		}
		ix.addClaim(&d, fmt.Sprintf("claim %s (%s)", c.Name, what), spec.spec)
	}
	return d
}

// generatedClaim names the ResourceClaim generated from a template for the pod claim
// podClaim, as the kubelet and the scheduler find it (k8s.io/dynamic-resource-allocation
// resourceclaim.Name and IsForPod): the claim pod.status.resourceClaimStatuses names,
// provided it is in the snapshot and controlled by the pod (same UID). Empty when there
// is none: the claim is not generated yet, or the status is not the cluster's (a
// manifest without a UID).
func (ix *Index) generatedClaim(p *corev1.Pod, podClaim string) string {
	if p.UID == "" {
		return ""
	}
	for _, st := range p.Status.ResourceClaimStatuses {
		if st.Name != podClaim || st.ResourceClaimName == nil {
			continue
		}
		if uid, ok := ix.claimPod[p.Namespace+"/"+*st.ResourceClaimName]; ok && uid == p.UID {
			return *st.ResourceClaimName
		}
	}
	return ""
}

// ClaimTakesGPUs reports whether a claim spec has a request that can get a GPU.
func (ix *Index) ClaimTakesGPUs(spec resourcev1.ResourceClaimSpec) bool {
	var d Demand
	ix.addClaim(&d, "", spec)
	return d.TakesGPUs()
}

// addClaim adds the GPU requests of one claim. A firstAvailable request gets the first
// of its subrequests that can be allocated: it can get GPUs when one of them can, and
// counts the most any of those asks for.
func (ix *Index) addClaim(d *Demand, claim string, spec resourcev1.ResourceClaimSpec) {
	for _, r := range spec.Devices.Requests {
		switch {
		case r.Exactly != nil:
			v := ix.requestVerdict(r.Exactly.DeviceClassName, r.Exactly.Selectors)
			if v.unknown != "" {
				d.Unknown = append(d.Unknown, fmt.Sprintf("%s, request %s: %s", claim, r.Name, v.unknown))
			}
			if !v.gpu {
				continue
			}
			n, all := count(r.Exactly.AllocationMode, r.Exactly.Count)
			d.add(n, all)
			d.Where = append(d.Where, fmt.Sprintf("%s, request %s: %s of DeviceClass %s (%s)", claim, r.Name, amount(n, all), r.Exactly.DeviceClassName, v.why))
		case len(r.FirstAvailable) > 0:
			var (
				max   int64
				all   bool
				parts []string
				unk   []string
			)
			for _, sub := range r.FirstAvailable {
				v := ix.requestVerdict(sub.DeviceClassName, sub.Selectors)
				if v.unknown != "" {
					unk = append(unk, fmt.Sprintf("subrequest %s: %s", sub.Name, v.unknown))
				}
				if !v.gpu {
					continue
				}
				n, a := count(sub.AllocationMode, sub.Count)
				all = all || a
				if n > max {
					max = n
				}
				parts = append(parts, fmt.Sprintf("subrequest %s: %s of DeviceClass %s (%s)", sub.Name, amount(n, a), sub.DeviceClassName, v.why))
			}
			if len(parts) == 0 {
				for _, u := range unk {
					d.Unknown = append(d.Unknown, fmt.Sprintf("%s, request %s: %s", claim, r.Name, u))
				}
				continue
			}
			d.add(max, all)
			d.Where = append(d.Where, fmt.Sprintf("%s, request %s: first available of %s", claim, r.Name, strings.Join(parts, "; ")))
		}
	}
}

func (d *Demand) add(n int64, all bool) {
	d.GPUs += n
	d.AllDevices = d.AllDevices || all
}

// count is a request's device count: allocationMode All takes every matching device
// (unknown count); ExactCount (the default) takes count, default one.
func count(mode resourcev1.DeviceAllocationMode, n int64) (int64, bool) {
	if mode == resourcev1.DeviceAllocationModeAll {
		return 0, true
	}
	if n <= 0 {
		n = 1
	}
	return n, false
}

func amount(n int64, all bool) string {
	if all {
		return "all matching devices of its node (allocationMode All: count unknown)"
	}
	if n == 1 {
		return "1 device"
	}
	return fmt.Sprintf("%d devices", n)
}

// GPUClaims names the ResourceClaims and ResourceClaimTemplates with a request that can
// get a GPU, sorted.
func (ix *Index) GPUClaims() []string {
	var out []string
	for k, c := range ix.claims {
		if c.err == nil && ix.ClaimTakesGPUs(c.spec) {
			out = append(out, "ResourceClaim "+k)
		}
	}
	for k, c := range ix.templates {
		if c.err == nil && ix.ClaimTakesGPUs(c.spec) {
			out = append(out, "ResourceClaimTemplate "+k)
		}
	}
	sort.Strings(out)
	return out
}

// PublishedGPUDevices names the ResourceSlices in which a GPU driver publishes devices
// ("ResourceSlice node-1-gpu (driver gpu.nvidia.com, 8 devices)"), sorted.
func PublishedGPUDevices(s *auditor.Snapshot, drivers []string) []string {
	var out []string
	for _, u := range s.CustomObjects(Group, "ResourceSlice") {
		driver, _, _ := unstructured.NestedString(u.Object, "spec", "driver")
		devs, _, _ := unstructured.NestedSlice(u.Object, "spec", "devices")
		if len(devs) == 0 || !slices.Contains(drivers, driver) {
			continue
		}
		n := fmt.Sprintf("%d devices", len(devs))
		if len(devs) == 1 {
			n = "1 device"
		}
		out = append(out, fmt.Sprintf("ResourceSlice %s (driver %s, %s)", u.GetName(), driver, n))
	}
	sort.Strings(out)
	return out
}
