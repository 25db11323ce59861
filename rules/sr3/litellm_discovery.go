package sr3

import (
	"fmt"
	"path"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// litellmNameLabel marks the official chart's objects (app.kubernetes.io/name: litellm).
const litellmNameLabel = "app.kubernetes.io/name"

// imageWorkdir is the LiteLLM image's WORKDIR, against which a relative --config resolves
// when the container sets no workingDir.
const imageWorkdir = "/app"

// proxyConfig is one LiteLLM config as one proxy runs it (or as found, when no
// Deployment mounts it).
type proxyConfig struct {
	Namespace string
	// CM and Key hold the config; CM is nil when the config is not in a ConfigMap the
	// auditor can read (then Unreadable says where it is).
	CM  *corev1.ConfigMap
	Key string
	// Deploy and Container run it; nil when no Deployment mounts the ConfigMap.
	Deploy    *appsv1.Deployment
	Container *corev1.Container
	// Via says how the config was identified, for messages.
	Via string
	// Strict: a Deployment's --config path selects this key, so a missing key is a
	// broken proxy, not a guess that did not fit.
	Strict bool
	// Unreadable names where the config lives when it cannot be read (a Secret, a
	// bucket, the image); empty otherwise.
	Unreadable string
	Profile    string
	// Chosen says what named the file when it is not a single --config (env
	// CONFIG_FILE_PATH, the last of several --config options), for messages.
	Chosen string
	// Doubt: something the auditor cannot read may replace the config file (inconclusive).
	Doubt string
	// ProfileFrom says which object's label gave the profile ("" when none did).
	ProfileFrom string
	// Downgrade is set when a non-prod profile overrides a prod profile of a less
	// specific object (a prod namespace, a prod Deployment).
	Downgrade *profileDowngrade
}

// Object is what findings about the config name: the ConfigMap, else the Deployment.
func (p *proxyConfig) Object() *auditor.ObjectRef {
	if p.CM != nil {
		return &auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: p.CM.Namespace, Name: p.CM.Name}
	}
	return &auditor.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: p.Deploy.Namespace, Name: p.Deploy.Name}
}

// Where names the config for messages: "ConfigMap litellm/litellm-config key config.yaml".
func (p *proxyConfig) Where() string {
	if p.CM != nil {
		return fmt.Sprintf("ConfigMap %s/%s key %s", p.CM.Namespace, p.CM.Name, p.Key)
	}
	return fmt.Sprintf("the config of Deployment %s/%s", p.Deploy.Namespace, p.Deploy.Name)
}

// Env is the environment os.environ/ references resolve against.
func (p *proxyConfig) Env(s *auditor.Snapshot) litellm.Env {
	if p.Deploy == nil || p.Container == nil {
		return litellm.NoEnv{Why: fmt.Sprintf("no Deployment in namespace %s mounts ConfigMap %s, so the proxy's environment is unknown", p.Namespace, p.CM.Name)}
	}
	return newContainerEnv(s, p.Namespace, p.Container)
}

// Data returns the config text; ok is false when the key is missing.
func (p *proxyConfig) Data() ([]byte, bool) {
	if p.CM == nil {
		return nil, false
	}
	if v, ok := p.CM.Data[p.Key]; ok {
		return []byte(v), true
	}
	if v, ok := p.CM.BinaryData[p.Key]; ok {
		return v, true
	}
	return nil, false
}

// Discriminator separates findings when several Deployments run one ConfigMap.
func (p *proxyConfig) Discriminator(shared bool) string {
	if !shared || p.Deploy == nil {
		return ""
	}
	return "Deployment/" + p.Deploy.Name
}

// proxies finds every LiteLLM config: first through the Deployments that run LiteLLM
// (the file their --config names), then the ConfigMaps that look like one (the chart's
// label or name) no Deployment already led to. Inconclusive reasons come back too.
func (sc sr3Scope) proxies(s *auditor.Snapshot) ([]*proxyConfig, []string) {
	var out []*proxyConfig
	var why []string
	if !s.Visible(auditor.ResourceConfigMaps) {
		why = append(why, fmt.Sprintf("configmaps are not visible (%s): LiteLLM configs cannot be read", s.AvailabilityOf(auditor.ResourceConfigMaps).State))
	}
	if !s.Visible(auditor.ResourceDeployments) {
		why = append(why, fmt.Sprintf("deployments are not visible (%s): LiteLLM proxies and their environment cannot be found", s.AvailabilityOf(auditor.ResourceDeployments).State))
	}
	covered := map[string]bool{}
	// decided: containers whose loaded file is known; a ConfigMap they mount but do not
	// load is not theirs.
	decided := map[string]bool{}
	deploys := append([]*appsv1.Deployment(nil), s.Deployments...)
	sort.Slice(deploys, func(i, j int) bool {
		return nsKeyOf(deploys[i].Namespace, deploys[i].Name) < nsKeyOf(deploys[j].Namespace, deploys[j].Name)
	})
	for _, d := range deploys {
		for i := range d.Spec.Template.Spec.Containers {
			c := &d.Spec.Template.Spec.Containers[i]
			if !looksLikeLiteLLM(d, c) {
				continue
			}
			p, reason := sc.fromDeployment(s, d, c)
			if p != nil {
				decided[nsKeyOf(d.Namespace, d.Name)+"/"+c.Name] = true
			}
			if p == nil {
				if reason != "" {
					why = append(why, reason)
				}
				continue
			}
			if p.Doubt != "" {
				why = append(why, fmt.Sprintf("Deployment %s/%s container %s: %s", d.Namespace, d.Name, c.Name, p.Doubt))
			}
			if p.CM != nil {
				covered[nsKeyOf(p.CM.Namespace, p.CM.Name)] = true
			}
			out = append(out, p)
		}
	}
	cms := append([]*corev1.ConfigMap(nil), s.ConfigMaps...)
	sort.Slice(cms, func(i, j int) bool {
		return nsKeyOf(cms[i].Namespace, cms[i].Name) < nsKeyOf(cms[j].Namespace, cms[j].Name)
	})
	for _, cm := range cms {
		if covered[nsKeyOf(cm.Namespace, cm.Name)] || !looksLikeLiteLLMConfig(cm) {
			continue
		}
		via := "its name"
		if cm.Labels[litellmNameLabel] == "litellm" {
			via = "its label " + litellmNameLabel + "=litellm"
		}
		found := false
		unloaded := ""
		for _, d := range deploys {
			if d.Namespace != cm.Namespace {
				continue
			}
			if c := containerMounting(d, cm.Name); c != nil && decided[nsKeyOf(d.Namespace, d.Name)+"/"+c.Name] {
				unloaded = fmt.Sprintf("Deployment %s/%s mounts it but container %s loads another file", d.Namespace, d.Name, c.Name)
			} else if c != nil {
				found = true
				out = append(out, sc.withProfile(s, &proxyConfig{Namespace: cm.Namespace, CM: cm, Key: sc.cfg.ConfigKey, Deploy: d, Container: c,
					Via: fmt.Sprintf("identified by %s and mounted by Deployment %s/%s (container %s)", via, d.Namespace, d.Name, c.Name)}))
			}
		}
		if !found {
			why := "no Deployment mounts it"
			if unloaded != "" {
				why = unloaded
			}
			out = append(out, sc.withProfile(s, &proxyConfig{Namespace: cm.Namespace, CM: cm, Key: sc.cfg.ConfigKey, Via: "identified by " + via + " (" + why + ")"}))
		}
	}
	return out, why
}

func nsKeyOf(ns, name string) string { return ns + "/" + name }

// looksLikeLiteLLM: the container runs the LiteLLM proxy (the chart's container name and
// label, the image, or a litellm command). A bare --config is too common to go by.
func looksLikeLiteLLM(d *appsv1.Deployment, c *corev1.Container) bool {
	if c.Name == "litellm" || strings.Contains(strings.ToLower(c.Image), "litellm") ||
		d.Spec.Template.Labels[litellmNameLabel] == "litellm" {
		return true
	}
	for _, t := range append(append([]string(nil), c.Command...), c.Args...) {
		if strings.Contains(t, "litellm") {
			return true
		}
	}
	return false
}

// looksLikeLiteLLMConfig: the chart's ConfigMap (<release>-litellm-config, or
// litellm-config) or one labelled app.kubernetes.io/name=litellm.
func looksLikeLiteLLMConfig(cm *corev1.ConfigMap) bool {
	return cm.Labels[litellmNameLabel] == "litellm" || cm.Name == "litellm-config" || strings.HasSuffix(cm.Name, "-litellm-config")
}

// containerMounting returns the first container of d that mounts ConfigMap name.
func containerMounting(d *appsv1.Deployment, name string) *corev1.Container {
	vols := map[string]bool{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == name {
			vols[v.Name] = true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil && src.ConfigMap.Name == name {
					vols[v.Name] = true
				}
			}
		}
	}
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		for _, m := range c.VolumeMounts {
			if vols[m.Name] {
				return c
			}
		}
	}
	return nil
}

// withProfile fills the profile: the ConfigMap's label, else the Deployment's, else the
// namespace's (the most specific object wins). A non-prod profile that overrides a prod
// profile of a less specific object is recorded as a downgrade (budget-profile-downgrade).
func (sc sr3Scope) withProfile(s *auditor.Snapshot, p *proxyConfig) *proxyConfig {
	label := sc.cfg.ProfileLabel
	var srcs []profileSource // most specific first
	if p.CM != nil && p.CM.Labels[label] != "" {
		srcs = append(srcs, profileSource{Kind: "ConfigMap", Value: p.CM.Labels[label],
			Ref: auditor.ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: p.CM.Namespace, Name: p.CM.Name}})
	}
	if p.Deploy != nil && p.Deploy.Labels[label] != "" {
		srcs = append(srcs, profileSource{Kind: "Deployment", Value: p.Deploy.Labels[label],
			Ref: auditor.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: p.Deploy.Namespace, Name: p.Deploy.Name}})
	}
	if ns := s.Namespace(p.Namespace); ns != nil && ns.Labels[label] != "" {
		srcs = append(srcs, profileSource{Kind: "namespace", Value: ns.Labels[label],
			Ref: auditor.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns.Name}})
	}
	if len(srcs) == 0 {
		return p
	}
	p.Profile, p.ProfileFrom = srcs[0].Value, srcs[0].Kind
	if !sc.full.IsProd(srcs[0].Value) {
		for _, over := range srcs[1:] {
			if sc.full.IsProd(over.Value) {
				p.Downgrade = &profileDowngrade{By: srcs[0], Over: over}
				break
			}
		}
	}
	return p
}

// profileSource is one object's profile label.
type profileSource struct {
	Kind  string // ConfigMap, Deployment, namespace
	Value string
	Ref   auditor.ObjectRef
}

// describe names the object and its label: "namespace litellm (llm-platform/profile=prod)".
func (ps profileSource) describe(label string) string {
	name := ps.Ref.Name
	if ps.Ref.Namespace != "" {
		name = ps.Ref.Namespace + "/" + name
	}
	return fmt.Sprintf("%s %s (%s=%s)", ps.Kind, name, label, ps.Value)
}

// profileDowngrade: the profile By gives overrides the prod profile of Over.
type profileDowngrade struct{ By, Over profileSource }

// fromDeployment follows a LiteLLM container's --config path to the file. It returns
// nil and a reason when the container has no config path at all.
func (sc sr3Scope) fromDeployment(s *auditor.Snapshot, d *appsv1.Deployment, c *corev1.Container) (*proxyConfig, string) {
	p := &proxyConfig{Namespace: d.Namespace, Deploy: d, Container: c}
	env := newContainerEnv(s, d.Namespace, c)
	if b := env.Lookup("LITELLM_CONFIG_BUCKET_NAME"); b.State == litellm.EnvSet && strings.TrimSpace(b.Value) != "" {
		p.Unreadable = "a bucket named by env LITELLM_CONFIG_BUCKET_NAME (LiteLLM loads its config from S3/GCS instead of a file)"
		return sc.withProfile(s, p), ""
	}
	choice := configPath(c, env)
	file := choice.file
	p.Doubt = choice.doubt
	if file == "" {
		if choice.how != "" {
			p.Unreadable = choice.how
			return sc.withProfile(s, p), ""
		}
		return nil, fmt.Sprintf("Deployment %s/%s container %s runs LiteLLM without --config or CONFIG_FILE_PATH: no config file to audit", d.Namespace, d.Name, c.Name)
	}
	if !path.IsAbs(file) {
		dir := c.WorkingDir
		if dir == "" {
			dir = imageWorkdir
		}
		file = path.Join(dir, file)
	}
	file = path.Clean(file)
	p.Via = fmt.Sprintf("read by Deployment %s/%s (container %s) from %s", d.Namespace, d.Name, c.Name, file)
	if choice.from != "--config" {
		p.Chosen = choice.from
		p.Via += " (named by " + choice.from + ")"
	}
	src := resolveFile(s, d.Namespace, &d.Spec.Template.Spec, c, file)
	switch {
	case src.cm != "":
		p.Key, p.Strict = src.key, true
		if p.CM = s.ConfigMap(d.Namespace, src.cm); p.CM == nil {
			p.Unreadable = missingConfigMap(fmt.Sprintf("ConfigMap %s/%s key %s", d.Namespace, src.cm, src.key), "mounted at "+file,
				src.optional, s.Visible(auditor.ResourceConfigMaps))
		}
	default:
		p.Unreadable = src.other
	}
	return sc.withProfile(s, p), ""
}
