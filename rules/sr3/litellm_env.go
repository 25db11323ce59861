package sr3

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// containerEnv is one container's environment as the kubelet builds it: envFrom
// sources in order (a later source wins), then env entries in order (env wins over
// envFrom, a later entry over an earlier one), each env value expanded against the
// variables defined before it. Secrets are never read: a variable that may come from
// one is unknown, naming the Secret and key.
type containerEnv struct {
	layers []envLayer
}

// envLayer is one envFrom source or env entry. A closed layer defines exactly the
// names in vars; an open layer (an envFrom Secret, a ConfigMap the auditor cannot see)
// may define any name with its prefix.
type envLayer struct {
	vars   map[string]litellm.EnvValue
	open   bool
	prefix string
	why    string
}

func newContainerEnv(s *auditor.Snapshot, ns string, c *corev1.Container) *containerEnv {
	e := &containerEnv{}
	cmVisible := s.Visible(auditor.ResourceConfigMaps)
	where := func(kind, name string) string { return kind + " " + ns + "/" + name }
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			name := ef.ConfigMapRef.Name
			optional := ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional
			cm := s.ConfigMap(ns, name)
			if cm == nil {
				e.layers = append(e.layers, envLayer{open: true, prefix: ef.Prefix, why: missingConfigMap(where("ConfigMap", name), "envFrom", optional, cmVisible)})
				continue
			}
			vars := map[string]litellm.EnvValue{}
			for k, v := range cm.Data {
				vars[ef.Prefix+k] = litellm.EnvValue{State: litellm.EnvSet, Value: v, Source: fmt.Sprintf("%s key %s (envFrom)", where("ConfigMap", name), k)}
			}
			e.layers = append(e.layers, envLayer{vars: vars})
		case ef.SecretRef != nil:
			e.layers = append(e.layers, envLayer{open: true, prefix: ef.Prefix,
				why: fmt.Sprintf("container %s takes its environment from %s (envFrom), which the auditor does not read", c.Name, where("Secret", ef.SecretRef.Name))})
		}
	}
	for _, ev := range c.Env {
		v, ok := e.entry(s, ns, c.Name, ev, cmVisible)
		if ok {
			e.layers = append(e.layers, envLayer{vars: map[string]litellm.EnvValue{ev.Name: v}})
		}
	}
	return e
}

// missingConfigMap explains a ConfigMap reference the snapshot cannot answer. Absent
// from the snapshot is not absent from the cluster (manifests may not include it).
func missingConfigMap(what, how string, optional, visible bool) string {
	switch {
	case !visible:
		return fmt.Sprintf("%s (%s) cannot be read: ConfigMaps are not visible to the auditor", what, how)
	case optional && how == "envFrom", optional && how == "configMapKeyRef":
		return fmt.Sprintf("%s (%s, optional) is not among the objects the auditor sees; if it does not exist the variable is unset", what, how)
	}
	return fmt.Sprintf("%s (%s) is not among the objects the auditor sees; if it does not exist the container cannot start", what, how)
}

// entry resolves one env entry; ok is false when the entry sets nothing (an optional
// ConfigMap key that does not exist).
func (e *containerEnv) entry(s *auditor.Snapshot, ns, container string, ev corev1.EnvVar, cmVisible bool) (litellm.EnvValue, bool) {
	if ev.ValueFrom == nil {
		return e.expand(ev.Value, fmt.Sprintf("env %s of container %s", ev.Name, container)), true
	}
	vf := ev.ValueFrom
	switch {
	case vf.SecretKeyRef != nil:
		return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from Secret %s/%s key %s, which the auditor does not read",
			container, ev.Name, ns, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key)}, true
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		optional := ref.Optional != nil && *ref.Optional
		what := fmt.Sprintf("ConfigMap %s/%s key %s", ns, ref.Name, ref.Key)
		cm := s.ConfigMap(ns, ref.Name)
		if cm == nil {
			return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from %s", container, ev.Name, missingConfigMap(what, "configMapKeyRef", optional, cmVisible))}, true
		}
		v, has := cm.Data[ref.Key]
		switch {
		case has:
			return litellm.EnvValue{State: litellm.EnvSet, Value: v, Source: what}, true
		case optional:
			return litellm.EnvValue{}, false
		}
		return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from %s, which does not exist: the container cannot start", container, ev.Name, what)}, true
	case vf.FieldRef != nil:
		return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from the pod field %s", container, ev.Name, vf.FieldRef.FieldPath)}, true
	case vf.ResourceFieldRef != nil:
		return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from the resource field %s", container, ev.Name, vf.ResourceFieldRef.Resource)}, true
	}
	return litellm.EnvValue{State: litellm.EnvUnknown, Why: fmt.Sprintf("container %s sets %s from a source the auditor does not know", container, ev.Name)}, true
}

// Lookup returns the variable as the container sees it.
func (e *containerEnv) Lookup(name string) litellm.EnvValue {
	return e.lookupIn(e.layers, name)
}

func (e *containerEnv) lookupIn(layers []envLayer, name string) litellm.EnvValue {
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		if l.open {
			if strings.HasPrefix(name, l.prefix) {
				return litellm.EnvValue{State: litellm.EnvUnknown, Why: l.why}
			}
			continue
		}
		if v, ok := l.vars[name]; ok {
			return v
		}
	}
	return litellm.EnvValue{State: litellm.EnvUnset}
}

// expand is the kubelet's $(VAR) expansion of an env value: $$ is a literal $,
// $(NAME) of a variable defined before this entry is replaced, anything else is kept.
func (e *containerEnv) expand(value, source string) litellm.EnvValue {
	if !strings.Contains(value, "$") {
		return litellm.EnvValue{State: litellm.EnvSet, Value: value, Source: source}
	}
	var b strings.Builder
	why := ""
	for i := 0; i < len(value); i++ {
		if value[i] != '$' || i+1 >= len(value) {
			b.WriteByte(value[i])
			continue
		}
		switch value[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			end := strings.IndexByte(value[i+2:], ')')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := value[i+2 : i+2+end]
			ref := e.lookupIn(e.layers, name)
			switch ref.State {
			case litellm.EnvSet:
				b.WriteString(ref.Value)
			case litellm.EnvUnknown:
				// Keep going: the parts that are known (a database host) still help.
				if why == "" {
					why = fmt.Sprintf("%s refers to $(%s): %s", source, name, ref.Why)
				}
				b.WriteString(value[i : i+3+end])
			default:
				b.WriteString(value[i : i+3+end])
			}
			i += 2 + end
			continue
		}
		b.WriteByte('$')
	}
	if why != "" {
		return litellm.EnvValue{State: litellm.EnvUnknown, Why: why, Partial: b.String()}
	}
	return litellm.EnvValue{State: litellm.EnvSet, Value: b.String(), Source: source}
}
