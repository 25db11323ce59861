package rules_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

func cpuPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// TestPodsRead is the union the daemon hands the live source.
func TestPodsRead(t *testing.T) {
	keep := auditor.PodsRead(rules.All(auditor.DefaultConfig()))
	gpu := func(p *corev1.Pod, r corev1.ResourceRequirements) *corev1.Pod {
		p.Spec.InitContainers = []corev1.Container{{Name: "i", Resources: r}}
		return p
	}
	mig := corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/mig-1g.10gb": resource.MustParse("1")}}
	cases := map[string]struct {
		pod  *corev1.Pod
		want bool
	}{
		"a CPU pod of a tenant is not read":  {pod: cpuPod("team", "web"), want: false},
		"a GPU request in an init container": {pod: gpu(cpuPod("team", "init"), mig), want: true},
		"pod-level GPU resources":            {pod: func() *corev1.Pod { p := cpuPod("team", "pl"); p.Spec.Resources = &mig; return p }(), want: true},
		"every pod of a protected namespace": {pod: cpuPod("serving", "vllm"), want: true},
		"a waiver annotation, even without waive": {pod: func() *corev1.Pod {
			p := cpuPod("team", "w")
			p.Annotations = map[string]string{auditor.WaiveUntilAnnotation: "x"}
			return p
		}(), want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { assert.Equal(t, tc.want, keep(tc.pod)) })
	}
	assert.False(t, auditor.PodsRead(nil)(cpuPod("serving", "x")), "no rule, no pod")
}

// TestRulesReadOnlyTheirDeclaredPods holds each rule to RuleMeta.Pods: evaluated on a
// cluster holding only the pods it declares, it reports exactly what it reports on the
// whole cluster. A rule that reads pods without declaring them fails here.
func TestRulesReadOnlyTheirDeclaredPods(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 4020})
	require.NoError(t, err)
	odd := []*corev1.Pod{cpuPod("serving", "sidecar"), cpuPod("inference", "debug"), cpuPod(synth.TenantNamespace(3), "cpu")}
	waived := cpuPod(synth.TenantNamespace(5), "waived-cpu")
	waived.Annotations = map[string]string{auditor.WaiveAnnotation: "netpol-default-deny-missing"}
	c.Pods = append(c.Pods, append(odd, waived)...)
	cfg := auditor.DefaultConfig()
	// Two clusters: as generated, and with every NetworkPolicy gone (protected
	// namespaces then open, and the SR1 messages list their pods).
	variants := map[string]func(*auditor.Snapshot){
		"as generated":       func(*auditor.Snapshot) {},
		"no NetworkPolicies": func(s *auditor.Snapshot) { s.NetworkPolicies = nil },
	}
	for name, change := range variants {
		full, err := c.Snapshot(c.Now)
		require.NoError(t, err)
		change(full)
		full.Index()
		for _, r := range rules.All(cfg) {
			m := r.Meta()
			t.Run(name+"/"+m.ID, func(t *testing.T) {
				kept, err := c.Snapshot(c.Now)
				require.NoError(t, err)
				change(kept)
				var pods []*corev1.Pod
				for _, p := range kept.Pods {
					if m.Pods != nil && m.Pods(p) {
						pods = append(pods, p)
					}
				}
				kept.Pods = pods
				kept.Index()
				max := cfg.Waivers.MaxDuration.Duration
				want := engine.Evaluate([]auditor.Rule{r}, full, max)
				got := engine.Evaluate([]auditor.Rule{r}, kept, max)
				assert.Equal(t, want.Findings, got.Findings)
				assert.Equal(t, want.Facts, got.Facts)
				assert.Equal(t, want.Inconclusive, got.Inconclusive)
			})
		}
	}
}

// TestRulesReadOnlyTheirDeclaredInputs holds each rule to RuleMeta.Inputs: removing every
// object of a kind the rule does not declare (pods aside: see RuleMeta.Pods) from the
// example platform changes nothing it reports. A rule that reads an undeclared kind
// would be judged on it without the engine knowing whether that kind was visible.
func TestRulesReadOnlyTheirDeclaredInputs(t *testing.T) {
	objs, err := manifests.Read([]string{"../examples/platform"}, nil)
	require.NoError(t, err)
	cfg := auditor.DefaultConfig()
	max := cfg.Waivers.MaxDuration.Duration
	snapshotWithout := func(kind auditor.ResourceInfo) *auditor.Snapshot {
		var keep []manifests.Object
		for _, o := range objs {
			gvk := o.GroupVersionKind()
			if gvk.Group != kind.Group || gvk.Kind != kind.Kind {
				keep = append(keep, o)
			}
		}
		s, err := manifests.Snapshot(keep)
		require.NoError(t, err)
		s.Now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		return s
	}
	base := snapshotWithout(auditor.ResourceInfo{Kind: "-none-"})
	present := map[string]bool{}
	for _, k := range auditor.Kinds {
		if k.Len(base) > 0 {
			present[k.ID] = true
		}
	}
	for _, r := range rules.All(cfg) {
		m := r.Meta()
		want := engine.Evaluate([]auditor.Rule{r}, base, max)
		for _, k := range auditor.Kinds {
			if !present[k.ID] || slices.Contains(m.Inputs, k.ID) || k.ID == auditor.ResourcePods && m.Pods != nil {
				continue
			}
			t.Run(m.ID+"/without "+k.ID, func(t *testing.T) {
				got := engine.Evaluate([]auditor.Rule{r}, snapshotWithout(k), max)
				assert.Equal(t, want.Findings, got.Findings, "%s reads %s without declaring it in Inputs", m.ID, k.ID)
				assert.Equal(t, want.Facts, got.Facts, "%s reads %s without declaring it in Inputs", m.ID, k.ID)
			})
		}
	}
}
