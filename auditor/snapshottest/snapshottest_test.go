package snapshottest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

func meta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func TestNewPlacesEachKind(t *testing.T) {
	cases := map[string]struct {
		obj   any
		count func(s *auditor.Snapshot) int
	}{
		"namespace":  {&corev1.Namespace{ObjectMeta: meta("", "a")}, func(s *auditor.Snapshot) int { return len(s.Namespaces) }},
		"pod":        {&corev1.Pod{ObjectMeta: meta("a", "p")}, func(s *auditor.Snapshot) int { return len(s.Pods) }},
		"node":       {&corev1.Node{ObjectMeta: meta("", "n")}, func(s *auditor.Snapshot) int { return len(s.Nodes) }},
		"configmap":  {&corev1.ConfigMap{ObjectMeta: meta("a", "c")}, func(s *auditor.Snapshot) int { return len(s.ConfigMaps) }},
		"service":    {&corev1.Service{ObjectMeta: meta("a", "s")}, func(s *auditor.Snapshot) int { return len(s.Services) }},
		"netpol":     {&networkingv1.NetworkPolicy{ObjectMeta: meta("a", "np")}, func(s *auditor.Snapshot) int { return len(s.NetworkPolicies) }},
		"daemonset":  {&appsv1.DaemonSet{ObjectMeta: meta("a", "ds")}, func(s *auditor.Snapshot) int { return len(s.DaemonSets) }},
		"deployment": {&appsv1.Deployment{ObjectMeta: meta("a", "d")}, func(s *auditor.Snapshot) int { return len(s.Deployments) }},
		"lease":      {&coordinationv1.Lease{ObjectMeta: meta("a", "l")}, func(s *auditor.Snapshot) int { return len(s.Leases) }},
		"webhook config": {&admissionv1.ValidatingWebhookConfiguration{ObjectMeta: meta("", "w")},
			func(s *auditor.Snapshot) int { return len(s.ValidatingWebhookConfigurations) }},
		"admission policy": {&admissionv1.ValidatingAdmissionPolicy{ObjectMeta: meta("", "v")},
			func(s *auditor.Snapshot) int { return len(s.ValidatingAdmissionPolicies) }},
		"admission binding": {&admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: meta("", "b")},
			func(s *auditor.Snapshot) int { return len(s.ValidatingAdmissionBindings) }},
		"owner": {&auditor.Owner{Kind: "Job", Namespace: "a", Name: "j"}, func(s *auditor.Snapshot) int { return len(s.Owners) }},
		"network probe": {auditor.NetworkProbeResult{Reachable: true},
			func(s *auditor.Snapshot) int { return len(s.NetworkProbes) }},
		"network probes": {[]auditor.NetworkProbeResult{{}, {}},
			func(s *auditor.Snapshot) int { return len(s.NetworkProbes) / 2 }},
		"admission probe": {auditor.AdmissionProbeResult{Namespace: "a"},
			func(s *auditor.Snapshot) int { return len(s.AdmissionProbes) }},
		"admission probes": {[]auditor.AdmissionProbeResult{{Namespace: "a"}},
			func(s *auditor.Snapshot) int { return len(s.AdmissionProbes) }},
		"custom object": {&unstructured.Unstructured{Object: map[string]any{"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "Workload",
			"metadata": map[string]any{"namespace": "a", "name": "w"}}},
			func(s *auditor.Snapshot) int { return len(s.CustomObjects("kueue.x-k8s.io", "Workload")) }},
		"flattened list": {[]any{&corev1.Pod{ObjectMeta: meta("a", "p")}, nil},
			func(s *auditor.Snapshot) int { return len(s.Pods) }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, 0, tc.count(New()), "an empty snapshot holds nothing")
			assert.Equal(t, 1, tc.count(New(tc.obj)))
		})
	}
}

func TestNewIndexes(t *testing.T) {
	s := New(&corev1.Namespace{ObjectMeta: meta("", "a")}, &corev1.Pod{ObjectMeta: meta("a", "p")},
		&corev1.ConfigMap{ObjectMeta: meta("a", "c")}, &networkingv1.NetworkPolicy{ObjectMeta: meta("a", "np")})
	require.NotNil(t, s.Namespace("a"))
	assert.Len(t, s.PodsIn("a"), 1)
	assert.NotNil(t, s.ConfigMap("a", "c"))
	assert.Len(t, s.NetworkPoliciesIn("a"), 1)
	assert.NotNil(t, s.Custom, "Custom is never nil")
	assert.Empty(t, s.Custom)
}

func TestNewOptionsAndAvailability(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := New(At(now),
		map[string]auditor.Availability{auditor.ResourcePods: {State: auditor.Forbidden, Message: "RBAC"}},
		map[string]auditor.Availability{auditor.ResourceNodes: {State: auditor.NotServed}})
	assert.Equal(t, now, s.Now)
	assert.Equal(t, auditor.Forbidden, s.AvailabilityOf(auditor.ResourcePods).State)
	assert.Equal(t, auditor.NotServed, s.AvailabilityOf(auditor.ResourceNodes).State, "availability maps are merged")
	assert.True(t, New().Now.IsZero(), "Now is zero without At")
}

func TestNewPanicsOnUnknownType(t *testing.T) {
	for name, obj := range map[string]any{
		"typed value, not a pointer": corev1.Pod{},
		"unsupported kind":           &corev1.Secret{},
		"typed slice":                []*corev1.Pod{{}},
	} {
		t.Run(name, func(t *testing.T) {
			assert.PanicsWithValue(t, fmt.Sprintf("snapshottest.New: unsupported object of type %T (add its kind to auditor.Kinds)", obj), func() { New(obj) })
		})
	}
}
