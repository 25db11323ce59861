package kueue

// Fact is one behaviour of Kueue the SR2 admission checks rest on, with the releases it
// was read at and where (rules/kyverno/version.go keeps Kyverno's the same way). The
// versions are the ones the integration tests load (Kueue v0.14.8 and v0.15.2); the same
// code is at both tags.
type Fact struct {
	ID       string
	Summary  string
	Versions string
	Source   string
}

// The facts. Every reading of ownership in this package and in rules/sr2 names one.
var (
	// FactControllerOnly: a pod belongs to a Kueue-managed job only through its
	// controller reference.
	FactControllerOnly = Fact{ID: "controller-reference-only",
		Summary:  "Kueue follows only a pod's controller owner reference (controller: true); other owner references, which any client may add, do not make a pod a job's",
		Versions: "v0.14.8, v0.15.2",
		Source:   "kubernetes-sigs/kueue pkg/controller/jobframework/integrationmanager.go IsOwnerManagedByKueueForObject (metav1.GetControllerOf)"}
	// FactPrebuiltOwnership: a prebuilt Workload covers the pod that controls it.
	FactPrebuiltOwnership = Fact{ID: "prebuilt-workload-ownership",
		Summary:  "a pod naming a prebuilt Workload (kueue.x-k8s.io/prebuilt-workload-name) takes it by becoming its controller (and job-uid label); a Workload another object controls is ignored",
		Versions: "v0.14.8, v0.15.2",
		Source:   "kubernetes-sigs/kueue pkg/controller/jobframework/reconciler.go ensureOneWorkload, EnsurePrebuiltWorkloadOwnership"}
	// FactGroupOwners: every member of a pod group owns the group's Workload.
	FactGroupOwners = Fact{ID: "pod-group-owners",
		Summary:  "every pod of a pod group (kueue.x-k8s.io/pod-group-name) is made an owner reference of the group's Workload before it is admitted through it",
		Versions: "v0.14.8, v0.15.2",
		Source:   "kubernetes-sigs/kueue pkg/controller/jobs/pod/pod_controller.go EnsureWorkloadOwnedByAllMembers (FindMatchingWorkloads, prebuilt groups)"}
)

// FactDRAQuota: Kueue counts DRA devices against quota only behind an alpha gate.
var FactDRAQuota = Fact{ID: "dra-quota-alpha",
	Summary: "Kueue accounts Dynamic Resource Allocation devices (ResourceClaims, ResourceClaimTemplates) in a Workload's quota only with the feature gate DynamicResourceAllocation, alpha from v0.14 and off by default; " +
		"DRAExtendedResources (devices requested through a DeviceClass's extendedResourceName) is alpha from v0.17. Without the gate a DRA GPU pod is still held and admitted by Kueue through its queue name, but its devices are not quota",
	Versions: "v0.14.8, v0.15.2 (DynamicResourceAllocation alpha since v0.14); DRAExtendedResources from v0.17",
	Source:   "kubernetes-sigs/kueue pkg/features/kube_features.go (versioned feature specs: DynamicResourceAllocation {0.14, Alpha, default false}; DRAExtendedResources {0.17, Alpha}), KEP keps/2941-DRA"}

// Facts lists the facts, for documentation.
var Facts = []Fact{FactControllerOnly, FactPrebuiltOwnership, FactGroupOwners, FactDRAQuota}
