package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decoder(t *testing.T, pkgs ...pkg) *json.Decoder {
	t.Helper()
	var b strings.Builder
	for _, p := range pkgs {
		j, err := json.Marshal(p)
		require.NoError(t, err)
		b.Write(j)
	}
	return json.NewDecoder(strings.NewReader(b.String()))
}

// imports is a package of the module importing packages of the module.
func imports(from string, to ...string) pkg {
	p := pkg{ImportPath: module + from}
	for _, t := range to {
		p.Imports = append(p.Imports, module+t)
	}
	return p
}

func TestCheck(t *testing.T) {
	cases := map[string]struct {
		pkgs []pkg
		want []string // prefixes of the problems, in order
	}{
		// The four imports the deny-list let through.
		"a source importing the store": {pkgs: []pkg{imports("auditor/live", "auditor", "auditor/store")},
			want: []string{"auditor/live imports auditor/store: layer auditor/live may import auditor"}},
		"a probe importing the manifest source": {pkgs: []pkg{imports("probe", "auditor", "auditor/manifests")},
			want: []string{"probe imports auditor/manifests"}},
		"rules linking the test builder": {pkgs: []pkg{imports("rules", "auditor", "auditor/snapshottest")},
			want: []string{"rules imports auditor/snapshottest"}},
		"a control package linking the test builder": {pkgs: []pkg{imports("rules/sr2", "auditor", "auditor/snapshottest")},
			want: []string{"rules/sr2 imports auditor/snapshottest"}},
		"a control package linking the rules' test helper": {pkgs: []pkg{imports("rules/sr2", "auditor", "rules/internal/ruletest")},
			want: []string{"rules/sr2 imports rules/internal/ruletest: a test helper, for test files only"}},
		"a package under the app reaching back": {pkgs: []pkg{imports("cmd/enforcement-auditor/app/options", "auditor", "cmd/enforcement-auditor/app")},
			want: []string{"cmd/enforcement-auditor/app/options imports cmd/enforcement-auditor/app"}},

		"vocabulary importing rules": {pkgs: []pkg{imports("auditor", "rules")}, want: []string{"auditor imports rules"}},
		"a source importing the engine": {pkgs: []pkg{imports("auditor/live", "auditor/engine", "auditor")},
			want: []string{"auditor/live imports auditor/engine"}},
		"an exporter importing a rule package": {pkgs: []pkg{imports("exporters/otel", "rules/netpol")},
			want: []string{"exporters/otel imports rules/netpol"}},
		"a rule importing the store": {pkgs: []pkg{imports("rules/kyverno", "auditor/store")},
			want: []string{"rules/kyverno imports auditor/store"}},
		"a control package importing the engine and the exporters": {pkgs: []pkg{imports("rules/sr3", "auditor", "auditor/engine", "exporters/evidence")},
			want: []string{"rules/sr3 imports auditor/engine", "rules/sr3 imports exporters/evidence"}},
		"a leaf importing the rule registry": {pkgs: []pkg{imports("rules/sr1", "rules")}, want: []string{"rules/sr1 imports rules:"}},
		"a tool importing the app": {pkgs: []pkg{imports("hack/catalogue", "rules", "cmd/enforcement-auditor/app")},
			want: []string{"hack/catalogue imports cmd/enforcement-auditor/app"}},
		"a library importing the command": {pkgs: []pkg{imports("serving", "cmd/enforcement-auditor")},
			want: []string{"serving imports cmd/enforcement-auditor"}},
		"a package in no layer": {pkgs: []pkg{imports("rulesets", "auditor/engine"), imports("auditor/cache", "auditor"), imports("cmd/other")},
			want: []string{"rulesets is in no layer", "auditor/cache is in no layer", "cmd/other is in no layer"}},

		"the one-way flow": {pkgs: []pkg{
			imports("auditor/engine", "auditor", "auditor/store"),
			imports("exporters/prometheus", "auditor", "auditor/store"),
			imports("exporters/policyreport/writer", "auditor", "auditor/store", "exporters/policyreport"),
			imports("rules", "auditor", "rules/sr1", "rules/sr2", "rules/sr3", "rules/waivers"),
			imports("rules/sr2", "auditor", "rules/kyverno", "rules/kueue", "rules/internal/fields"),
			imports("rules/internal/celmatch"),
			imports("probe", "auditor"),
			imports("cmd/enforcement-auditor/app", "rules", "auditor/engine", "exporters/otel", "probe", "serving"),
			imports("cmd/enforcement-auditor/app/options", "auditor"),
			imports("cmd/enforcement-auditor", "cmd/enforcement-auditor/app", "auditor/manifests", "rules"),
			imports("test/load", "auditor/engine", "auditor/live", "test/bench/synth"),
			{ImportPath: module + "serving", Imports: []string{"net/http", "k8s.io/client-go/rest"}}, // outside the module: not checked
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := check(decoder(t, tc.pkgs...))
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				assert.True(t, strings.HasPrefix(got[i], w), "problem %d: %q, want it to start with %q", i, got[i], w)
			}
		})
	}
}

// TestTreePasses: the module as it is fits the layers (what `make lint` runs).
func TestTreePasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Empty(t, check(json.NewDecoder(strings.NewReader(string(out)))))
}

// TestPackageCommentListsTheLayers: the allow-list in the package comment is the one
// checked.
func TestPackageCommentListsTheLayers(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	var doc strings.Builder
	for _, line := range strings.Split(listing(), "\n") {
		if line != "" {
			doc.WriteString("//\t" + line + "\n")
		}
	}
	require.Contains(t, string(src), doc.String(), "paste `go run ./hack/importcheck -list` into the package comment")
}
