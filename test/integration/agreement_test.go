package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// TestWholePlatformsDryRun is the CI check that every whole platform the repository
// ships applies to a real API server with the upstream CRDs loaded: a server-side dry run
// of every document, and of every status through the status subresource.
func TestWholePlatformsDryRun(t *testing.T) {
	installPlatformCRDs(t)
	for _, p := range wholePlatforms {
		t.Run(p, func(t *testing.T) {
			replay(t, readPlatform(t, p), true)
		})
	}
}

// TestLiveAndOfflineAgree replays each whole platform into the API server, runs the
// daemon on it, and requires the findings on /metrics (rule, object, severity, waived,
// and how many) to be those `scan -f` reports for the same files.
func TestLiveAndOfflineAgree(t *testing.T) {
	installPlatformCRDs(t)
	for _, p := range wholePlatforms {
		t.Run(p, func(t *testing.T) {
			objs := append(readPlatform(t, p), readPlatform(t, kyvernoRuntime)...)
			offline, offlineMsgs := scanFindings(t, p, kyvernoRuntime)
			replay(t, objs, false)
			a := startAuditor(t)

			scope := platformScope(objs)
			var live, foreign map[string]int
			ok := assertEventually(30*time.Second, func() bool {
				live, foreign = liveFindings(a.metrics(t), scope)
				return equalCounts(live, offline)
			})
			if !ok {
				t.Fatalf("live and offline findings differ for %s\n%s\noffline messages:\n%s\nlive messages (one-off live scan):\n%s\n(live findings on objects outside the platform, ignored: %v)",
					p, diffCounts(offline, live), strings.Join(offlineMsgs, "\n"), strings.Join(liveScanMessages(t), "\n"), keys(foreign))
			}
			require.NotEmpty(t, offline, "the platform carries deliberate defects")
			a.stop(t, 15*time.Second)
		})
	}
}

// kyvernoRuntime is what Kyverno creates at run time (its webhook configuration): both
// sides read it, since live a synced empty list says the webhook is missing while a scan
// without it cannot judge the webhook at all.
const kyvernoRuntime = "test/integration/testdata/kyverno-runtime.yaml"

// agreementKey is what both sides must agree on for one finding.
func agreementKey(rule, severity, namespace, kind, name string, waived bool) string {
	return fmt.Sprintf("%s %s %s/%s/%s waived=%t", rule, severity, kind, namespace, name, waived)
}

// scanFindings runs the offline scan in-process exactly as `scan -f` does (default
// config); the messages explain a difference.
func scanFindings(t *testing.T, paths ...string) (map[string]int, []string) {
	t.Helper()
	cfg, err := auditor.LoadConfig("")
	require.NoError(t, err)
	var abs []string
	for _, p := range paths {
		abs = append(abs, filepath.Join(repoRoot(), p))
	}
	objs, err := manifests.ReadWith(abs, nil,
		manifests.Options{MaxBytes: manifests.DefaultMaxBytes, MaxObjects: manifests.DefaultMaxObjects, SensitiveKinds: cfg.SensitiveGroupKinds()})
	require.NoError(t, err)
	snap, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	snap.Now = time.Now()
	ev := engine.Evaluate(rules.All(cfg), snap, cfg.Waivers.MaxDuration.Duration)
	out := map[string]int{}
	var msgs []string
	for _, f := range ev.Findings {
		var ns, kind, name string
		if f.Object != nil {
			ns, kind, name = f.Object.Namespace, f.Object.Kind, f.Object.Name
		}
		k := agreementKey(f.Rule, f.Severity.String(), ns, kind, name, f.Waived())
		out[k]++
		msgs = append(msgs, "  "+k+": "+f.Message)
	}
	return out, msgs
}

// liveScanMessages runs the binary's one-off live scan (the daemon's source and rules)
// for the messages of what the daemon reports.
func liveScanMessages(t *testing.T) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "scan", "--kubeconfig", kubeconfig, "-o", "json").Output()
	var rep struct {
		Findings []struct {
			Rule, Severity, Message string
			Waived                  json.RawMessage
			Object                  struct{ Kind, Namespace, Name string }
		}
	}
	if jerr := json.Unmarshal(out, &rep); jerr != nil {
		return []string{fmt.Sprintf("  live scan failed: %v %v", err, jerr)}
	}
	var msgs []string
	for _, f := range rep.Findings {
		msgs = append(msgs, fmt.Sprintf("  %s %s %s/%s/%s: %s", f.Rule, f.Severity, f.Object.Kind, f.Object.Namespace, f.Object.Name, f.Message))
	}
	return msgs
}

// platformScope is what the daemon may report about the platform: its objects, and
// anything in its namespaces. Other tests of the package leave objects in the shared API
// server; findings about those are not the platform's.
type scope struct{ objects, namespaces map[string]bool }

func platformScope(objs []manifests.Object) scope {
	s := scope{objects: map[string]bool{}, namespaces: map[string]bool{}}
	for _, o := range objs {
		s.objects[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = true
		if o.GVK.Group == "" && o.GVK.Kind == "Namespace" {
			s.namespaces[o.GetName()] = true
		}
	}
	return s
}

var (
	findingLine = regexp.MustCompile(`(?m)^enforcement_auditor_finding\{([^}]*)\} (\S+)$`)
	labelPair   = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
)

// liveFindings reads enforcement_auditor_finding series into agreement keys: in scope,
// and foreign (outside the platform).
func liveFindings(metrics string, s scope) (in, foreign map[string]int) {
	in, foreign = map[string]int{}, map[string]int{}
	for _, m := range findingLine.FindAllStringSubmatch(metrics, -1) {
		l := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			l[p[1]] = p[2]
		}
		n, err := strconv.ParseFloat(m[2], 64)
		if err != nil || n == 0 {
			continue
		}
		k := agreementKey(l["rule"], l["severity"], l["namespace"], l["kind"], l["name"], l["waived"] == "true")
		if s.objects[l["kind"]+"/"+l["namespace"]+"/"+l["name"]] || s.namespaces[l["namespace"]] {
			in[k] += int(n)
		} else {
			foreign[k] += int(n)
		}
	}
	return in, foreign
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func diffCounts(offline, live map[string]int) string {
	var lines []string
	for _, k := range keys(offline, live) {
		switch o, l := offline[k], live[k]; {
		case o == l:
			lines = append(lines, fmt.Sprintf("  both:         %s ×%d", k, o))
		case l == 0:
			lines = append(lines, fmt.Sprintf("  offline only: %s ×%d", k, o))
		case o == 0:
			lines = append(lines, fmt.Sprintf("  live only:    %s ×%d", k, l))
		default:
			lines = append(lines, fmt.Sprintf("  count differs: %s offline ×%d, live ×%d", k, o, l))
		}
	}
	return strings.Join(lines, "\n")
}

func keys(ms ...map[string]int) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}
