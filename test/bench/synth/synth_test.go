package synth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/engine"
	"github.com/llm-platform/enforcement-auditor/auditor/manifests"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// TestGeneratedClusterHasItsDesignedFindings pins the proportions the benchmarks rely on:
// 1000 pods are 50 tenant namespaces; defects land where the layout comment says.
func TestGeneratedClusterHasItsDesignedFindings(t *testing.T) {
	c, err := Generate(Options{Pods: 1000})
	require.NoError(t, err)
	require.Len(t, c.Namespaces, 50)
	require.Len(t, c.Pods, 1000)
	s, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	ev := engine.Evaluate(rules.All(auditor.DefaultConfig()), s, 90*24*time.Hour)

	count := map[string]int{}
	waived := 0
	for _, f := range ev.Findings {
		if f.Object != nil && len(f.Object.Namespace) > len(TenantPrefix) && f.Object.Namespace[:len(TenantPrefix)] == TenantPrefix {
			count[f.Rule]++
			if f.Waived() {
				waived++
			}
		}
	}
	// namespace 0 (managed, %50): notebook without queue; namespaces 2 and 42 (%40==2, managed):
	// 4 job pods not admitted each.
	assert.Equal(t, map[string]int{"gpu-pod-missing-queue-name": 1, "gpu-pod-not-admitted": 8}, count)
	assert.Zero(t, waived)
	for _, id := range []string{"gpu-pod-missing-queue-name", "gpu-pod-not-admitted", "netpol-default-deny-missing", auditor.WaiverInvalidRule} {
		assert.Empty(t, ev.Inconclusive[id], "namespaced rule %s is inconclusive on the synthetic cluster", id)
	}
	facts := 0
	for _, f := range ev.Facts {
		if f.Metric == "gpu_requested" {
			facts++
		}
	}
	assert.Greater(t, facts, 25*3, "every managed tenant namespace publishes its GPU accounting")
}

func TestWaiversAndInvalidWaiversAppearAtScale(t *testing.T) {
	c, err := Generate(Options{Pods: 4020}) // 201 namespaces: 50, 100, 150, 200 and 100 (invalid)
	require.NoError(t, err)
	s, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	ev := engine.Evaluate(rules.All(auditor.DefaultConfig()), s, 90*24*time.Hour)
	waived, invalid := 0, 0
	for _, f := range ev.Findings {
		if f.Rule == "gpu-pod-missing-queue-name" && f.Waived() {
			waived++
		}
		if f.Rule == auditor.WaiverInvalidRule && f.Object != nil && f.Object.Name == "debug" {
			invalid++
		}
	}
	assert.Equal(t, 2, waived, "namespaces 50 and 150")
	assert.Equal(t, 1, invalid, "namespace 100")
}

func TestManifestsScanLikeTheSnapshot(t *testing.T) {
	c, err := Generate(Options{Pods: 200})
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, c.WriteManifests(dir))
	objs, err := manifests.Read([]string{dir}, nil)
	require.NoError(t, err)
	fromFiles, err := manifests.Snapshot(objs)
	require.NoError(t, err)
	direct, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	assert.Len(t, fromFiles.Pods, len(direct.Pods))
	assert.Len(t, fromFiles.Namespaces, len(direct.Namespaces))
	assert.Len(t, fromFiles.CustomObjects("kueue.x-k8s.io", "Workload"), len(c.Workloads)+2)
}

// TestGeneratedRBAC pins what the live harness's -bindings loads: exactly the bindings
// asked for, the same set every time, every Role a binding names present in its
// namespace, and the two designed doors reported by the tamper rules naming the group.
func TestGeneratedRBAC(t *testing.T) {
	set := GenerateRBAC(50, 500)
	require.Equal(t, 500, set.Bindings())
	assert.Len(t, set.ClusterRoleBindings, 10)
	assert.Equal(t, set, GenerateRBAC(50, 500))
	assert.Equal(t, 3, GenerateRBAC(50, 3).Bindings())
	assert.Zero(t, GenerateRBAC(50, 0).Bindings())
	roles := map[string]bool{}
	for _, r := range set.Roles {
		roles[r.Namespace+"/"+r.Name] = true
	}
	names := map[string]bool{}
	for _, b := range set.RoleBindings {
		require.False(t, names[b.Namespace+"/"+b.Name], "duplicate %s/%s", b.Namespace, b.Name)
		names[b.Namespace+"/"+b.Name] = true
		if b.RoleRef.Kind == "Role" {
			assert.True(t, roles[b.Namespace+"/"+b.RoleRef.Name], "%s/%s names a missing Role", b.Namespace, b.Name)
		}
	}

	c, err := Generate(Options{Pods: 1000})
	require.NoError(t, err)
	s, err := c.Snapshot(c.Now)
	require.NoError(t, err)
	s.ClusterRoles = append(s.ClusterRoles, set.ClusterRoles...)
	s.Roles = append(s.Roles, set.Roles...)
	s.RoleBindings = append(s.RoleBindings, set.RoleBindings...)
	s.ClusterRoleBindings = append(s.ClusterRoleBindings, set.ClusterRoleBindings...)
	s.Index()
	ev := engine.Evaluate(rules.All(auditor.DefaultConfig()), s, 90*24*time.Hour)
	found := map[string]int{}
	for _, f := range ev.Findings {
		if strings.Contains(f.Message, TenantNamespace(0)+"-developers") {
			found[f.Rule]++
		}
	}
	assert.NotZero(t, found["gpu-gate-tamper"], "PolicyExceptions in kyverno")
}
