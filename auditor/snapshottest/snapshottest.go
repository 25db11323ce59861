// Package snapshottest builds indexed auditor.Snapshots from literal objects, so that
// every rule test describes its cluster the same way.
package snapshottest

import (
	"fmt"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/llm-platform/enforcement-auditor/auditor"
)

// Option sets a snapshot field that is not an object (see At).
type Option func(*auditor.Snapshot)

// At sets the snapshot's Now.
func At(now time.Time) Option { return func(s *auditor.Snapshot) { s.Now = now } }

// New returns an indexed snapshot holding objs. It accepts a pointer to any typed kind
// of auditor.Snapshot, *unstructured.Unstructured (into Custom, by group and kind),
// *auditor.Owner, network and admission probe results (one or a slice), a
// map[string]auditor.Availability (merged into Availability), an Option, and []any
// (flattened); nil is skipped. Any other type panics, so a forgotten kind fails the test.
func New(objs ...any) *auditor.Snapshot {
	s := &auditor.Snapshot{
		Custom:       map[schema.GroupKind][]*unstructured.Unstructured{},
		Availability: map[string]auditor.Availability{},
	}
	for _, o := range objs {
		add(s, o)
	}
	s.Index()
	return s
}

func add(s *auditor.Snapshot, o any) {
	switch v := o.(type) {
	case nil:
	case []any:
		for _, e := range v {
			add(s, e)
		}
	case Option:
		v(s)
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, v)
	case *corev1.Pod:
		s.Pods = append(s.Pods, v)
	case *corev1.Node:
		s.Nodes = append(s.Nodes, v)
	case *corev1.ConfigMap:
		s.ConfigMaps = append(s.ConfigMaps, v)
	case *networkingv1.NetworkPolicy:
		s.NetworkPolicies = append(s.NetworkPolicies, v)
	case *appsv1.DaemonSet:
		s.DaemonSets = append(s.DaemonSets, v)
	case *appsv1.Deployment:
		s.Deployments = append(s.Deployments, v)
	case *coordinationv1.Lease:
		s.Leases = append(s.Leases, v)
	case *admissionv1.ValidatingWebhookConfiguration:
		s.ValidatingWebhookConfigurations = append(s.ValidatingWebhookConfigurations, v)
	case *admissionv1.ValidatingAdmissionPolicy:
		s.ValidatingAdmissionPolicies = append(s.ValidatingAdmissionPolicies, v)
	case *admissionv1.ValidatingAdmissionPolicyBinding:
		s.ValidatingAdmissionBindings = append(s.ValidatingAdmissionBindings, v)
	case *auditor.Owner:
		s.Owners = append(s.Owners, v)
	case *unstructured.Unstructured:
		gk := v.GroupVersionKind().GroupKind()
		s.Custom[gk] = append(s.Custom[gk], v)
	case auditor.NetworkProbeResult:
		s.NetworkProbes = append(s.NetworkProbes, v)
	case []auditor.NetworkProbeResult:
		s.NetworkProbes = append(s.NetworkProbes, v...)
	case auditor.AdmissionProbeResult:
		s.AdmissionProbes = append(s.AdmissionProbes, v)
	case []auditor.AdmissionProbeResult:
		s.AdmissionProbes = append(s.AdmissionProbes, v...)
	case map[string]auditor.Availability:
		for k, a := range v {
			s.Availability[k] = a
		}
	default:
		panic(fmt.Sprintf("snapshottest.New: unsupported object of type %T (add its kind to snapshottest)", o))
	}
}
