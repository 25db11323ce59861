package auditor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	yamlv3 "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"

	"github.com/llm-platform/enforcement-auditor/auditor/fileinput"
	"sigs.k8s.io/yaml"
)

// GroupVersion is the apiVersion of the auditor's documents: its configuration, the
// scan report and the evidence document.
const GroupVersion = "enforcement-auditor.llm-platform.io/v1alpha1"

// The configuration file's apiVersion and kind.
const (
	ConfigAPIVersion = GroupVersion
	ConfigKind       = "AuditorConfig"
)

// Config is the versioned configuration file. Its defaults are the platform's design,
// so that no file is needed for it.
type Config struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`

	// Controls are the controls the platform claims (default: all three). A claimed
	// control with nothing in scope is a finding live and unknown in a scan, never
	// vacuously enforced; a control not claimed is not-applicable when nothing is in scope.
	Controls []Control `json:"controls"`

	SR1 SR1Config `json:"sr1"`
	SR2 SR2Config `json:"sr2"`
	SR3 SR3Config `json:"sr3"`

	Metrics MetricsConfig `json:"metrics"`
	Waivers WaiverConfig  `json:"waivers"`

	// Rules turns rules off or changes their severity, by rule ID (checked against the
	// catalogue by SelectRules). Every change shows in the table and the evidence.
	Rules map[string]RuleConfig `json:"rules,omitempty"`

	// SensitiveKinds are kinds (`Kind.group`, `Secret` for the core group) that a scan
	// drops unread, like Secrets, which always are.
	SensitiveKinds []string `json:"sensitiveKinds,omitempty"`
}

// SR1Config: the budget path.
type SR1Config struct {
	// ProtectedNamespaces hold the model servers and the inference gateway.
	ProtectedNamespaces []string `json:"protectedNamespaces"`
	// TrustedNamespaces may reach the protected namespaces. Pods of a protected
	// namespace are always trusted sources for that namespace.
	TrustedNamespaces []string `json:"trustedNamespaces"`
	// HostNetworkNamespaces are the platform namespaces whose agents run with
	// hostNetwork by design (CNI, kube-proxy, node exporters). NetworkPolicy cannot stop
	// a host-network pod from reaching the pods of its node, so every other namespace
	// that is neither protected nor trusted must not admit host-network pods.
	HostNetworkNamespaces []string `json:"hostNetworkNamespaces"`
	// PodSecurityDefault is the cluster-wide Pod Security Admission `enforce` level of
	// the API server's AdmissionConfiguration (privileged, baseline or restricted), which
	// the API does not show. Empty: not declared, so a namespace without its own
	// pod-security.kubernetes.io/enforce label is judged unknown, not assumed.
	PodSecurityDefault string `json:"podSecurityDefault,omitempty"`
}

// SR2Config: GPU quota.
type SR2Config struct {
	// KueueManagedNamespaceSelector selects the namespaces whose GPU pods must go through Kueue.
	KueueManagedNamespaceSelector metav1.LabelSelector `json:"kueueManagedNamespaceSelector"`
	// QueueNameLabel is Kueue's queue label.
	QueueNameLabel string `json:"queueNameLabel"`
	// GPUResources are extended resource names; a trailing `*` makes a prefix pattern.
	GPUResources []string `json:"gpuResources"`
	// NotGPUResources are extended resources under an accelerator vendor's domain that
	// are not accelerators (an NVIDIA NIC, say); a trailing `*` makes a prefix pattern.
	// gpu-resource-unlisted does not report them.
	NotGPUResources []string `json:"notGPUResources,omitempty"`
	// GPUDeviceDrivers are the Dynamic Resource Allocation drivers whose devices are GPUs
	// (ResourceSlice spec.driver, device.driver in a DeviceClass's CEL selectors): a pod
	// whose resource claims can select their devices is a GPU pod.
	GPUDeviceDrivers []string `json:"gpuDeviceDrivers"`
	// GPUDeviceClasses are DeviceClass names whose devices are GPUs whatever their
	// selectors say (a class not among the inputs offline, a driver not listed above).
	GPUDeviceClasses []string `json:"gpuDeviceClasses,omitempty"`
	// GatePolicyNames are the admission policies (Kyverno ClusterPolicy, Kyverno
	// ValidatingPolicy or ValidatingAdmissionPolicy) that reject GPU pods without a queue.
	GatePolicyNames []string `json:"gatePolicyNames"`
	// ExcludedNamespaces are out of scope even when labelled (the platform's own model servers).
	ExcludedNamespaces []string `json:"excludedNamespaces"`
	// KyvernoNamespace is where Kyverno runs (its health Lease lives there).
	KyvernoNamespace string `json:"kyvernoNamespace"`
}

// SR3Config: fail-closed budgets.
type SR3Config struct {
	ProfileLabel string   `json:"profileLabel"`
	ProdProfiles []string `json:"prodProfiles"`
	// ConfigKey is the ConfigMap key holding LiteLLM's config.yaml when no mount says otherwise.
	ConfigKey string `json:"configKey"`
	// MinDatabaseInstances is the CloudNativePG instance count prod requires.
	MinDatabaseInstances int `json:"minDatabaseInstances"`
}

// MetricsConfig bounds the per-finding series.
type MetricsConfig struct {
	MaxFindingSeries int `json:"maxFindingSeries"`
}

// WaiverConfig bounds waivers.
type WaiverConfig struct {
	MaxDuration metav1.Duration `json:"maxDuration"`
}

// Claims reports whether the platform claims the control (Controls).
func (c Config) Claims(ctl Control) bool { return slices.Contains(c.Controls, ctl) }

// DefaultConfig returns the platform's design.
func DefaultConfig() Config {
	return Config{
		APIVersion: ConfigAPIVersion,
		Kind:       ConfigKind,
		Controls:   append([]Control(nil), Controls...),
		SR1: SR1Config{
			ProtectedNamespaces:   []string{"serving", "inference"},
			TrustedNamespaces:     []string{"litellm", "inference", "agentgateway-system", "monitoring"},
			HostNetworkNamespaces: []string{"kube-system"},
		},
		SR2: SR2Config{
			KueueManagedNamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"llm-platform/kueue-managed": "true"}},
			QueueNameLabel:                "kueue.x-k8s.io/queue-name",
			// nvidia.com/gpu.shared: NVIDIA's device plugin renames a time-sliced resource
			// to <name>.shared under renameByDefault (NVIDIA/k8s-device-plugin
			// api/config/v1/replicas.go, consts.go DefaultSharedResourceNameSuffix); a
			// shared MIG slice (nvidia.com/mig-1g.10gb.shared) is under nvidia.com/mig-*.
			GPUResources: []string{"nvidia.com/gpu", "nvidia.com/gpu.shared", "nvidia.com/mig-*", "amd.com/gpu"},
			// gpu.nvidia.com: the driver name of NVIDIA's DRA driver for GPUs and MIG slices
			// (NVIDIA/k8s-dra-driver-gpu).
			GPUDeviceDrivers:   []string{"gpu.nvidia.com"},
			GatePolicyNames:    []string{"require-kueue-queue-name"},
			ExcludedNamespaces: []string{"serving"},
			KyvernoNamespace:   "kyverno",
		},
		SR3: SR3Config{
			ProfileLabel:         "llm-platform/profile",
			ProdProfiles:         []string{"prod"},
			ConfigKey:            "config.yaml",
			MinDatabaseInstances: 3,
		},
		Metrics: MetricsConfig{MaxFindingSeries: 2000},
		Waivers: WaiverConfig{MaxDuration: metav1.Duration{Duration: 90 * 24 * time.Hour}},
	}
}

// maxConfigFile bounds the config file (the full reference is a few KiB).
const maxConfigFile = 1 << 20

// LoadConfig reads a config file strictly over the defaults: unknown fields are an error
// naming them. An empty path returns the defaults.
func LoadConfig(file string) (Config, error) {
	cfg := DefaultConfig()
	if file == "" {
		return cfg, cfg.Validate()
	}
	b, err := fileinput.ReadFile(file, maxConfigFile)
	if err != nil {
		return cfg, fmt.Errorf("reading config %s: %w", file, err)
	}
	// The YAML to JSON conversion reads the first document only: a second one, which an
	// operator may have appended as an override, would be ignored silently.
	if err := singleDocument(b); err != nil {
		return cfg, fmt.Errorf("config %s: %w", file, err)
	}
	// The YAML decoder keeps the last of duplicate keys silently; a second
	// protectedNamespaces further down must not quietly replace the first.
	if err := duplicateKeys(b); err != nil {
		return cfg, fmt.Errorf("config %s: %w", file, err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", file, err)
	}
	// Decoding over the defaults replaces lists but merges maps: a selector given in the
	// file must replace the default selector, not add its labels to it.
	var raw struct {
		SR2 struct {
			Selector *json.RawMessage `json:"kueueManagedNamespaceSelector"`
		} `json:"sr2"`
	}
	if json.Unmarshal(j, &raw) == nil && raw.SR2.Selector != nil {
		cfg.SR2.KueueManagedNamespaceSelector = metav1.LabelSelector{}
	}
	// sigs.k8s.io/json names the full path of unknown and duplicate fields.
	strict, err := kjson.UnmarshalStrict(j, &cfg)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", file, err)
	}
	if len(strict) > 0 {
		return cfg, fmt.Errorf("config %s: %w", file, errors.Join(strict...))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", file, err)
	}
	return cfg, nil
}

// singleDocument refuses a YAML stream of more than one document. An empty document
// (a trailing "---") is not one.
func singleDocument(b []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(b))
	for n := 1; ; n++ {
		var doc yamlv3.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // the YAML decoder reports syntax errors itself
		}
		if n == 1 || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
			continue
		}
		return fmt.Errorf("document %d (line %d): a config file holds one YAML document; "+
			"merge it into the first or remove the \"---\" before it", n, doc.Content[0].Line)
	}
}

// duplicateKeys reports the first key given twice in one mapping, with its path and
// both lines (keys are field names, never secrets).
func duplicateKeys(b []byte) error {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(b, &doc); err != nil {
		return nil // the YAML decoder reports syntax errors itself
	}
	var walk func(n *yamlv3.Node, path string, depth int) error
	walk = func(n *yamlv3.Node, path string, depth int) error {
		if n == nil || depth > 100 {
			return nil
		}
		switch n.Kind {
		case yamlv3.DocumentNode:
			for _, c := range n.Content {
				if err := walk(c, path, depth+1); err != nil {
					return err
				}
			}
		case yamlv3.SequenceNode:
			for i, c := range n.Content {
				if err := walk(c, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		case yamlv3.MappingNode:
			seen := map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				p := k
				if path != "" {
					p = path + "." + k
				}
				if line, ok := seen[k]; ok {
					return fmt.Errorf("line %d: duplicate key %q (first at line %d)", n.Content[i].Line, p, line)
				}
				seen[k] = n.Content[i].Line
				if err := walk(n.Content[i+1], p, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(&doc, "", 0)
}

// maxWaiverDuration bounds waivers.maxDuration: a waiver is an exception with an end,
// not a way to switch a check off for good.
const maxWaiverDuration = 366 * 24 * time.Hour

// Validate checks the configuration before anything starts.
func (c *Config) Validate() error {
	var errs []error
	if c.APIVersion != ConfigAPIVersion {
		errs = append(errs, fmt.Errorf("apiVersion: %q, want %q", c.APIVersion, ConfigAPIVersion))
	}
	if c.Kind != ConfigKind {
		errs = append(errs, fmt.Errorf("kind: %q, want %q", c.Kind, ConfigKind))
	}
	checkNames := func(field string, names []string, required bool) {
		if required && len(names) == 0 {
			errs = append(errs, fmt.Errorf("%s: must not be empty", field))
		}
		for i, n := range names {
			if msgs := validation.IsDNS1123Label(n); len(msgs) > 0 {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is not a namespace name: %s", field, i, n, strings.Join(msgs, "; ")))
			}
		}
	}
	claimed := map[Control]bool{}
	for i, ctl := range c.Controls {
		switch {
		case !slices.Contains(Controls, ctl):
			errs = append(errs, fmt.Errorf("controls[%d]: %q is not a control (want SR1, SR2 or SR3)", i, ctl))
		case claimed[ctl]:
			errs = append(errs, fmt.Errorf("controls[%d]: %s given twice", i, ctl))
		}
		claimed[ctl] = true
	}
	checkNames("sr1.protectedNamespaces", c.SR1.ProtectedNamespaces, true)
	checkNames("sr1.trustedNamespaces", c.SR1.TrustedNamespaces, false)
	checkNames("sr1.hostNetworkNamespaces", c.SR1.HostNetworkNamespaces, false)
	switch c.SR1.PodSecurityDefault {
	case "", PodSecurityPrivileged, PodSecurityBaseline, PodSecurityRestricted:
	default:
		errs = append(errs, fmt.Errorf("sr1.podSecurityDefault: %q is not a Pod Security level (want privileged, baseline or restricted, or leave it empty when unknown)", c.SR1.PodSecurityDefault))
	}
	checkNames("sr2.excludedNamespaces", c.SR2.ExcludedNamespaces, false)
	if _, err := metav1.LabelSelectorAsSelector(&c.SR2.KueueManagedNamespaceSelector); err != nil {
		errs = append(errs, fmt.Errorf("sr2.kueueManagedNamespaceSelector: %w", err))
	}
	if c.SR2.QueueNameLabel == "" {
		errs = append(errs, errors.New("sr2.queueNameLabel: must not be empty"))
	} else if msgs := validation.IsQualifiedName(c.SR2.QueueNameLabel); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("sr2.queueNameLabel: %s", strings.Join(msgs, "; ")))
	}
	if len(c.SR2.GPUResources) == 0 {
		errs = append(errs, errors.New("sr2.gpuResources: must not be empty"))
	}
	for _, list := range []struct {
		field string
		pats  []string
	}{{"sr2.gpuResources", c.SR2.GPUResources}, {"sr2.notGPUResources", c.SR2.NotGPUResources}} {
		for i, r := range list.pats {
			// Extended resources are domain-prefixed: a pattern must fix the domain, so `*`
			// (every resource, CPU and memory included) is refused.
			prefix := strings.TrimSuffix(r, "*")
			if msgs := validation.IsQualifiedName(prefix + "x"); len(msgs) > 0 || !strings.Contains(prefix, "/") || strings.Contains(prefix, "*") {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is not an extended resource name (domain/name) or such a prefix ending in *", list.field, i, r))
			}
		}
	}
	for i, d := range c.SR2.GPUDeviceDrivers {
		// A DRA driver name is a DNS subdomain (ResourceSlice spec.driver validation).
		if msgs := validation.IsDNS1123Subdomain(d); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("sr2.gpuDeviceDrivers[%d]: %q is not a driver name: %s", i, d, strings.Join(msgs, "; ")))
		}
	}
	for i, n := range c.SR2.GPUDeviceClasses {
		if msgs := validation.IsDNS1123Subdomain(n); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("sr2.gpuDeviceClasses[%d]: %q is not a DeviceClass name: %s", i, n, strings.Join(msgs, "; ")))
		}
	}
	if len(c.SR2.GatePolicyNames) == 0 {
		errs = append(errs, errors.New("sr2.gatePolicyNames: must not be empty"))
	}
	for i, n := range c.SR2.GatePolicyNames {
		if msgs := validation.IsDNS1123Subdomain(n); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("sr2.gatePolicyNames[%d]: %q is not a policy name: %s", i, n, strings.Join(msgs, "; ")))
		}
	}
	if msgs := validation.IsDNS1123Label(c.SR2.KyvernoNamespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("sr2.kyvernoNamespace: %q is not a namespace name: %s", c.SR2.KyvernoNamespace, strings.Join(msgs, "; ")))
	}
	if c.SR3.ProfileLabel == "" {
		errs = append(errs, errors.New("sr3.profileLabel: must not be empty"))
	} else if msgs := validation.IsQualifiedName(c.SR3.ProfileLabel); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("sr3.profileLabel: %q is not a label key: %s", c.SR3.ProfileLabel, strings.Join(msgs, "; ")))
	}
	if len(c.SR3.ProdProfiles) == 0 {
		errs = append(errs, errors.New("sr3.prodProfiles: must not be empty"))
	}
	for i, p := range c.SR3.ProdProfiles {
		// An empty profile would match namespaces without the label.
		if p == "" {
			errs = append(errs, fmt.Errorf("sr3.prodProfiles[%d]: must not be empty", i))
		} else if msgs := validation.IsValidLabelValue(p); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("sr3.prodProfiles[%d]: %q is not a label value: %s", i, p, strings.Join(msgs, "; ")))
		}
	}
	if c.SR3.ConfigKey == "" {
		errs = append(errs, errors.New("sr3.configKey: must not be empty"))
	} else if msgs := validation.IsConfigMapKey(c.SR3.ConfigKey); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("sr3.configKey: %q is not a ConfigMap key: %s", c.SR3.ConfigKey, strings.Join(msgs, "; ")))
	}
	if c.SR3.MinDatabaseInstances < 1 {
		errs = append(errs, fmt.Errorf("sr3.minDatabaseInstances: %d, must be at least 1", c.SR3.MinDatabaseInstances))
	}
	for i, k := range c.SensitiveKinds {
		gk := schema.ParseGroupKind(k)
		if msgs := validation.IsDNS1035Label(strings.ToLower(gk.Kind)); len(msgs) > 0 || (gk.Group != "" && len(validation.IsDNS1123Subdomain(gk.Group)) > 0) {
			errs = append(errs, fmt.Errorf("sensitiveKinds[%d]: %q is not Kind or Kind.group", i, k))
		}
	}
	errs = append(errs, validateRuleConfig(c.Rules)...)
	if c.Metrics.MaxFindingSeries < 0 {
		errs = append(errs, fmt.Errorf("metrics.maxFindingSeries: %d, must not be negative", c.Metrics.MaxFindingSeries))
	}
	if c.Waivers.MaxDuration.Duration <= 0 {
		errs = append(errs, errors.New("waivers.maxDuration: must be positive"))
	} else if c.Waivers.MaxDuration.Duration > maxWaiverDuration {
		errs = append(errs, fmt.Errorf("waivers.maxDuration: %s, must be at most %s (366 days)", c.Waivers.MaxDuration.Duration, maxWaiverDuration))
	}
	return errors.Join(errs...)
}

// SensitiveGroupKinds returns SensitiveKinds parsed (validated by Validate).
func (c *Config) SensitiveGroupKinds() []schema.GroupKind {
	out := make([]schema.GroupKind, 0, len(c.SensitiveKinds))
	for _, k := range c.SensitiveKinds {
		out = append(out, schema.ParseGroupKind(k))
	}
	return out
}

// KueueManagedSelector returns the parsed managed-namespace selector (validated by Validate).
func (c *Config) KueueManagedSelector() labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(&c.SR2.KueueManagedNamespaceSelector)
	if err != nil {
		return labels.Nothing()
	}
	return sel
}

// IsGPUResource reports whether an extended resource name is a configured GPU resource.
func (c *SR2Config) IsGPUResource(name string) bool { return matchResource(c.GPUResources, name) }

// IsNotGPUResource reports whether an extended resource name is declared not a GPU
// (NotGPUResources).
func (c *SR2Config) IsNotGPUResource(name string) bool {
	return matchResource(c.NotGPUResources, name)
}

// matchResource matches a resource name against names and prefix patterns ending in `*`.
func matchResource(pats []string, name string) bool {
	for _, pat := range pats {
		if strings.HasSuffix(pat, "*") {
			if ok, _ := path.Match(pat, name); ok || strings.HasPrefix(name, strings.TrimSuffix(pat, "*")) {
				return true
			}
		} else if name == pat {
			return true
		}
	}
	return false
}
