package sr2

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// acceleratorDomain is an accelerator vendor's extended-resource namespace, with where
// its names were read.
type acceleratorDomain struct {
	// Prefix matches resource names: a domain ("nvidia.com/") or a domain and a name
	// prefix ("aws.amazon.com/neuron").
	Prefix string
	Vendor string
	Source string
}

// acceleratorDomains are the extended-resource namespaces under which device plugins
// advertise accelerators. A resource a Node offers under one of them, which
// sr2.gpuResources does not name, is reported (gpu-resource-unlisted), so the list
// cannot silently fall behind a vendor's new names.
var acceleratorDomains = []acceleratorDomain{
	{Prefix: "nvidia.com/", Vendor: "NVIDIA",
		Source: "NVIDIA/k8s-device-plugin api/config/v1/consts.go ResourceNamePrefix \"nvidia.com\"; replicas.go renames time-sliced resources to <name>.shared"},
	{Prefix: "amd.com/", Vendor: "AMD",
		Source: "aws/karpenter-provider-aws pkg/apis/v1/labels.go ResourceAMDGPU \"amd.com/gpu\""},
	{Prefix: "gpu.intel.com/", Vendor: "Intel",
		Source: "intel/intel-device-plugins-for-kubernetes cmd/gpu_plugin/README.md (gpu.intel.com/i915, gpu.intel.com/xe and their _monitoring resources)"},
	{Prefix: "habana.ai/", Vendor: "Intel Gaudi (Habana)",
		Source: "aws/karpenter-provider-aws pkg/apis/v1/labels.go ResourceHabanaGaudi \"habana.ai/gaudi\""},
	{Prefix: "aws.amazon.com/neuron", Vendor: "AWS Neuron",
		Source: "aws/karpenter-provider-aws pkg/apis/v1/labels.go ResourceAWSNeuron \"aws.amazon.com/neuron\", ResourceAWSNeuronCore \"aws.amazon.com/neuroncore\""},
}

// acceleratorVendor returns the vendor whose domain holds the resource name, or "".
func acceleratorVendor(name string) string {
	for _, d := range acceleratorDomains {
		if strings.HasPrefix(name, d.Prefix) {
			return d.Vendor
		}
	}
	return ""
}

// acceleratorPrefix returns the domain prefix that holds the resource name, or "".
func acceleratorPrefix(name string) string {
	for _, d := range acceleratorDomains {
		if strings.HasPrefix(name, d.Prefix) {
			return d.Prefix
		}
	}
	return ""
}

// maxNodesNamed bounds the Nodes a finding names.
const maxNodesNamed = 5

// gpuResourceUnlisted: a Node offers an extended resource under an accelerator vendor's
// domain that sr2.gpuResources does not name. Pods requesting it are not GPU pods to
// SR2 and the gate's coverage of it is never checked: hardening (low), one finding per
// resource name.
func gpuResourceUnlisted(cfg auditor.Config) check {
	meta := auditor.RuleMeta{
		ID: "gpu-resource-unlisted", Control: auditor.SR2, Severity: auditor.SeverityLow,
		Title: "Nodes offer an accelerator resource that sr2.gpuResources does not name",
		Pass:  "every accelerator resource the nodes offer is named in sr2.gpuResources",
		Remediation: "Add the resource to sr2.gpuResources (a trailing * makes a prefix) so its pods are judged as GPU pods " +
			"and the gate is checked for it, and make the gate name it; or, if it is not an accelerator (a NIC), add it to sr2.notGPUResources.",
		// Nodes are an input, not a need: without them the rule has nothing to compare
		// and stays silent, so an offline scan without Nodes is not made unknown by it.
		Inputs: []string{auditor.ResourceNodes},
	}
	sr2 := cfg.SR2
	return check{Meta: meta, Eval: func(_ *view, s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		if !s.Visible(auditor.ResourceNodes) {
			return res
		}
		where := map[string][]string{}
		for _, n := range s.Nodes {
			seen := map[string]bool{}
			for _, list := range []corev1.ResourceList{n.Status.Capacity, n.Status.Allocatable} {
				for name, q := range list {
					r := string(name)
					if seen[r] || q.Sign() <= 0 || acceleratorVendor(r) == "" || sr2.IsGPUResource(r) || sr2.IsNotGPUResource(r) {
						continue
					}
					seen[r] = true
					where[r] = append(where[r], n.Name)
				}
			}
		}
		names := make([]string, 0, len(where))
		for r := range where {
			names = append(names, r)
		}
		sort.Strings(names)
		for _, r := range names {
			nodes := where[r]
			sort.Strings(nodes)
			shown := nodes
			more := ""
			if len(nodes) > maxNodesNamed {
				shown, more = nodes[:maxNodesNamed], fmt.Sprintf(" and %d more", len(nodes)-maxNodesNamed)
			}
			subject := "Node " + strings.Join(shown, ", ") + " offers"
			if len(nodes) > 1 {
				subject = "Nodes " + strings.Join(shown, ", ") + more + " offer"
			}
			f := meta.NewFinding(nil, fmt.Sprintf("%s %s, an accelerator resource under the %s domain %s, which sr2.gpuResources (%s) does not name: "+
				"pods requesting it are not judged as GPU pods and the gate is not checked for it",
				subject, r, acceleratorVendor(r), acceleratorPrefix(r), strings.Join(sr2.GPUResources, ", ")))
			f.Discriminator = r
			res.Findings = append(res.Findings, f)
		}
		return res
	}}
}
