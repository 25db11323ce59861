package sr3

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

const (
	pgHA        = "budget-db-not-ha-in-prod|Cluster|litellm/litellm-pg|high"
	noClusterCM = "budget-db-not-ha-in-prod|ConfigMap|litellm/litellm-config|medium"
)

// TestBudgetDBNotHAInProd: the Cluster behind a prod proxy, found by the database host
// or in the proxy's namespace, must have enough instances, configured and ready.
func TestBudgetDBNotHAInProd(t *testing.T) {
	cases := map[string]struct {
		general string
		deploy  []sr3DeployOpt
		objs    []any
		ns      string
		avail   map[string]auditor.Availability

		want []string
		msg  []string
		inc  string
	}{
		"three instances, three ready": {objs: []any{sr3CNPG("litellm", "litellm-pg", int64(3), int64(3))}},
		"two instances":                {objs: []any{sr3CNPG("litellm", "litellm-pg", int64(2), int64(2))}, want: []string{pgHA}, msg: []string{"spec.instances is 2, below the 3 prod requires", "a Cluster in the proxy's namespace"}},
		"three instances, two ready":   {objs: []any{sr3CNPG("litellm", "litellm-pg", int64(3), int64(2))}, want: []string{pgHA}, msg: []string{"status.readyInstances is 2, below 3"}},
		"instances unset (CRD default 1)": {objs: []any{sr3CNPG("litellm", "litellm-pg", nil, nil)}, want: []string{pgHA},
			msg: []string{"spec.instances is not set (the CRD defaults it to 1)"}},
		"instances from manifests (float64)": {objs: []any{sr3CNPG("litellm", "litellm-pg", float64(3), nil)}},
		"instances as json.Number":           {objs: []any{sr3CNPG("litellm", "litellm-pg", json.Number("5"), json.Number("5"))}},
		"instances of the wrong type":        {objs: []any{sr3CNPG("litellm", "litellm-pg", "three", nil)}, want: []string{pgHA}, msg: []string{"spec.instances is a string, not an integer"}},
		"host names a Cluster in another namespace": {
			deploy: []sr3DeployOpt{sr3WithEnv(sr3Literal("DATABASE_HOST", "shared-pg-rw.db.svc.cluster.local:5432"))},
			objs:   []any{sr3CNPG("db", "shared-pg", int64(1), nil), sr3CNPG("litellm", "litellm-pg", int64(3), nil)},
			want:   []string{"budget-db-not-ha-in-prod|Cluster|db/shared-pg|high"},
			msg:    []string{"database host shared-pg-rw.db.svc.cluster.local from env DATABASE_HOST"},
		},
		"database_url literal in config picks the -ro service": {
			general: "  database_url: postgresql://litellm:hunter2@other-pg-ro:5432/litellm\n",
			objs:    []any{sr3CNPG("litellm", "other-pg", int64(2), nil), sr3CNPG("litellm", "litellm-pg", int64(3), nil)},
			want:    []string{"budget-db-not-ha-in-prod|Cluster|litellm/other-pg|high"},
			msg:     []string{"database host other-pg-ro from general_settings.database_url"},
		},
		"DATABASE_URL built with $(VAR) from a Secret password still names the host": {
			deploy: []sr3DeployOpt{func(d0 *appsv1.Deployment) {
				c := sr3Container(d0)
				c.Env = append(c.Env[1:], sr3FromSecret("DATABASE_PASSWORD", "pg-app", "password"),
					sr3Literal("DATABASE_URL", "postgresql://litellm:$(DATABASE_PASSWORD)@litellm-pg-rw.litellm.svc/litellm"))
			}},
			objs: []any{sr3CNPG("litellm", "litellm-pg", int64(1), nil)},
			want: []string{pgHA},
			msg:  []string{"database host litellm-pg-rw.litellm.svc from general_settings.database_url (os.environ/DATABASE_URL)"},
		},
		"no Cluster: external database?": {
			objs: []any{sr3CNPG("db", "unrelated", int64(3), nil)},
			want: []string{noClusterCM}, msg: []string{"no CloudNativePG Cluster matches its database (database host unknown", "Secret litellm/litellm-pg-app key uri", "external database"},
		},
		"external host": {
			deploy: []sr3DeployOpt{sr3WithEnv(sr3Literal("DATABASE_HOST", "prod-db.abc123.eu-west-1.rds.amazonaws.com"))},
			objs:   []any{sr3CNPG("litellm", "litellm-pg", int64(1), nil)},
			want:   []string{noClusterCM}, msg: []string{"database host prod-db.abc123.eu-west-1.rds.amazonaws.com from env DATABASE_HOST"},
		},
		"CNPG not installed": {
			avail: map[string]auditor.Availability{auditor.ResourceCNPGClusters: {State: auditor.NotServed, Message: "no Cluster among the scanned manifests"}},
			want:  []string{noClusterCM}, msg: []string{"CloudNativePG is not installed (no Cluster among the scanned manifests"},
		},
		"CNPG forbidden": {
			avail: map[string]auditor.Availability{auditor.ResourceCNPGClusters: {State: auditor.Forbidden}},
			inc:   "CloudNativePG Clusters are not visible (forbidden)",
		},
		"dev proxy is not checked": {ns: "litellm-dev", objs: []any{sr3CNPG("litellm-dev", "litellm-pg", int64(1), nil)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := tc.ns
			if ns == "" {
				ns = "litellm"
			}
			objs := append(sr3Namespaces(),
				sr3CM(ns, "litellm-config", map[string]string{"config.yaml": sr3Config(tc.general)}),
				sr3Deploy(ns, "litellm", tc.deploy...))
			objs = append(objs, tc.objs...)
			if tc.avail != nil {
				objs = append(objs, tc.avail)
			}
			keys, fs, inc := sr3Eval(ruleFor(budgetDBNotHAInProd)(auditor.DefaultConfig()), snapshottest.New(objs))
			assert.Equal(t, tc.want, keys)
			for _, m := range tc.msg {
				assert.Contains(t, sr3Messages(fs), m)
			}
			assert.NotContains(t, sr3Messages(fs), "hunter2")
			for _, f := range fs {
				// Only "no Cluster found" rests on an absence (a partial scan does not judge it).
				if f.Object != nil && f.Object.Kind == "Cluster" {
					assert.Empty(t, f.Absent, f.Message)
				} else {
					assert.Equal(t, []string{auditor.ResourceCNPGClusters}, f.Absent, f.Message)
				}
			}
			if tc.inc != "" {
				assert.Len(t, inc, 1)
				assert.Contains(t, inc[0], tc.inc)
			} else {
				assert.Empty(t, inc)
			}
		})
	}
}

// TestDatabaseURLHostNeedsAURL: a database_url or DATABASE_URL that is not a URL may
// be a secret pasted in the wrong place: it is never printed as a "database host".
func TestDatabaseURLHostNeedsAURL(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"url":              {"postgresql://u:p@pg-rw.litellm.svc:5432/db", "pg-rw.litellm.svc"},
		"a bare word":      {"hunter2secret", ""},
		"bare host":        {"pg-rw.litellm", ""},
		"bare host, port":  {"pg-rw.litellm:5432", ""},
		"unexpanded parts": {"postgresql://$(USER):$(PASS)@pg-rw/db", "pg-rw"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, databaseURLHost(tc.in)) })
	}
}
