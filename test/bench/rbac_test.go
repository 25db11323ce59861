package bench

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/rules"
)

// BenchmarkTamperRules: the three tamper rules on 50 and 500 namespaces with 10
// RoleBindings each (500 and 5,000 bindings; the built-in-like admin/edit/view
// ClusterRoles plus one Role per namespace) and 50 ClusterRoleBindings: one evaluation
// each (a fresh ForEvaluation, so nothing is reused between evaluations).
func BenchmarkTamperRules(b *testing.B) {
	for _, namespaces := range []int{50, 500} {
		b.Run(fmt.Sprintf("bindings=%d", namespaces*10), func(b *testing.B) { benchTamper(b, namespaces) })
	}
}

func benchTamper(b *testing.B, namespaces int) {
	s := &auditor.Snapshot{}
	edit := []rbacv1.PolicyRule{
		{Verbs: []string{"create", "update", "patch", "delete"}, APIGroups: []string{"", "apps", "batch"}, Resources: []string{"pods", "deployments", "jobs", "configmaps", "pods/exec"}},
		{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
	}
	for _, n := range []string{"admin", "edit", "view"} {
		s.ClusterRoles = append(s.ClusterRoles, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: n}, Rules: edit})
	}
	for i := range namespaces {
		ns := fmt.Sprintf("team-%03d", i)
		s.Namespaces = append(s.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{"llm-platform/kueue-managed": "true"}}})
		s.Roles = append(s.Roles, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local"}, Rules: edit})
		for j := range 10 {
			ref := rbacv1.RoleRef{Kind: "ClusterRole", Name: []string{"admin", "edit", "view"}[j%3]}
			if j == 9 {
				ref = rbacv1.RoleRef{Kind: "Role", Name: "local"}
			}
			s.RoleBindings = append(s.RoleBindings, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("b%d", j)}, RoleRef: ref,
				Subjects: []rbacv1.Subject{{Kind: "Group", Name: fmt.Sprintf("%s-g%d", ns, j)}, {Kind: "ServiceAccount", Name: fmt.Sprintf("sa%d", j)}}})
		}
	}
	for i := range 50 {
		s.ClusterRoleBindings = append(s.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb%d", i)},
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}, Subjects: []rbacv1.Subject{{Kind: "User", Name: fmt.Sprintf("user%d", i)}}})
	}
	for _, n := range []string{"serving", "inference", "litellm", "kyverno"} {
		s.Namespaces = append(s.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})
	}
	s.Index()
	cfg := auditor.DefaultConfig()
	var tamper []auditor.Rule
	for _, r := range rules.All(cfg) {
		switch r.Meta().ID {
		case "budget-path-tamper", "gpu-gate-tamper", "budget-config-tamper":
			tamper = append(tamper, r)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	clock := startCPU()
	defer clock.report(b)
	for b.Loop() {
		e := s.ForEvaluation()
		n := 0
		for _, r := range tamper {
			n += len(r.Evaluate(e).Findings)
		}
		if n == 0 {
			b.Fatal("no finding")
		}
		b.ReportMetric(float64(n), "findings/op")
	}
}
