package live

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// The auditor's read-only roles, as deploy/ names them: the ClusterRole of the base (and
// of the chart) for every kind watched cluster-wide, and the kyverno-health Role for the
// kinds watched in part (auditor.Narrow).
const (
	readRoleName   = "enforcement-auditor"
	narrowRoleName = "enforcement-auditor-kyverno-health"
	deployDir      = "../../deploy"
	chartDir       = deployDir + "/helm/enforcement-auditor"
)

// deliberateGrants are grants of the auditor's read-only roles on resources no kind of
// auditor.Kinds watches, each with its reason. None today: a grant nothing reads is a
// permission to take away.
var deliberateGrants = map[schema.GroupResource]string{}

// readRoles are the auditor's read-only roles as one deployment method renders them.
type readRoles struct {
	cluster *rbacv1.ClusterRole
	narrow  []*rbacv1.Role
}

// TestClusterRoleGrantsWatchedKinds: the ClusterRole of deploy/base and of the Helm chart
// (both decoded here, no tool needed) grants the read verbs on every kind the live source
// watches, cluster-wide, and nothing else; a kind watched in part (Kyverno's health
// Lease) is granted by name in its namespace by the kyverno-health Role (the kustomize
// component, the chart's kyvernoHealth.enabled) and not cluster-wide. Adding a kind to
// auditor.Kinds without its grant fails here under plain `go test`, and so does a grant
// nothing watches (unless listed in deliberateGrants).
func TestClusterRoleGrantsWatchedKinds(t *testing.T) {
	for name, roles := range map[string]readRoles{
		"deploy/base and components/kyverno-health":          kustomizeRoles(t),
		"helm chart (default values, kyvernoHealth.enabled)": chartRoles(t),
	} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, grantProblems(roles))
		})
	}
}

// TestGrantProblemsCatchesMissingAndExtraGrants: the check above fails when a watched
// kind loses its grant, when a grant covers a resource nothing watches (a wildcard
// included), when a narrowed kind is granted cluster-wide and when a write verb appears.
func TestGrantProblemsCatchesMissingAndExtraGrants(t *testing.T) {
	cases := map[string]struct {
		change func(*readRoles)
		want   string
	}{
		"a watched kind without its grant": {
			change: func(r *readRoles) {
				for i := range r.cluster.Rules {
					r.cluster.Rules[i].Resources = slices.DeleteFunc(r.cluster.Rules[i].Resources, func(s string) bool { return s == "workloads" })
				}
			},
			want: "workloads.kueue.x-k8s.io: no grant of list",
		},
		"a grant nothing watches": {
			change: func(r *readRoles) {
				r.cluster.Rules = append(r.cluster.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: auditor.ReadVerbs})
			},
			want: "grants secrets, which no kind watches",
		},
		"a wildcard": {
			change: func(r *readRoles) {
				r.cluster.Rules = append(r.cluster.Rules, rbacv1.PolicyRule{APIGroups: []string{"kueue.x-k8s.io"}, Resources: []string{"*"}, Verbs: auditor.ReadVerbs})
			},
			want: "grants *.kueue.x-k8s.io, which no kind watches",
		},
		"a narrowed kind granted cluster-wide": {
			change: func(r *readRoles) {
				r.cluster.Rules = append(r.cluster.Rules, rbacv1.PolicyRule{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: auditor.ReadVerbs})
			},
			want: "grants leases.coordination.k8s.io cluster-wide",
		},
		"a narrowed kind without its Role": {
			change: func(r *readRoles) { r.narrow = nil },
			want:   "leases.coordination.k8s.io: no grant of list on kyverno-health in kyverno",
		},
		"a write verb": {
			change: func(r *readRoles) { r.cluster.Rules[0].Verbs = append(r.cluster.Rules[0].Verbs, "update") },
			want:   "grants update",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			roles := kustomizeRoles(t)
			c.change(&roles)
			problems := grantProblems(roles)
			assert.True(t, slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }),
				"want a problem containing %q, got %q", c.want, problems)
		})
	}
}

// grantProblems lists what is wrong with the read-only roles against auditor.Kinds.
func grantProblems(roles readRoles) []string {
	var problems []string
	if roles.cluster == nil {
		return []string{"no ClusterRole " + readRoleName}
	}
	cfg := auditor.DefaultConfig()
	for _, r := range auditor.Kinds {
		for _, verb := range auditor.ReadVerbs {
			if n := r.Narrow; n != nil {
				ns := n.Namespace(cfg)
				if !slices.ContainsFunc(roles.narrow, func(role *rbacv1.Role) bool {
					return role.Namespace == ns && slices.ContainsFunc(role.Rules, func(p rbacv1.PolicyRule) bool { return allows(p, verb, r.Group, r.Resource, n.Name) })
				}) {
					problems = append(problems, fmt.Sprintf("%s: no grant of %s on %s in %s (Role %s)", r.ID, verb, n.Name, ns, narrowRoleName))
				}
				continue
			}
			if !slices.ContainsFunc(roles.cluster.Rules, func(p rbacv1.PolicyRule) bool { return allows(p, verb, r.Group, r.Resource, "") }) {
				problems = append(problems, fmt.Sprintf("%s: no grant of %s in ClusterRole %s", r.ID, verb, readRoleName))
			}
		}
	}
	// The other way: every grant is of read verbs on a watched kind, in the right scope.
	check := func(where string, rules []rbacv1.PolicyRule, narrowed bool) {
		for _, p := range rules {
			for _, v := range p.Verbs {
				if !slices.Contains(auditor.ReadVerbs, v) {
					problems = append(problems, fmt.Sprintf("%s grants %s: the auditor's roles are read-only (%v)", where, v, auditor.ReadVerbs))
				}
			}
			if len(p.NonResourceURLs) > 0 {
				problems = append(problems, fmt.Sprintf("%s grants non-resource URLs %v", where, p.NonResourceURLs))
			}
			for _, g := range p.APIGroups {
				for _, res := range p.Resources {
					gr := schema.GroupResource{Group: g, Resource: res}
					if _, ok := deliberateGrants[gr]; ok {
						continue
					}
					i := slices.IndexFunc(auditor.Kinds, func(r auditor.ResourceInfo) bool { return r.GroupResource() == gr })
					switch {
					case i < 0:
						problems = append(problems, fmt.Sprintf("%s grants %s, which no kind watches", where, gr))
					case narrowed != (auditor.Kinds[i].Narrow != nil):
						scope := "cluster-wide"
						if narrowed {
							scope = "in part"
						}
						problems = append(problems, fmt.Sprintf("%s grants %s %s, where the live source watches it otherwise", where, gr, scope))
					}
				}
			}
		}
	}
	check("ClusterRole "+readRoleName, roles.cluster.Rules, false)
	for _, role := range roles.narrow {
		check("Role "+role.Namespace+"/"+role.Name, role.Rules, true)
	}
	return problems
}

// allows reports whether an RBAC rule grants verb on a resource of group, on every
// object (name "") or on the object name: RBAC's rule matching (verbs, API groups and
// resources with their "*" wildcards, resourceNames) for requests without a
// subresource. List and watch requests name an object only through a
// metadata.name field selector, which is how auditor/live watches a Narrow kind.
func allows(p rbacv1.PolicyRule, verb, group, resource, name string) bool {
	matches := func(list []string, v, all string) bool { return slices.Contains(list, v) || slices.Contains(list, all) }
	return matches(p.Verbs, verb, rbacv1.VerbAll) && matches(p.APIGroups, group, rbacv1.APIGroupAll) &&
		matches(p.Resources, resource, rbacv1.ResourceAll) &&
		(len(p.ResourceNames) == 0 || name != "" && slices.Contains(p.ResourceNames, name))
}

// kustomizeRoles decodes the roles from the kustomizations' resource files (deploy/base
// and the kyverno-health component), which is what `kustomize build` emits for them as
// long as the kustomizations transform nothing that reaches a role (names, namespaces,
// rules): kustomization fails the test when one starts to.
func kustomizeRoles(t *testing.T) readRoles {
	t.Helper()
	var out readRoles
	for _, dir := range []string{deployDir + "/base", deployDir + "/components/kyverno-health"} {
		for _, data := range kustomization(t, dir) {
			collectRoles(t, dir, data, &out)
		}
	}
	return out
}

// kustomization returns the resource files of the kustomization in dir, refusing any
// field that could change a role on its way through kustomize.
func kustomization(t *testing.T, dir string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	require.NoError(t, err)
	var k map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &k), dir)
	harmless := []string{"apiVersion", "kind", "resources", "labels", "commonAnnotations", "images"}
	for field := range k {
		require.True(t, slices.Contains(harmless, field),
			"%s/kustomization.yaml sets %s, which this test does not evaluate: extend kustomizeRoles", dir, field)
	}
	var files [][]byte
	resources, _ := k["resources"].([]any)
	for _, r := range resources {
		path := filepath.Join(dir, fmt.Sprint(r))
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.False(t, info.IsDir(), "%s: a nested kustomization, which this test does not evaluate", path)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		files = append(files, data)
	}
	return files
}

// collectRoles decodes a multi-document YAML stream and keeps the auditor's read-only
// roles.
func collectRoles(t *testing.T, where string, data []byte, out *readRoles) {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return
		}
		require.NoError(t, err, where)
		if obj == nil {
			continue
		}
		kind, _ := obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		switch {
		case kind == "ClusterRole" && name == readRoleName:
			require.Nil(t, out.cluster, "%s: a second ClusterRole %s", where, readRoleName)
			out.cluster = &rbacv1.ClusterRole{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj, out.cluster), where)
		case kind == "Role" && name == narrowRoleName:
			role := &rbacv1.Role{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj, role), where)
			out.narrow = append(out.narrow, role)
		}
	}
}

// chartRoles renders the chart's role templates with its default values (plus
// kyvernoHealth.enabled, the chart's form of the kyverno-health component) and decodes
// them. Helm is not needed: the templates are Go templates, evaluated here with the
// chart's helpers and the few Sprig functions they call (helmFuncs); a template that
// starts calling another one fails to parse, naming it.
func chartRoles(t *testing.T) readRoles {
	t.Helper()
	var values, chart map[string]any
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &values))
	raw, err = os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, &chart))
	kh, ok := values["kyvernoHealth"].(map[string]any)
	require.True(t, ok, "values.yaml: kyvernoHealth")
	kh["enabled"] = true

	root := template.New("chart").Option("missingkey=error")
	root.Funcs(helmFuncs(root))
	helpers, err := os.ReadFile(filepath.Join(chartDir, "templates", "_helpers.tpl"))
	require.NoError(t, err)
	_, err = root.New("_helpers.tpl").Parse(string(helpers))
	require.NoError(t, err)
	ctx := map[string]any{
		"Values":  values,
		"Chart":   map[string]any{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
		"Release": map[string]any{"Name": "enforcement-auditor", "Namespace": "enforcement-auditor", "Service": "Helm"},
		"Files":   chartFiles(chartDir),
	}
	var out readRoles
	for _, name := range []string{"clusterrole.yaml", "kyverno-health.yaml"} {
		src, err := os.ReadFile(filepath.Join(chartDir, "templates", name))
		require.NoError(t, err)
		tpl, err := root.New(name).Parse(string(src))
		require.NoError(t, err, name)
		var b bytes.Buffer
		require.NoError(t, tpl.Execute(&b, ctx), name)
		collectRoles(t, "chart "+name, b.Bytes(), &out)
	}
	return out
}

// chartFiles is Helm's .Files: the chart's own files.
type chartFiles string

// Get returns a chart file's content, as Helm's .Files.Get.
func (c chartFiles) Get(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(string(c), name))
	return string(b), err
}

// helmFuncs are Helm's include and the Sprig functions the chart's helpers call, with
// Sprig's argument order.
func helmFuncs(root *template.Template) template.FuncMap {
	indent := func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	}
	toInt := func(v any) int {
		switch x := v.(type) {
		case int:
			return x
		case float64:
			return int(x)
		case string:
			n, _ := strconv.Atoi(x)
			return n
		}
		return 0
	}
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b bytes.Buffer
			err := root.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"indent":     indent,
		"nindent":    func(n int, s string) string { return "\n" + indent(n, s) },
		"quote":      func(v any) string { return strconv.Quote(fmt.Sprint(v)) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"toString":   func(v any) string { return fmt.Sprint(v) },
		"hasSuffix":  func(suffix, s string) bool { return strings.HasSuffix(s, suffix) },
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"atoi":       func(s string) int { n, _ := strconv.Atoi(s); return n },
		"mul": func(a any, rest ...any) int {
			n := toInt(a)
			for _, v := range rest {
				n *= toInt(v)
			}
			return n
		},
		"div":  func(a, b any) int { return toInt(a) / toInt(b) },
		"fail": func(msg string) (string, error) { return "", errors.New(msg) },
	}
}
