package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
