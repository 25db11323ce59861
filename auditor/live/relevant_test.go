package live

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/rules"
	"github.com/llm-platform/enforcement-auditor/test/bench/synth"
)

func cpuPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func TestRelevantPods(t *testing.T) {
	keep := RelevantPods(auditor.DefaultConfig())
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
}

// TestRelevantPodsKeepWhatRulesRead holds RelevantPods to the rules: a cluster evaluated
// with only the pods it keeps gives exactly the findings and facts of the whole cluster.
func TestRelevantPodsKeepWhatRulesRead(t *testing.T) {
	c, err := synth.Generate(synth.Options{Pods: 4020})
	require.NoError(t, err)
	odd := []*corev1.Pod{cpuPod("serving", "sidecar"), cpuPod("inference", "debug"), cpuPod(synth.TenantNamespace(3), "cpu")}
	waived := cpuPod(synth.TenantNamespace(5), "waived-cpu")
	waived.Annotations = map[string]string{auditor.WaiveAnnotation: "netpol-default-deny-missing"}
	c.Pods = append(c.Pods, append(odd, waived)...)
	cfg := auditor.DefaultConfig()
	full, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	kept, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	keep := RelevantPods(cfg)
	var pods []*corev1.Pod
	for _, p := range kept.Pods {
		if keep(p) {
			pods = append(pods, p)
		}
	}
	require.Less(t, len(pods), len(full.Pods)/2, "most synthetic pods are CPU pods")
	kept.Pods = pods
	kept.Index()
	rs := rules.All(cfg)
	want := engine.Evaluate(rs, full, cfg.Waivers.MaxDuration.Duration)
	got := engine.Evaluate(rs, kept, cfg.Waivers.MaxDuration.Duration)
	assert.Equal(t, want.Findings, got.Findings)
	assert.Equal(t, want.Facts, got.Facts)
	assert.Equal(t, want.Inconclusive, got.Inconclusive)
}

// TestStubPodsAreHiddenAndSilent: with KeepPod, a CPU pod is neither in snapshots nor
// an event; when it gains a waiver annotation it becomes both.
func TestStubPodsAreHiddenAndSilent(t *testing.T) {
	cs, dyn, meta := newFakeClients(t)
	var notified atomic.Int64
	src := NewForClients(cs, dyn, meta, Options{OnChange: func() { notified.Add(1) }, DiscoveryInterval: time.Hour,
		KeepPod: RelevantPods(auditor.DefaultConfig()), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = runSource(t, ctx, src)
	require.NoError(t, src.WaitForSync(ctx))
	waitQuiet(&notified)
	src.Changes()
	before := notified.Load()

	p, err := cs.CoreV1().Pods("team").Create(ctx, cpuPod("team", "web"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, ok, _ := src.resources[auditor.ResourcePods].informer.GetStore().GetByKey("team/web")
		return ok
	}, 2*time.Second, 5*time.Millisecond)
	waitQuiet(&notified)
	assert.Equal(t, before, notified.Load(), "a stub's event wakes nobody")
	s, err := src.Snapshot(time.Now())
	require.NoError(t, err)
	assert.Empty(t, s.Pods)
	assert.Empty(t, src.Changes().Objects)

	p.Annotations = map[string]string{auditor.WaiveAnnotation: "gpu-pod-missing-queue-name"}
	p.ResourceVersion = "2"
	_, err = cs.CoreV1().Pods("team").Update(ctx, p, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return notified.Load() > before }, 2*time.Second, 5*time.Millisecond)
	s, err = src.Snapshot(time.Now())
	require.NoError(t, err)
	require.Len(t, s.Pods, 1, "with a waiver annotation the pod is read")
	assert.Equal(t, map[string]map[string]bool{auditor.ResourcePods: {"team": true}}, src.Changes().Objects)
}
