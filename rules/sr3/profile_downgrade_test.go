package sr3

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// TestBudgetProfileDowngrade: a non-prod profile on a proxy's own object that overrides a
// prod profile of its namespace or Deployment is a medium finding on the object carrying
// it; agreeing or upgrading labels are not.
func TestBudgetProfileDowngrade(t *testing.T) {
	const label = "llm-platform/profile"
	cases := map[string]struct {
		ns       string
		cmLabels []string
		deploy   []sr3DeployOpt
		general  string
		want     []string
		msg      []string
	}{
		"no object label: the namespace's prod applies": {ns: "litellm"},
		"object label agrees with the prod namespace":   {ns: "litellm", cmLabels: []string{label, "prod"}},
		"dev object in a dev namespace":                 {ns: "litellm-dev", cmLabels: []string{label, "dev"}},
		"prod object in a dev namespace (an upgrade)":   {ns: "litellm-dev", cmLabels: []string{label, "prod"}},
		"object label in a namespace without a profile": {ns: "db", cmLabels: []string{label, "dev"}},
		"empty label value is no label":                 {ns: "litellm", cmLabels: []string{label, ""}},
		"ConfigMap dev in the prod namespace": {ns: "litellm", cmLabels: []string{label, "dev"},
			want: []string{"budget-profile-downgrade|ConfigMap|litellm/litellm-config|medium"},
			msg:  []string{"ConfigMap litellm/litellm-config (llm-platform/profile=dev) overrides the prod profile of namespace litellm (llm-platform/profile=prod)", "read with profile dev"}},
		"Deployment cost in the prod namespace": {ns: "litellm", deploy: []sr3DeployOpt{sr3WithDeployLabel(label, "cost")},
			want: []string{"budget-profile-downgrade|Deployment|litellm/litellm|medium"},
			msg:  []string{"Deployment litellm/litellm (llm-platform/profile=cost) overrides the prod profile of namespace litellm"}},
		"ConfigMap dev under a prod Deployment in an unlabelled namespace": {ns: "db", cmLabels: []string{label, "dev"}, deploy: []sr3DeployOpt{sr3WithDeployLabel(label, "prod")},
			want: []string{"budget-profile-downgrade|ConfigMap|db/litellm-config|medium"},
			msg:  []string{"overrides the prod profile of Deployment db/litellm (llm-platform/profile=prod)"}},
		"the downgrade hides a fail-open flag: the message says so": {ns: "litellm", cmLabels: []string{label, "dev"}, general: "  allow_requests_on_db_unavailable: yes\n",
			want: []string{"budget-profile-downgrade|ConfigMap|litellm/litellm-config|medium"},
			msg:  []string{`allow_requests_on_db_unavailable is plain "yes" (line 9, column 37)`, "which prod forbids"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := append(sr3Namespaces(),
				sr3CM(tc.ns, "litellm-config", map[string]string{"config.yaml": sr3Config(tc.general)}, tc.cmLabels...),
				sr3Deploy(tc.ns, "litellm", tc.deploy...))
			got, fs, inc := sr3Eval(ruleFor(budgetProfileDowngrade)(auditor.DefaultConfig()), snapshottest.New(objs...))
			assert.Equal(t, tc.want, got)
			assert.Empty(t, inc)
			for _, m := range tc.msg {
				assert.Contains(t, sr3Messages(fs), m)
			}
		})
	}
}
