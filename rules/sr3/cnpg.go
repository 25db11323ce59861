package sr3

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

const cnpgGroup = "postgresql.cnpg.io"

// cnpgCluster is the part of a CloudNativePG Cluster the HA rule reads, tolerant of
// wrong types (an error names the field instead).
type cnpgCluster struct {
	Namespace, Name string
	// Instances is spec.instances (the CRD defaults a missing value to 1).
	Instances    int64
	InstancesSet bool
	InstancesErr string
	// Ready is status.readyInstances, when the object has a status (live clusters).
	Ready    int64
	ReadySet bool
	ReadyErr string
}

func cnpgClusterView(u *unstructured.Unstructured) cnpgCluster {
	c := cnpgCluster{Namespace: u.GetNamespace(), Name: u.GetName(), Instances: 1}
	if v, found, err := nestedInt(u.Object, "spec", "instances"); err != "" {
		c.InstancesErr = "spec.instances " + err
	} else if found {
		c.Instances, c.InstancesSet = v, true
	}
	if v, found, err := nestedInt(u.Object, "status", "readyInstances"); err != "" {
		c.ReadyErr = "status.readyInstances " + err
	} else if found {
		c.Ready, c.ReadySet = v, true
	}
	return c
}

func (c cnpgCluster) ref() *auditor.ObjectRef {
	return &auditor.ObjectRef{APIVersion: cnpgGroup + "/v1", Kind: "Cluster", Namespace: c.Namespace, Name: c.Name}
}

// nestedInt reads an integer whether it arrived as int64 (API), float64 (JSON from
// manifests) or json.Number; err describes a value of another type.
func nestedInt(obj map[string]any, fields ...string) (int64, bool, string) {
	cur := any(obj)
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false, ""
		}
		if cur, ok = m[f]; !ok || cur == nil {
			return 0, false, ""
		}
	}
	switch v := cur.(type) {
	case int64:
		return v, true, ""
	case int:
		return int64(v), true, ""
	case int32:
		return int64(v), true, ""
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v), true, ""
		}
		return 0, false, "is not a whole number"
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, true, ""
		}
		return 0, false, "is not a whole number"
	}
	return 0, false, fmt.Sprintf("is a %T, not an integer", cur)
}

// dbTarget is where a proxy's database is, as far as the config and environment say.
// The URL itself holds a password and is never kept.
type dbTarget struct {
	Host  string // "" when unknown
	From  string // which setting or variable named it
	Known bool   // the host could be read
	Why   string // why not, when !Known
}

// databaseTarget follows LiteLLM's order: general_settings.database_url, else env
// DATABASE_URL, else env DATABASE_HOST (the proxy builds the URL from DATABASE_* parts).
// When the URL comes from a Secret, a literal DATABASE_HOST still hints at the host.
func databaseTarget(conf *litellm.Config, env litellm.Env) dbTarget {
	var unknown []string
	note := func(why string) {
		for _, u := range unknown {
			if u == why {
				return
			}
		}
		unknown = append(unknown, why)
	}
	if env == nil {
		env = litellm.NoEnv{Why: "the proxy's environment is unknown"}
	}
	names := []string{"DATABASE_URL", "DATABASE_HOST"}
	if conf != nil {
		r := conf.Setting(env, "general_settings", "database_url")
		from := "general_settings.database_url"
		if r.Env != "" {
			from += " (os.environ/" + r.Env + ")"
		}
		switch r.Kind {
		case litellm.Str:
			if h := databaseURLHost(r.Str); h != "" {
				return dbTarget{Host: h, From: from, Known: true}
			}
			return dbTarget{From: from, Why: from + " names no host the auditor can read"}
		case litellm.Unknown:
			if h := databaseURLHost(r.EnvValue.Partial); h != "" {
				return dbTarget{Host: h, From: from, Known: true}
			}
			note(r.EnvValue.Why)
			names = []string{"DATABASE_HOST"}
		case litellm.Absent, litellm.None:
		default:
			return dbTarget{From: from, Why: from + " is not a string"}
		}
	}
	for _, name := range names {
		v := env.Lookup(name)
		raw := v.Value
		if v.State == litellm.EnvUnknown {
			raw = v.Partial
		}
		h := databaseURLHost(raw)
		if name == "DATABASE_HOST" {
			h = urlHost(raw) // a host by definition: LiteLLM builds the URL around it
		}
		if h != "" {
			return dbTarget{Host: h, From: "env " + name, Known: true}
		}
		if v.State == litellm.EnvUnknown {
			note(v.Why)
		}
	}
	if len(unknown) == 0 {
		return dbTarget{Why: "neither general_settings.database_url nor env DATABASE_URL / DATABASE_HOST names one"}
	}
	return dbTarget{Why: strings.Join(unknown, "; ")}
}

// databaseURLHost is urlHost for a value that must be a URL (database_url,
// DATABASE_URL): anything without a scheme:// may be a password pasted in the wrong
// place, and is never printed as a host.
func databaseURLHost(raw string) string {
	if !strings.Contains(raw, "://") {
		return ""
	}
	return urlHost(raw)
}

// urlHost returns the (first) host of a postgres URL or a bare host[:port], lower-case,
// or "" when it does not look like one. It parses by hand: net/url rejects multi-host
// URLs and its errors quote the URL (and so the password).
func urlHost(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	// The host follows the LAST '@': an unescaped password may hold '@' and '/', so the
	// path is cut only after the userinfo is gone (else a password fragment would pass
	// for a host and end up in a message).
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[:i]
	}
	host := s
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return ""
		}
		host = s[1:i]
		if rest := s[i+1:]; rest != "" && (!strings.HasPrefix(rest, ":") || !allDigits(rest[1:])) {
			return ""
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		// What follows the last colon must be a port; otherwise this is user:password of
		// a malformed URL, which must not be mistaken for (and printed as) a host.
		if !allDigits(s[i+1:]) {
			return ""
		}
		host = s[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if !hostRE.MatchString(host) && net.ParseIP(host) == nil {
		return ""
	}
	return host
}

var hostRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$`)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cnpgService maps a host to the CloudNativePG Cluster whose service it names:
// <cluster>-rw, -ro or -r, as `svc`, `svc.ns`, `svc.ns.svc[.cluster.domain]`. inCluster
// is false for IPs and names outside the cluster's DNS.
func cnpgService(host, proxyNS string) (cluster, ns string, inCluster bool) {
	if host == "" || net.ParseIP(host) != nil {
		return "", "", false
	}
	parts := strings.Split(host, ".")
	ns = proxyNS
	switch {
	case len(parts) == 2:
		ns = parts[1]
	case len(parts) >= 3 && parts[2] == "svc":
		ns = parts[1]
	case len(parts) >= 3:
		return "", "", false
	}
	for _, suf := range []string{"-rw", "-ro", "-r"} {
		if name, ok := strings.CutSuffix(parts[0], suf); ok && name != "" {
			return name, ns, true
		}
	}
	return "", ns, true
}
