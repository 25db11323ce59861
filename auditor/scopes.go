package auditor

import (
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// What each control covers, defined once: rules, probes and the app ask these.

// Protected returns SR1's protected namespaces (the model servers, the inference
// gateway), each once, sorted.
func (c *Config) Protected() []string {
	out := slices.Clone(c.SR1.ProtectedNamespaces)
	slices.Sort(out)
	return slices.Compact(out)
}

// IsProtected reports whether ns is one of SR1's protected namespaces.
func (c *Config) IsProtected(ns string) bool { return slices.Contains(c.SR1.ProtectedNamespaces, ns) }

// IsTrusted reports whether ns is one of SR1's trusted namespaces, whose pods may reach
// every protected namespace.
func (c *Config) IsTrusted(ns string) bool { return slices.Contains(c.SR1.TrustedNamespaces, ns) }

// HostNetworkAllowed reports whether ns is one of SR1's platform namespaces allowed to
// run host-network pods (sr1.hostNetworkNamespaces).
func (c *Config) HostNetworkAllowed(ns string) bool {
	return slices.Contains(c.SR1.HostNetworkNamespaces, ns)
}

// Untrusted reports whether pods of ns are outside SR1's budget path altogether: ns is
// neither protected, nor trusted, nor a platform namespace allowed host networking.
func (c *Config) Untrusted(ns string) bool {
	return !c.IsProtected(ns) && !c.IsTrusted(ns) && !c.HostNetworkAllowed(ns)
}

// Pod Security Admission levels (k8s.io/pod-security-admission api.Level).
const (
	PodSecurityPrivileged = "privileged"
	PodSecurityBaseline   = "baseline"
	PodSecurityRestricted = "restricted"
)

// TrustedFor reports whether pods of namespace src may reach protected namespace dst:
// the configured trusted namespaces, and dst itself.
func (c *Config) TrustedFor(dst, src string) bool { return src == dst || c.IsTrusted(src) }

// TrustedSources lists the namespaces whose pods may reach dst: dst first, then the
// configured trusted namespaces, sorted, each once.
func (c *Config) TrustedSources(dst string) []string {
	out := []string{dst}
	for _, n := range c.SR1.TrustedNamespaces {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out[1:])
	return out
}

// KueueManaged returns the test for SR2's scope: a namespace is Kueue-managed when
// sr2.kueueManagedNamespaceSelector selects it and sr2.excludedNamespaces does not name
// it. A terminating namespace is still managed (its pods still run and still count);
// whoever needs a namespace that can admit new pods also asks Terminating. The selector
// is parsed once, here: keep the returned function for many namespaces.
func (c *Config) KueueManaged() func(ns *corev1.Namespace) bool {
	sel := c.KueueManagedSelector()
	excluded := slices.Clone(c.SR2.ExcludedNamespaces)
	return func(ns *corev1.Namespace) bool {
		return ns != nil && !slices.Contains(excluded, ns.Name) && sel.Matches(labels.Set(ns.Labels))
	}
}

// KueueManagedNamespaces returns the Kueue-managed namespaces among nss (KueueManaged),
// terminating ones included, sorted by name.
func (c *Config) KueueManagedNamespaces(nss []*corev1.Namespace) []*corev1.Namespace {
	managed := c.KueueManaged()
	var out []*corev1.Namespace
	for _, ns := range nss {
		if managed(ns) {
			out = append(out, ns)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Terminating reports whether a namespace is being deleted: the API server admits no
// new pod into it, so an active probe cannot create one there.
func Terminating(ns *corev1.Namespace) bool { return ns.DeletionTimestamp != nil }

// IsProd reports whether a LiteLLM profile (the value of sr3.profileLabel) is one of
// SR3's prod profiles.
func (c *Config) IsProd(profile string) bool { return slices.Contains(c.SR3.ProdProfiles, profile) }
