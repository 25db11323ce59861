package sr3

import (
	"errors"
	"slices"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// view is SR3's model of one snapshot, built once per evaluation (auditor.View): every
// LiteLLM config found (litellm_discovery.go), each parsed once, and which run in prod.
type view struct {
	proxies []*loadedProxy
	// prod are the proxies running with a prod profile (sr3.prodProfiles), in order.
	prod []*loadedProxy
	// why are the reasons discovery could not see everything (configmaps or deployments
	// not visible, a config the auditor must not read): every rule reports them.
	why []string
}

// sr3Scope finds the LiteLLM configs of a snapshot for one configuration.
type sr3Scope struct {
	cfg  auditor.SR3Config
	full auditor.Config
}

func newSR3Scope(cfg auditor.Config) sr3Scope { return sr3Scope{cfg: cfg.SR3, full: cfg} }

// isProd reports whether the proxy runs with a prod profile.
func (sc sr3Scope) isProd(p *proxyConfig) bool { return sc.full.IsProd(p.Profile) }

// parseFunc parses a LiteLLM config (litellm.Parse; tests count the calls).
type parseFunc func([]byte) (*litellm.Config, error)

// newView returns the family's view for a configuration.
func newView(cfg auditor.Config, parse parseFunc) *auditor.View[*view] {
	sc := newSR3Scope(cfg)
	return auditor.NewView(func(s *auditor.Snapshot) *view { return sc.load(s, parse) })
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
	// Prod: the proxy runs with a prod profile (sr3.prodProfiles).
	Prod bool
}

// load finds and parses every config (each ConfigMap key once).
func (sc sr3Scope) load(s *auditor.Snapshot, parse parseFunc) *view {
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
	v := &view{why: why}
	for _, p := range proxies {
		lp := &loadedProxy{proxyConfig: p, Prod: sc.isProd(p)}
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
					conf, err := parse(data)
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
		v.proxies = append(v.proxies, lp)
		if lp.Prod {
			v.prod = append(v.prod, lp)
		}
	}
	return v
}

// proxyInputs are what finding the LiteLLM proxies and their configs reads
// (litellm_discovery.go): every SR3 rule declares them.
var proxyInputs = []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments}

// result starts a rule's result with what discovery could not see (every SR3 rule
// reports it).
func (v *view) result() auditor.Result {
	return auditor.Result{Inconclusive: slices.Clone(v.why)}
}
