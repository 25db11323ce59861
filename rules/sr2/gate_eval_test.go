package sr2

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

// editedPlatform is the documented platform (without its deliberate MIG pod) on Nodes
// offering only nvidia.com/gpu, with one edit made to the gate's text.
func editedPlatform(t *testing.T, old, new string) *auditor.Snapshot {
	t.Helper()
	raw, err := os.ReadFile("../../examples/platform/20-sr2-gpu.yaml")
	require.NoError(t, err)
	text := string(raw)
	require.Equal(t, 1, strings.Count(text, old), "the edit must hit the gate exactly once")
	text = strings.Replace(text, old, new, 1)
	ns, err := manifests.Read([]string{"../../examples/platform/00-namespaces.yaml"}, nil)
	require.NoError(t, err)
	objs, err := manifests.Decode("20-sr2-gpu.yaml", strings.NewReader(text))
	require.NoError(t, err)
	keep := ns
	for _, o := range objs {
		if o.GetKind() == "Pod" && o.GetName() == "adhoc-mig-notebook" {
			continue
		}
		keep = append(keep, o)
	}
	s, err := manifests.Snapshot(keep)
	require.NoError(t, err)
	s.Now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.Availability[auditor.ResourceNodes] = auditor.Availability{State: auditor.Synced}
	s.Nodes = []*corev1.Node{sr2Node("gpu-h100-1", "nvidia.com/gpu", 8), sr2Node("cpu-1", "", 0)}
	return s
}

// TestGateOneWordEdits: each one-word edit of the issue, alone on the documented gate,
// leaves a gate that reads the same but never denies; evaluated on the battery, each is a
// critical gpu-gate-policy-not-enforcing naming the request that passes and why.
func TestGateOneWordEdits(t *testing.T) {
	cases := map[string]struct {
		old, new string
		want     []string // in the message
	}{
		"deny threshold raised from 0 to 1000000": {
			old:  "            operator: GreaterThan\n            value: 0\n          - key: \"{{ request.object.spec.resourceClaims",
			new:  "            operator: GreaterThan\n            value: 1000000\n          - key: \"{{ request.object.spec.resourceClaims",
			want: []string{"admits a pod with nvidia.com/gpu in requests and limits and no queue label", "GreaterThan 1000000 is false", "(= 2)"},
		},
		"label check Equals turned NotEquals": {
			old:  "            operator: Equals\n            value: \"\"\n  - name: gpu-jobs-need-a-queue",
			new:  "            operator: NotEquals\n            value: \"\"\n  - name: gpu-jobs-need-a-queue",
			want: []string{"admits a pod with nvidia.com/gpu in requests and limits and no queue label", "NotEquals `` is false"},
		},
		"precondition inverted": {
			old:  "        operator: Equals\n        value: 0\n",
			new:  "        operator: NotEquals\n        value: 0\n",
			want: []string{"admits a pod with nvidia.com/gpu in requests and limits and no queue label", "does not apply: preconditions.all[0]", "NotEquals 0 is false"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := editedPlatform(t, tc.old, tc.new)
			var crit []auditor.Finding
			for _, r := range Rules(auditor.DefaultConfig()) {
				for _, f := range r.Evaluate(s).Findings {
					if f.Rule == "gpu-gate-policy-not-enforcing" && f.Severity == auditor.SeverityCritical {
						crit = append(crit, f)
					}
				}
			}
			require.NotEmpty(t, crit)
			var hit *auditor.Finding
			for i := range crit {
				if crit[i].Discriminator == "admits gpu" {
					hit = &crit[i]
				}
			}
			require.NotNil(t, hit, "no finding names the plain GPU pod: %v", crit)
			for _, w := range tc.want {
				assert.Contains(t, hit.Message, w)
			}
		})
	}
	// The unedited gate on these Nodes: nothing above low.
	s := editedPlatform(t, "name: gpu-pods-need-a-queue", "name: gpu-pods-need-a-queue")
	for _, r := range Rules(auditor.DefaultConfig()) {
		for _, f := range r.Evaluate(s).Findings {
			assert.LessOrEqual(t, f.Severity, auditor.SeverityLow, "%s %s: %s", f.Rule, f.Object, f.Message)
		}
	}
}

// TestGateEnginesOnTheBattery: each kind of gate, written correctly, inverted and
// thresholded, evaluated with its engine on the battery: a ValidatingAdmissionPolicy
// (the API server's CEL), a Kyverno ValidatingPolicy and a ClusterPolicy validate.cel
// rule (the same CEL environment), beside the Kyverno pattern, deny-condition and
// precondition gates of TestGateOneWordEdits and TestGPUGatePolicyNotEnforcingClusterPolicy.
func TestGateEnginesOnTheBattery(t *testing.T) {
	const (
		gpu       = "(object.spec.containers + (has(object.spec.initContainers) ? object.spec.initContainers : [])).exists(c, has(c.resources.limits) && c.resources.limits.exists(r, (r.startsWith('nvidia.com/') || r == 'amd.com/gpu')%s))"
		claims    = "(has(object.spec.resourceClaims) && size(object.spec.resourceClaims) > 0)"
		queued    = "(has(object.metadata.labels) && 'kueue.x-k8s.io/queue-name' in object.metadata.labels)"
		vap       = "ValidatingAdmissionPolicy/require-kueue-queue-name"
		vpol      = "ValidatingPolicy/require-kueue-queue-name"
		cpol      = "ClusterPolicy/require-kueue-queue-name"
		threshold = " && int(c.resources.limits[r]) > 1000000"
	)
	// Each gate also denies pods taking devices through DRA claims, as the example's does.
	documented := "!(" + fmt.Sprintf(gpu, "") + " || " + claims + ") || " + queued
	inverted := "!(" + fmt.Sprintf(gpu, "") + " || " + claims + ") || !" + queued
	thresholded := "!(" + fmt.Sprintf(gpu, threshold) + " || " + claims + ") || " + queued
	withVAP := func(expr string) []any {
		return []any{sr2VAP(func(p *admissionv1.ValidatingAdmissionPolicy) { p.Spec.Validations[0].Expression = expr }), sr2Binding(sr2Deny, nil)}
	}
	withVPol := func(expr string) []any {
		u := sr2Obj(t, sr2ValidatingPolicy)
		sr2SetAt(u.Object, []any{map[string]any{"expression": expr}}, "spec", "validations")
		return []any{u, sr2Webhooks(), sr2Lease(time.Second)}
	}
	withCELRule := func(expr string) []any {
		return []any{sr2Policy(t, func(u *unstructured.Unstructured) {
			sr2SetAt(u.Object, map[string]any{"failureAction": "Enforce", "cel": map[string]any{"expressions": []any{map[string]any{"expression": expr}}}}, "spec", "rules", "0", "validate")
		}), sr2Webhooks(), sr2Lease(time.Second)}
	}
	admitsGPU := []string{"admits a pod with nvidia.com/gpu in requests and limits and no queue label in team-research, team-search"}
	tests := map[string]struct {
		objs     []any
		want     []string
		contains []string
	}{
		"VAP documented":                         {objs: withVAP(documented)},
		"VAP inverted":                           {objs: withVAP(inverted), want: []string{vap + "#admits gpu critical", vap + "#admits gpu-init-container critical", vap + "#admits gpu-limits-only critical", vap + "#denies-queued medium", vap + "#dra-claims low", vap + "#gpu-resources low"}, contains: admitsGPU},
		"VAP thresholded":                        {objs: withVAP(thresholded), want: []string{vap + "#admits gpu critical", vap + "#admits gpu-init-container critical", vap + "#admits gpu-limits-only critical", vap + "#gpu-resources low"}, contains: admitsGPU},
		"ValidatingPolicy documented":            {objs: withVPol(documented)},
		"ValidatingPolicy inverted":              {objs: withVPol(inverted), want: []string{vpol + "#admits gpu critical", vpol + "#admits gpu-init-container critical", vpol + "#admits gpu-limits-only critical", vpol + "#denies-queued medium", vpol + "#dra-claims low", vpol + "#gpu-resources low"}, contains: admitsGPU},
		"ValidatingPolicy thresholded":           {objs: withVPol(thresholded), want: []string{vpol + "#admits gpu critical", vpol + "#admits gpu-init-container critical", vpol + "#admits gpu-limits-only critical", vpol + "#gpu-resources low"}, contains: admitsGPU},
		"ClusterPolicy validate.cel documented":  {objs: withCELRule(documented)},
		"ClusterPolicy validate.cel inverted":    {objs: withCELRule(inverted), want: []string{cpol + "#admits gpu critical", cpol + "#admits gpu-init-container critical", cpol + "#admits gpu-limits-only critical", cpol + "#denies-queued medium", cpol + "#dra-claims low", cpol + "#gpu-resources low"}, contains: []string{"rule gpu-pods-need-a-queue's validate.cel admits it"}},
		"ClusterPolicy validate.cel thresholded": {objs: withCELRule(thresholded), want: []string{cpol + "#admits gpu critical", cpol + "#admits gpu-init-container critical", cpol + "#admits gpu-limits-only critical", cpol + "#gpu-resources low"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := sr2Eval(t, ruleFor(gatePolicyNotEnforcing), snapshottest.New(snapshottest.At(sr2Now), sr2Platform(), tc.objs))
			sr2AssertFindings(t, res, tc.want, tc.contains)
		})
	}
}
