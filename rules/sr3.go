package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

// sr3Rules: fail-closed budgets (LiteLLM prod settings, CloudNativePG HA, Redis).
func sr3Rules(cfg auditor.Config) []auditor.Rule {
	return []auditor.Rule{
		BudgetFailOpenInProd(cfg),
		BudgetFailOpenUnverifiable(cfg),
		BudgetDBNotHAInProd(cfg),
		BudgetCacheNotRedisInProd(cfg),
		LiteLLMConfigUnparseable(cfg),
	}
}

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

// BudgetFailOpenInProd: a prod LiteLLM config whose effective
// general_settings.allow_requests_on_db_unavailable is true lets requests through,
// with a synthetic identity and no budget check, whenever the database is unreachable.
func BudgetFailOpenInProd(cfg auditor.Config) auditor.Rule {
	sc := newSR3Scope(cfg)
	meta := auditor.RuleMeta{
		ID: "budget-fail-open-in-prod", Control: auditor.SR3, Severity: auditor.SeverityCritical,
		Title: "LiteLLM prod proxy serves requests without budget checks when its database is down",
		Remediation: "Set general_settings.allow_requests_on_db_unavailable: false in the prod LiteLLM config (or remove it: the default is false), " +
			"make sure no os.environ/ variable behind it resolves to \"true\", and roll the Deployment so the proxy reloads its config.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		proxies, why := sc.load(s)
		res.Inconclusive = append(res.Inconclusive, why...)
		prodSeen := 0
		for _, lp := range proxies {
			if !sc.isProd(lp.proxyConfig) {
				continue
			}
			prodSeen++
			if lp.Conf == nil {
				continue
			}
			r := lp.Conf.Setting(lp.Env, "general_settings", "allow_requests_on_db_unavailable")
			if on, known := r.Lenient(); known && on {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) sets general_settings.allow_requests_on_db_unavailable to %s: LiteLLM then lets requests through "+
						"without key or budget checks whenever its database is unreachable (fail-open budgets)",
					lp.describe(), lp.Profile, failOpenForm(r))))
			}
			if r := lp.Conf.Setting(lp.Env, "general_settings", "store_model_in_db"); r.Kind != litellm.Absent {
				if on, known := r.IsTrue(); on || !known {
					res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
						"%s sets general_settings.store_model_in_db: the proxy merges general_settings stored in its database over the file, which the auditor cannot read", lp.describe()))
				}
			}
			if v, ok := lp.Conf.Lookup("include"); ok && v.Truthy() {
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
					"%s includes other files (include%s), which may override general_settings; only the main file was read", lp.describe(), at(v)))
			}
		}
		if prodSeen == 0 {
			res.Inconclusive = append(res.Inconclusive, fmt.Sprintf(
				"no LiteLLM config with profile %s was found (%d LiteLLM configs found): fail-closed budgets cannot be shown",
				strings.Join(sc.cfg.ProdProfiles, "/"), len(proxies)))
		}
		return res
	})
}

// failOpenForm says which form made the flag true, never another config value.
func failOpenForm(r litellm.Resolved) string {
	if r.Env != "" {
		return fmt.Sprintf("os.environ/%s%s, and %s sets %s to %q", r.Env, at(r.Value), r.EnvValue.Source, r.Env, strings.TrimSpace(r.EnvValue.Value))
	}
	how := "a string str_to_bool reads as true"
	if r.Value.Kind == litellm.KindBool {
		how = "which PyYAML (YAML 1.1) loads as the boolean true"
	}
	return fmt.Sprintf("%s%s, %s", r.Value.Describe(), at(r.Value), how)
}

// BudgetFailOpenUnverifiable: the fail-open flag of a prod proxy depends on something
// the auditor must not or cannot read (a Secret, a missing ConfigMap, a bucket).
func BudgetFailOpenUnverifiable(cfg auditor.Config) auditor.Rule {
	sc := newSR3Scope(cfg)
	meta := auditor.RuleMeta{
		ID: "budget-fail-open-unverifiable", Control: auditor.SR3, Severity: auditor.SeverityMedium,
		Title: "LiteLLM prod proxy's fail-open setting cannot be verified",
		Remediation: "Write general_settings.allow_requests_on_db_unavailable: false as a literal in the prod LiteLLM ConfigMap (it is not a secret), " +
			"or take its os.environ/ variable from a ConfigMap; keep the config file itself in a ConfigMap mounted at the --config path, not in a Secret, bucket or image.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		proxies, why := sc.load(s)
		res.Inconclusive = append(res.Inconclusive, why...)
		for _, lp := range proxies {
			if !sc.isProd(lp.proxyConfig) {
				continue
			}
			if lp.Unreadable != "" {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"prod LiteLLM Deployment %s/%s (profile %s) reads its config from %s: the auditor cannot tell whether allow_requests_on_db_unavailable is false",
					lp.Deploy.Namespace, lp.Deploy.Name, lp.Profile, lp.Unreadable)))
				continue
			}
			if lp.Conf == nil {
				continue
			}
			r := lp.Conf.Setting(lp.Env, "general_settings", "allow_requests_on_db_unavailable")
			if _, known := r.Lenient(); !known {
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) sets general_settings.allow_requests_on_db_unavailable to os.environ/%s%s, and %s: the auditor cannot tell whether budgets fail open",
					lp.describe(), lp.Profile, r.Env, at(r.Value), r.EnvValue.Why)))
			}
		}
		return res
	})
}

// BudgetCacheNotRedisInProd: without a shared Redis every proxy replica keeps its own
// rate-limit and spend counters, so limits multiply with replicas between DB writes.
func BudgetCacheNotRedisInProd(cfg auditor.Config) auditor.Rule {
	sc := newSR3Scope(cfg)
	meta := auditor.RuleMeta{
		ID: "budget-cache-not-redis-in-prod", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM prod proxy keeps budget and rate-limit state per replica (no Redis)",
		Remediation: "Give the prod proxy a shared Redis: litellm_settings: {cache: true, cache_params: {type: redis, host: os.environ/REDIS_HOST, " +
			"port: os.environ/REDIS_PORT, password: os.environ/REDIS_PASSWORD}} and router_settings: {redis_host: os.environ/REDIS_HOST, " +
			"redis_port: os.environ/REDIS_PORT, redis_password: os.environ/REDIS_PASSWORD}, with REDIS_HOST/REDIS_PORT set in the container.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		proxies, why := sc.load(s)
		res.Inconclusive = append(res.Inconclusive, why...)
		for _, lp := range proxies {
			if !sc.isProd(lp.proxyConfig) || lp.Conf == nil {
				continue
			}
			v := budgetRedis(lp.Conf, lp.Env)
			switch {
			case !v.Known:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("%s: whether budgets share a Redis depends on %s", lp.describe(), v.Why))
			case !v.Redis:
				res.Findings = append(res.Findings, lp.finding(meta, fmt.Sprintf(
					"%s (profile %s) has no Redis behind budgets and rate limits: %s. Each replica counts spend and requests on its own",
					lp.describe(), lp.Profile, v.Why)))
			}
		}
		return res
	})
}

// LiteLLMConfigUnparseable: a config the proxy cannot load (invalid YAML, not a mapping,
// a missing key) is never skipped: the auditor says where it breaks.
func LiteLLMConfigUnparseable(cfg auditor.Config) auditor.Rule {
	sc := newSR3Scope(cfg)
	meta := auditor.RuleMeta{
		ID: "litellm-config-unparseable", Control: auditor.SR3, Severity: auditor.SeverityHigh,
		Title: "LiteLLM config cannot be loaded",
		Remediation: "Fix the config at the line and column given (check it with `python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' config.yaml`, " +
			"the loader LiteLLM uses), make sure the key the Deployment's --config path selects exists in the ConfigMap, and roll the Deployment.",
		Inputs: []string{auditor.ResourceNamespaces, auditor.ResourceConfigMaps, auditor.ResourceDeployments},
	}
	return newRule(meta, func(s *auditor.Snapshot) auditor.Result {
		var res auditor.Result
		proxies, why := sc.load(s)
		res.Inconclusive = append(res.Inconclusive, why...)
		seen := map[string]bool{}
		for _, lp := range proxies {
			if lp.CM == nil {
				continue
			}
			k := nsKeyOf(lp.CM.Namespace, lp.CM.Name) + "/" + lp.Key
			if seen[k] {
				continue
			}
			seen[k] = true
			profile := lp.Profile
			if profile == "" {
				profile = "none"
			}
			var msg string
			switch {
			case lp.MissingKey && lp.Strict:
				msg = fmt.Sprintf("ConfigMap %s/%s has no key %s, which is %s (keys present: %s): the proxy cannot load its config",
					lp.CM.Namespace, lp.CM.Name, lp.Key, lp.Via, keyList(lp))
			case lp.MissingKey:
				res.Inconclusive = append(res.Inconclusive, fmt.Sprintf("ConfigMap %s/%s looks like a LiteLLM config (%s) but has no key %s (keys present: %s): not audited",
					lp.CM.Namespace, lp.CM.Name, lp.Via, lp.Key, keyList(lp)))
				continue
			case lp.Err != nil:
				msg = fmt.Sprintf("%s (profile %s) cannot be loaded as LiteLLM loads it (PyYAML safe_load): %s", lp.Where(), profile, lp.Err.Error())
			default:
				continue
			}
			f := meta.NewFinding(lp.Object(), msg)
			if lp.Key != sc.cfg.ConfigKey {
				f.Discriminator = lp.Key
			}
			res.Findings = append(res.Findings, f)
		}
		return res
	})
}

func keyList(lp *loadedProxy) string {
	var keys []string
	for k := range lp.CM.Data {
		keys = append(keys, k)
	}
	for k := range lp.CM.BinaryData {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return "none"
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
