package auditor

import "k8s.io/apimachinery/pkg/runtime/schema"

// Resource identifiers used in RuleMeta.Inputs, Snapshot availability and metrics
// (the `resource` label). They are the plural resource name plus the group, as kubectl
// spells them.
const (
	ResourceNamespaces                      = "namespaces"
	ResourcePods                            = "pods"
	ResourceNodes                           = "nodes"
	ResourceConfigMaps                      = "configmaps"
	ResourceNetworkPolicies                 = "networkpolicies.networking.k8s.io"
	ResourceDaemonSets                      = "daemonsets.apps"
	ResourceDeployments                     = "deployments.apps"
	ResourceReplicaSets                     = "replicasets.apps"
	ResourceStatefulSets                    = "statefulsets.apps"
	ResourceJobs                            = "jobs.batch"
	ResourceLeases                          = "leases.coordination.k8s.io"
	ResourceValidatingWebhookConfigurations = "validatingwebhookconfigurations.admissionregistration.k8s.io"
	ResourceValidatingAdmissionPolicies     = "validatingadmissionpolicies.admissionregistration.k8s.io"
	ResourceValidatingAdmissionBindings     = "validatingadmissionpolicybindings.admissionregistration.k8s.io"
	ResourceKyvernoClusterPolicies          = "clusterpolicies.kyverno.io"
	ResourceKyvernoPolicies                 = "policies.kyverno.io"
	ResourceKyvernoValidatingPolicies       = "validatingpolicies.policies.kyverno.io"
	ResourceKueueWorkloads                  = "workloads.kueue.x-k8s.io"
	ResourceCNPGClusters                    = "clusters.postgresql.cnpg.io"
	ResourceAdminNetworkPolicies            = "adminnetworkpolicies.policy.networking.k8s.io"
	ResourceBaselineAdminNetworkPolicies    = "baselineadminnetworkpolicies.policy.networking.k8s.io"
	ResourceClusterNetworkPolicies          = "clusternetworkpolicies.policy.networking.k8s.io"
)

// ResourceInfo describes a resource the auditor knows how to read.
type ResourceInfo struct {
	ID         string
	Group      string
	Resource   string
	Kind       string
	Namespaced bool
	// Versions lists the API versions the auditor accepts, preferred first. Custom
	// resources are read as unstructured, so several versions can be served and the
	// live source picks the first one discovery shows.
	Versions []string
	// Custom marks resources that come from CRDs (or optional APIs): they are watched
	// through dynamic informers started only when discovery shows them.
	Custom bool
	// OwnerOnly marks resources read only to follow pods' owner chains (metadata only).
	OwnerOnly bool
}

// GroupKind returns the resource's group and kind.
func (r ResourceInfo) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: r.Group, Kind: r.Kind}
}

// GroupResource returns the resource's group and plural name.
func (r ResourceInfo) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}
}

// KnownResources is every resource a rule reads. Order is stable (used in metrics and evidence).
var KnownResources = []ResourceInfo{
	{ID: ResourceNamespaces, Resource: "namespaces", Kind: "Namespace", Versions: []string{"v1"}},
	{ID: ResourcePods, Resource: "pods", Kind: "Pod", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceNodes, Resource: "nodes", Kind: "Node", Versions: []string{"v1"}},
	{ID: ResourceConfigMaps, Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceNetworkPolicies, Group: "networking.k8s.io", Resource: "networkpolicies", Kind: "NetworkPolicy", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceDaemonSets, Group: "apps", Resource: "daemonsets", Kind: "DaemonSet", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceDeployments, Group: "apps", Resource: "deployments", Kind: "Deployment", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceReplicaSets, Group: "apps", Resource: "replicasets", Kind: "ReplicaSet", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true},
	{ID: ResourceStatefulSets, Group: "apps", Resource: "statefulsets", Kind: "StatefulSet", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true},
	{ID: ResourceJobs, Group: "batch", Resource: "jobs", Kind: "Job", Namespaced: true, Versions: []string{"v1"}, OwnerOnly: true},
	{ID: ResourceLeases, Group: "coordination.k8s.io", Resource: "leases", Kind: "Lease", Namespaced: true, Versions: []string{"v1"}},
	{ID: ResourceValidatingWebhookConfigurations, Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Kind: "ValidatingWebhookConfiguration", Versions: []string{"v1"}},
	{ID: ResourceValidatingAdmissionPolicies, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Kind: "ValidatingAdmissionPolicy", Versions: []string{"v1"}},
	{ID: ResourceValidatingAdmissionBindings, Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Kind: "ValidatingAdmissionPolicyBinding", Versions: []string{"v1"}},
	{ID: ResourceKyvernoClusterPolicies, Group: "kyverno.io", Resource: "clusterpolicies", Kind: "ClusterPolicy", Versions: []string{"v1"}, Custom: true},
	{ID: ResourceKyvernoPolicies, Group: "kyverno.io", Resource: "policies", Kind: "Policy", Namespaced: true, Versions: []string{"v1"}, Custom: true},
	{ID: ResourceKyvernoValidatingPolicies, Group: "policies.kyverno.io", Resource: "validatingpolicies", Kind: "ValidatingPolicy", Versions: []string{"v1", "v1beta1", "v1alpha1"}, Custom: true},
	{ID: ResourceKueueWorkloads, Group: "kueue.x-k8s.io", Resource: "workloads", Kind: "Workload", Namespaced: true, Versions: []string{"v1beta2", "v1beta1"}, Custom: true},
	{ID: ResourceCNPGClusters, Group: "postgresql.cnpg.io", Resource: "clusters", Kind: "Cluster", Namespaced: true, Versions: []string{"v1"}, Custom: true},
	{ID: ResourceAdminNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "adminnetworkpolicies", Kind: "AdminNetworkPolicy", Versions: []string{"v1alpha1"}, Custom: true},
	{ID: ResourceBaselineAdminNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "baselineadminnetworkpolicies", Kind: "BaselineAdminNetworkPolicy", Versions: []string{"v1alpha1"}, Custom: true},
	{ID: ResourceClusterNetworkPolicies, Group: "policy.networking.k8s.io", Resource: "clusternetworkpolicies", Kind: "ClusterNetworkPolicy", Versions: []string{"v1beta1", "v1alpha2", "v1alpha1"}, Custom: true},
}

// OwnerResources are custom workload kinds that can own GPU pods; the auditor reads only
// their metadata (labels and owner references) to follow a pod's controlling owner chain.
var OwnerResources = []ResourceInfo{
	{ID: "jobsets.jobset.x-k8s.io", Group: "jobset.x-k8s.io", Resource: "jobsets", Kind: "JobSet", Namespaced: true, Versions: []string{"v1alpha2"}, Custom: true, OwnerOnly: true},
	{ID: "rayclusters.ray.io", Group: "ray.io", Resource: "rayclusters", Kind: "RayCluster", Namespaced: true, Versions: []string{"v1", "v1alpha1"}, Custom: true, OwnerOnly: true},
	{ID: "rayjobs.ray.io", Group: "ray.io", Resource: "rayjobs", Kind: "RayJob", Namespaced: true, Versions: []string{"v1", "v1alpha1"}, Custom: true, OwnerOnly: true},
	{ID: "leaderworkersets.leaderworkerset.x-k8s.io", Group: "leaderworkerset.x-k8s.io", Resource: "leaderworkersets", Kind: "LeaderWorkerSet", Namespaced: true, Versions: []string{"v1"}, Custom: true, OwnerOnly: true},
	{ID: "pytorchjobs.kubeflow.org", Group: "kubeflow.org", Resource: "pytorchjobs", Kind: "PyTorchJob", Namespaced: true, Versions: []string{"v1"}, Custom: true, OwnerOnly: true},
	{ID: "mpijobs.kubeflow.org", Group: "kubeflow.org", Resource: "mpijobs", Kind: "MPIJob", Namespaced: true, Versions: []string{"v2beta1", "v1"}, Custom: true, OwnerOnly: true},
	{ID: "trainjobs.trainer.kubeflow.org", Group: "trainer.kubeflow.org", Resource: "trainjobs", Kind: "TrainJob", Namespaced: true, Versions: []string{"v1alpha1"}, Custom: true, OwnerOnly: true},
	{ID: "appwrappers.workload.codeflare.dev", Group: "workload.codeflare.dev", Resource: "appwrappers", Kind: "AppWrapper", Namespaced: true, Versions: []string{"v1beta2"}, Custom: true, OwnerOnly: true},
}

// LookupKind finds the resource for a group and kind among the known and owner resources.
func LookupKind(gk schema.GroupKind) (ResourceInfo, bool) {
	for _, list := range [][]ResourceInfo{KnownResources, OwnerResources} {
		for _, r := range list {
			if r.Group == gk.Group && r.Kind == gk.Kind {
				return r, true
			}
		}
	}
	return ResourceInfo{}, false
}
