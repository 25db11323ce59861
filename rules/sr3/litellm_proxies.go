package rules

import (
	"errors"
	"fmt"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// sr3Scope answers the SR3 questions shared by the rules: which LiteLLM configs exist,
// which run in prod, what they say once read as the proxy reads them.
type sr3Scope struct {
	cfg  auditor.SR3Config
	prod map[string]bool
}

func newSR3Scope(cfg auditor.Config) sr3Scope {
	prod := map[string]bool{}
	for _, p := range cfg.SR3.ProdProfiles {
		prod[p] = true
	}
	return sr3Scope{cfg: cfg.SR3, prod: prod}
}

// loadedProxy is a proxyConfig with its config parsed.
type loadedProxy struct {
	*proxyConfig
	Conf       *litellm.Config // nil when unreadable, missing or invalid
	Err        *litellm.Error
	MissingKey bool
	Env        litellm.Env
	// Shared: several Deployments run this ConfigMap (findings then carry a discriminator).
	Shared bool
}

// load finds and parses every config (each ConfigMap key once).
func (sc sr3Scope) load(s *auditor.Snapshot) ([]*loadedProxy, []string) {
	proxies, why := sc.proxies(s)
	type parsed struct {
		conf *litellm.Config
		err  *litellm.Error
	}
	cache := map[string]parsed{}
	runs := map[string]int{}
	for _, p := range proxies {
		if p.CM != nil && p.Deploy != nil {
			runs[nsKeyOf(p.CM.Namespace, p.CM.Name)]++
		}
	}
	var out []*loadedProxy
	for _, p := range proxies {
		lp := &loadedProxy{proxyConfig: p}
		if p.Deploy != nil || p.CM != nil {
			lp.Env = p.Env(s)
		}
		if p.CM != nil {
			lp.Shared = runs[nsKeyOf(p.CM.Namespace, p.CM.Name)] > 1
			data, ok := p.Data()
			if !ok {
				lp.MissingKey = true
			} else {
				k := nsKeyOf(p.CM.Namespace, p.CM.Name) + "/" + p.Key
				r, done := cache[k]
				if !done {
					conf, err := litellm.Parse(data)
					var le *litellm.Error
					if err != nil && !errors.As(err, &le) {
						le = &litellm.Error{Kind: litellm.ErrSyntax, Msg: "the config cannot be read"}
					}
					r = parsed{conf: conf, err: le}
					cache[k] = r
				}
				lp.Conf, lp.Err = r.conf, r.err
			}
		}
		out = append(out, lp)
	}
	return out, why
}

func (lp *loadedProxy) finding(meta auditor.RuleMeta, msg string) auditor.Finding {
	f := meta.NewFinding(lp.Object(), msg)
	f.Discriminator = lp.Discriminator(lp.Shared)
	return f
}

// describe names the proxy for messages: its config, profile and who runs it.
func (lp *loadedProxy) describe() string {
	d := lp.Where()
	switch {
	case lp.Deploy != nil && lp.CM != nil:
		d += fmt.Sprintf(" (run by Deployment %s/%s)", lp.Deploy.Namespace, lp.Deploy.Name)
	case lp.Via != "":
		d += " (" + lp.Via + ")"
	}
	return d
}

func at(v litellm.Value) string {
	if v.Line == 0 {
		return ""
	}
	return fmt.Sprintf(" (line %d, column %d)", v.Line, v.Column)
}
