package sr3

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules/litellm"
)

func TestURLHost(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"url":                    {"postgresql://u:p@pg-rw.litellm.svc:5432/db?sslmode=require", "pg-rw.litellm.svc"},
		"at sign in password":    {"postgresql://u:p@ss@pg-rw/db", "pg-rw"},
		"multi-host":             {"postgresql://u:p@pg-rw:5432,pg-ro:5432/db", "pg-rw"},
		"bare host with port":    {"pg-rw.litellm:5432", "pg-rw.litellm"},
		"ipv6":                   {"postgres://u:p@[fd00::1]:5432/db", "fd00::1"},
		"trailing dot, upper":    {"PG-RW.LITELLM.SVC.", "pg-rw.litellm.svc"},
		"user:password, no host": {"postgresql://litellm:s3cretpass/db", ""},
		"slash in password":      {"postgresql://litellm:pa/ss@pg-rw/db", "pg-rw"},
		"at and slash in password, never a fragment": {"postgresql://litellm:Pr0d-P@ssWord-Zq9/x1@litellm-pg-rw:5432/litellm", "litellm-pg-rw"},
		"unexpanded variable":                        {"postgresql://$(USER):$(PASS)@$(HOST)/db", ""},
		"empty":                                      {"", ""},
		"key/value DSN":                              {"host=pg-rw dbname=litellm", ""},
		"password-looking port":                      {"pg-rw:hunter2", ""},
		"host with underscore ok":                    {"pg_rw", "pg_rw"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, urlHost(tc.in)) })
	}
}

func TestCNPGService(t *testing.T) {
	cases := map[string]struct {
		host, cluster, ns string
		in                bool
	}{
		"short rw":         {"pg-rw", "pg", "litellm", true},
		"svc.ns ro":        {"pg-ro.db", "pg", "db", true},
		"fqdn r":           {"pg-r.db.svc.cluster.local", "pg", "db", true},
		"custom domain":    {"pg-rw.db.svc.corp.example", "pg", "db", true},
		"not a cnpg name":  {"postgres.db.svc", "", "db", true},
		"external":         {"db.example.com", "", "", false},
		"ip":               {"10.0.0.5", "", "", false},
		"just the suffix":  {"-rw", "", "litellm", true},
		"double suffix rw": {"pg-ro-rw", "pg-ro", "litellm", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, ns, in := cnpgService(tc.host, "litellm")
			assert.Equal(t, tc.cluster, c)
			assert.Equal(t, tc.ns, ns)
			assert.Equal(t, tc.in, in)
		})
	}
}

func TestCNPGClusterView(t *testing.T) {
	cases := map[string]struct {
		instances, ready any
		want             cnpgCluster
	}{
		"defaults to one instance, no status": {want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 1}},
		"API integers":                        {instances: int64(3), ready: int64(2), want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 3, InstancesSet: true, Ready: 2, ReadySet: true}},
		"JSON numbers":                        {instances: float64(3), ready: json.Number("3"), want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 3, InstancesSet: true, Ready: 3, ReadySet: true}},
		"Go ints":                             {instances: 3, ready: int32(1), want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 3, InstancesSet: true, Ready: 1, ReadySet: true}},
		"fraction":                            {instances: 2.5, want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 1, InstancesErr: "spec.instances is not a whole number"}},
		"string":                              {instances: "3", want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 1, InstancesErr: "spec.instances is a string, not an integer"}},
		"bad json.Number":                     {ready: json.Number("1e400"), want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 1, ReadyErr: "status.readyInstances is not a whole number"}},
		"huge float":                          {instances: float64(1 << 60), want: cnpgCluster{Namespace: "db", Name: "pg", Instances: 1, InstancesErr: "spec.instances is not a whole number"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := cnpgClusterView(sr3CNPG("db", "pg", tc.instances, tc.ready))
			assert.Equal(t, tc.want, c)
			assert.Equal(t, &auditor.ObjectRef{APIVersion: "postgresql.cnpg.io/v1", Kind: "Cluster", Namespace: "db", Name: "pg"}, c.ref())
		})
	}
}

func TestNestedIntPaths(t *testing.T) {
	obj := map[string]any{"spec": map[string]any{"n": int64(4), "null": nil}, "flat": "x"}
	cases := map[string]struct {
		path  []string
		n     int64
		found bool
	}{
		"found":                {[]string{"spec", "n"}, 4, true},
		"absent":               {[]string{"spec", "m"}, 0, false},
		"null":                 {[]string{"spec", "null"}, 0, false},
		"through a non-object": {[]string{"flat", "n"}, 0, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, found, err := nestedInt(obj, tc.path...)
			assert.Equal(t, tc.n, n)
			assert.Equal(t, tc.found, found)
			assert.Empty(t, err)
		})
	}
}

// envMap is a literal environment; names mapped to nil are unknown (from a Secret).
type envMap map[string]*litellm.EnvValue

func (e envMap) Lookup(name string) litellm.EnvValue {
	v, ok := e[name]
	if !ok {
		return litellm.EnvValue{State: litellm.EnvUnset}
	}
	return *v
}

func TestDatabaseTarget(t *testing.T) {
	set := func(v string) *litellm.EnvValue { return &litellm.EnvValue{State: litellm.EnvSet, Value: v} }
	secret := func(why, partial string) *litellm.EnvValue {
		return &litellm.EnvValue{State: litellm.EnvUnknown, Why: why, Partial: partial}
	}
	cases := map[string]struct {
		config string // general_settings body; "-" for no config
		env    litellm.Env
		want   dbTarget
	}{
		"literal URL in the config": {config: "  database_url: postgresql://u:p@pg-rw.db.svc/litellm\n",
			want: dbTarget{Host: "pg-rw.db.svc", From: "general_settings.database_url", Known: true}},
		"config URL without a host": {config: "  database_url: host=pg\n",
			want: dbTarget{From: "general_settings.database_url", Why: "general_settings.database_url names no host the auditor can read"}},
		"config value not a string": {config: "  database_url: [1]\n",
			want: dbTarget{From: "general_settings.database_url", Why: "general_settings.database_url is not a string"}},
		"config points at a set variable": {config: "  database_url: os.environ/DB\n", env: envMap{"DB": set("postgresql://u:p@pg-rw/x")},
			want: dbTarget{Host: "pg-rw", From: "general_settings.database_url (os.environ/DB)", Known: true}},
		"config points at a secret, DATABASE_HOST hints": {config: "  database_url: os.environ/DB\n",
			env:  envMap{"DB": secret("from Secret db/pg", ""), "DATABASE_URL": set("postgresql://u:p@ignored/x"), "DATABASE_HOST": set("pg-rw.db")},
			want: dbTarget{Host: "pg-rw.db", From: "env DATABASE_HOST", Known: true}},
		"config points at a secret with a readable host": {config: "  database_url: os.environ/DB\n",
			env:  envMap{"DB": secret("refers to $(PW)", "postgresql://u:$(PW)@pg-rw/x")},
			want: dbTarget{Host: "pg-rw", From: "general_settings.database_url (os.environ/DB)", Known: true}},
		"config points at a secret, nothing else": {config: "  database_url: os.environ/DB\n", env: envMap{"DB": secret("from Secret db/pg", "")},
			want: dbTarget{Why: "from Secret db/pg"}},
		"no config, DATABASE_URL": {config: "-", env: envMap{"DATABASE_URL": set("postgresql://u:p@pg-rw:5432/x")},
			want: dbTarget{Host: "pg-rw", From: "env DATABASE_URL", Known: true}},
		"no setting, both variables secret, reasons once": {config: "", env: envMap{"DATABASE_URL": secret("from Secret a", ""), "DATABASE_HOST": secret("from Secret a", "")},
			want: dbTarget{Why: "from Secret a"}},
		"nothing names it": {config: "", env: envMap{},
			want: dbTarget{Why: "neither general_settings.database_url nor env DATABASE_URL / DATABASE_HOST names one"}},
		"no environment at all": {config: "-",
			want: dbTarget{Why: "the proxy's environment is unknown"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var conf *litellm.Config
			if tc.config != "-" {
				var err error
				conf, err = litellm.Parse([]byte("general_settings:\n  master_key: x\n" + tc.config))
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, databaseTarget(conf, tc.env))
		})
	}
}
