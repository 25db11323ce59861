package deploy

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const chart = "deploy/helm/enforcement-auditor"

// helmCase is one values setting of the chart: the --set flags, the components they
// turn on (the names of deploy/components), and the kustomize variant rendering the same
// objects ("" when no variant does, e.g. settings kustomize leaves to a patch).
type helmCase struct {
	set        []string
	components []string
	variant    string
}

// helmCases is the matrix `helm template` renders: every value that turns a component on,
// alone and all together, and the values that change objects without a component.
// namespace.create=true everywhere: the checks read the namespace's labels.
var helmCases = map[string]helmCase{
	"defaults":            {variant: "deploy/base"},
	"probes":              {set: []string{"probes.enabled=true"}, components: []string{probes}, variant: "deploy/examples/probes"},
	"prometheus-operator": {set: []string{"prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true"}, components: []string{promOperator}, variant: "deploy/examples/prometheus-operator"},
	"dashboards":          {set: []string{"dashboards.enabled=true"}, components: []string{grafana}, variant: "deploy/examples/grafana-dashboards"},
	"evidence":            {set: []string{"evidence.enabled=true", signingKeySet}, components: []string{evidence, evidenceSigning}, variant: "deploy/examples/evidence"},
	"evidence-unsigned":   {set: []string{"evidence.enabled=true"}, components: []string{evidence}},
	"leader-election":     {set: []string{"leaderElection.enabled=true"}, components: []string{leaderElection}, variant: "deploy/examples/leader-election"},
	"insecure-serving":    {set: []string{"insecureServing=true"}, components: []string{insecureServing}},
	"kyverno-health":      {set: []string{"kyvernoHealth.enabled=true"}, components: []string{kyvernoHealth}, variant: "deploy/examples/kyverno-health"},
	"reports":             {set: []string{"reports.enabled=true"}, components: []string{reports}, variant: "deploy/examples/reports"},
	"otlp":                {set: []string{"otlp.endpoint=http://otel-collector.observability.svc:4317"}, components: []string{otlp}, variant: "deploy/examples/otlp"},
	"full": {set: []string{"probes.enabled=true", "prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true",
		"dashboards.enabled=true", "evidence.enabled=true", signingKeySet, "leaderElection.enabled=true", "kyvernoHealth.enabled=true", "reports.enabled=true"},
		components: allComponents, variant: "deploy/overlays/full"},
	"everything": {set: []string{"probes.enabled=true", "prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true",
		"dashboards.enabled=true", "evidence.enabled=true", signingKeySet, "leaderElection.enabled=true", "kyvernoHealth.enabled=true", "reports.enabled=true",
		"otlp.endpoint=http://otel-collector.observability.svc:4317"},
		components: append(slicesClone(allComponents), otlp)},
	"everything-insecure": {set: []string{"probes.enabled=true", "prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true",
		"dashboards.enabled=true", "evidence.enabled=true", signingKeySet, "leaderElection.enabled=true", "kyvernoHealth.enabled=true", "reports.enabled=true", "insecureServing=true"},
		components: append(slicesClone(allComponents), insecureServing)},
	"probes-per-namespace": {set: []string{"probes.enabled=true", "probes.namespaces={team-a,team-b}"}, components: []string{probes}},
	"api-server-cidrs":     {set: []string{"networkPolicy.apiServer.cidrs={10.0.0.1/32}"}},
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// helmTemplate renders the chart into the auditor's namespace with extra --set flags.
func helmTemplate(t *testing.T, set ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", "enforcement-auditor", chart, "--namespace", auditorNS, "--set", "namespace.create=true"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return decodeObjects(t, run(t, nil, "helm", args...))
}

// TestHelmLint: `helm lint --strict` passes with the defaults and with every case.
func TestHelmLint(t *testing.T) {
	for name, c := range helmCases {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chart}
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			run(t, nil, "helm", args...)
		})
	}
}

// TestHelmMatrix renders every case and runs the same checks as the kustomize variants.
func TestHelmMatrix(t *testing.T) {
	for name, c := range helmCases {
		t.Run(name, func(t *testing.T) {
			r := decodeVariant(t, helmTemplate(t, c.set...))
			checkRendered(t, r, c.components)
			for _, o := range append(r.custom, helmObjects(t, r)...) {
				assert.Equal(t, "Helm", o.GetLabels()["app.kubernetes.io/managed-by"], "%s %s", o.GetKind(), o.GetName())
			}
		})
	}
	t.Run("per-namespace probe grants", func(t *testing.T) {
		r := decodeVariant(t, helmTemplate(t, helmCases["probes-per-namespace"].set...))
		var where []string
		for _, o := range r.objects {
			if m, _ := metaOf(o); m != nil && o.GetObjectKind().GroupVersionKind().Kind == "RoleBinding" && m.GetName() == "enforcement-auditor-probes" {
				where = append(where, m.GetNamespace())
			}
		}
		assert.ElementsMatch(t, []string{"team-a", "team-b"}, where)
	})
	t.Run("a serving certificate from a Secret", func(t *testing.T) {
		objs := helmTemplate(t, "tls.secretName=auditor-tls", "evidence.enabled=true", "prometheusOperator.serviceMonitor.enabled=true", "prometheusOperator.prometheusRule.enabled=true")
		r := decodeVariant(t, objs)
		checkRendered(t, r, []string{evidence, promOperator})
		c := r.deployment.Spec.Template.Spec.Containers[0]
		assert.Contains(t, c.Args, "--tls-cert-file=/etc/enforcement-auditor/tls/tls.crt")
		assert.Contains(t, c.Args, "--tls-private-key-file=/etc/enforcement-auditor/tls/tls.key")
		assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "tls", MountPath: "/etc/enforcement-auditor/tls", ReadOnly: true})
		var secret string
		for _, v := range r.deployment.Spec.Template.Spec.Volumes {
			if v.Secret != nil {
				secret = v.Secret.SecretName
			}
		}
		assert.Equal(t, "auditor-tls", secret)
		sm := r.findCustom("ServiceMonitor", auditorNS, auditorName)
		require.NotNil(t, sm)
		eps, _, err := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		require.NoError(t, err)
		tc := eps[0].(map[string]any)["tlsConfig"].(map[string]any)
		assert.NotContains(t, tc, "insecureSkipVerify", "a certificate from a Secret is verified")
		assert.Equal(t, "enforcement-auditor.enforcement-auditor.svc", tc["serverName"])
		assert.Equal(t, map[string]any{"secret": map[string]any{"name": "auditor-tls", "key": "ca.crt"}}, tc["ca"])
	})
	t.Run("GOMEMLIMIT follows the limit", func(t *testing.T) {
		r := decodeVariant(t, helmTemplate(t, "resources.limits.memory=2Gi"))
		for _, e := range r.deployment.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "GOMEMLIMIT" {
				assert.Equal(t, "1843MiB", e.Value)
			}
		}
	})
}

func helmObjects(t *testing.T, r *rendered) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, o := range r.objects {
		m, err := runtimeToUnstructured(o)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func runtimeToUnstructured(o any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	return u, u.UnmarshalJSON(b)
}

// TestHelmSchemaRejects: values.schema.json refuses typos and unsafe values, so a
// misspelt component flag is an error instead of a silently ignored key.
func TestHelmSchemaRejects(t *testing.T) {
	for name, set := range map[string]string{
		"unknown key":                   "probes.enable=true",
		"unknown top-level key":         "metricsAuth.enabled=true",
		"latest tag":                    "image.tag=latest",
		"endpoint without URL":          "otlp.endpoint=otel:4317",
		"memory not in Mi/Gi":           "resources.limits.memory=512M",
		"unknown report API":            "reports.api=policyreport",
		"signing key Secret not a name": "evidence.signingKey.secretName=Evidence_Key",
		"signing key typo":              "evidence.signingKey.secret=evidence-key",
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(tool(t, "helm"), "template", "x", chart, "--set", set)
			cmd.Dir = repoRoot(t)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			assert.Error(t, cmd.Run(), "helm template --set %s must fail:\n%s", set, out.String())
		})
	}
}

// TestHelmKustomizeParity: for the same settings the chart and kustomize render the same
// objects, field for field, once Helm's own labels are set aside and lists are compared
// as sets (component patches append in another order than the chart's template).
func TestHelmKustomizeParity(t *testing.T) {
	for name, c := range helmCases {
		if c.variant == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			k := canonical(t, render(t, c.variant))
			h := canonical(t, helmTemplate(t, c.set...))
			assert.Equal(t, sortedKeys(k), sortedKeys(h), "the same objects")
			for id, want := range k {
				if got, ok := h[id]; ok {
					assert.Equal(t, want, got, "%s differs between %s and the chart", id, c.variant)
				}
			}
		})
	}
}

// helmOnly are the metadata Helm adds that kustomize has no equivalent for.
var helmOnly = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version", "helm.sh/resource-policy"}

// canonical keys objects by kind, namespace and name, drops Helm's own labels and
// annotations, and sorts every list by its elements' JSON.
func canonical(t *testing.T, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		strip := func(m map[string]any, path ...string) {
			v, ok, _ := unstructured.NestedStringMap(m, path...)
			if !ok {
				return
			}
			for _, k := range helmOnly {
				delete(v, k)
			}
			if len(v) == 0 {
				unstructured.RemoveNestedField(m, path...)
				return
			}
			require.NoError(t, unstructured.SetNestedStringMap(m, v, path...))
		}
		strip(o.Object, "metadata", "labels")
		strip(o.Object, "metadata", "annotations")
		strip(o.Object, "spec", "template", "metadata", "labels")
		b, err := json.Marshal(sortLists(normalize(t, o.Object)))
		require.NoError(t, err)
		out[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = string(b)
	}
	return out
}

func sortLists(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sortLists(e)
		}
		return x
	case []any:
		keys := make([]string, len(x))
		for i, e := range x {
			x[i] = sortLists(e)
			b, _ := json.Marshal(x[i])
			keys[i] = string(b)
		}
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return strings.Compare(keys[idx[a]], keys[idx[b]]) < 0 })
		out := make([]any, len(x))
		for i, j := range idx {
			out[i] = x[j]
		}
		return out
	default:
		return v
	}
}
