package kyverno

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func admissionDeployment(name, image string, labels map[string]string, args ...string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "kyverno", Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "kyverno", Image: image, Args: args},
		}}}}}
}

func TestFindAdmissionControllerVersion(t *testing.T) {
	cases := map[string]struct {
		d    *appsv1.Deployment
		want string
		from string
	}{
		"image tag":                 {d: admissionDeployment("kyverno-admission-controller", "ghcr.io/kyverno/kyverno:v1.15.2", nil), want: "v1.15.2", from: "image ghcr.io/kyverno/kyverno:v1.15.2"},
		"tag and digest":            {d: admissionDeployment("kyverno-admission-controller", "reg:5000/kyverno/kyverno:v1.17.1@sha256:abc", nil), want: "v1.17.1"},
		"registry port, no tag":     {d: admissionDeployment("kyverno-admission-controller", "reg:5000/kyverno/kyverno", nil), want: "unknown"},
		"digest only, chart label":  {d: admissionDeployment("kyverno-admission-controller", "ghcr.io/kyverno/kyverno@sha256:abc", map[string]string{"app.kubernetes.io/version": "3.5.2"}), want: "v1.15.x", from: "(chart version)"},
		"latest, app version label": {d: admissionDeployment("kyverno-admission-controller", "ghcr.io/kyverno/kyverno:latest", map[string]string{"app.kubernetes.io/version": "v1.16.1"}), want: "v1.16.1"},
		"found by its labels": {d: admissionDeployment("kac", "ghcr.io/kyverno/kyverno:v1.14.0",
			map[string]string{"app.kubernetes.io/component": "admission-controller", "app.kubernetes.io/part-of": "kyverno"}), want: "v1.14.0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ac := FindAdmissionController([]*appsv1.Deployment{admissionDeployment("kyverno-reports-controller", "x:v9.9.9", nil), tc.d}, "kyverno")
			require.NotNil(t, ac)
			assert.Equal(t, tc.want, ac.Version.String())
			assert.Contains(t, ac.Version.From, tc.from)
		})
	}
	assert.Nil(t, FindAdmissionController([]*appsv1.Deployment{admissionDeployment("kyverno-admission-controller", "x:v1.15.0", nil)}, "other"))
}

func TestVersionAtLeast(t *testing.T) {
	v, ok := ParseVersion("v1.16.0-rc.1")
	require.True(t, ok)
	at, known := v.AtLeast(1, 16, 0)
	assert.True(t, at && known)
	_, known = Version{Major: 1, Minor: 13, Patch: -1}.AtLeast(1, 13, 3)
	assert.False(t, known, "the patch decides and is unknown")
	at, known = Version{Major: 1, Minor: 14, Patch: -1}.AtLeast(1, 13, 3)
	assert.True(t, at && known)
	_, known = Version{}.AtLeast(1, 0, 0)
	assert.False(t, known)
	_, ok = ParseVersion("latest")
	assert.False(t, ok)
}

// TestExceptionsEnabled: --enablePolicyException and --exceptionNamespace with the
// defaults of each release (FactExceptionsDefault).
func TestExceptionsEnabled(t *testing.T) {
	ac := func(image string, args ...string) *AdmissionController {
		return FindAdmissionController([]*appsv1.Deployment{admissionDeployment("kyverno-admission-controller", image, nil, args...)}, "kyverno")
	}
	cases := map[string]struct {
		ac      *AdmissionController
		known   bool
		enabled bool
		ns      string
		why     string
	}{
		"no admission controller":                                 {ac: nil, why: "not among the inputs"},
		"v1.15 default: off":                                      {ac: ac("k/kyverno:v1.15.2"), known: true, why: "defaults to false in Kyverno v1.15.2"},
		"v1.12 default: on, every namespace":                      {ac: ac("k/kyverno:v1.12.5"), known: true, enabled: true, ns: "*", why: "no --exceptionNamespace: exceptions from every namespace apply"},
		"v1.11 default, one namespace":                            {ac: ac("k/kyverno:v1.11.4", "--exceptionNamespace=kyverno"), known: true, enabled: true, ns: "kyverno"},
		"v1.10 default: off":                                      {ac: ac("k/kyverno:v1.10.7"), known: true},
		"enabled, namespace set":                                  {ac: ac("k/kyverno:v1.15.2", "--enablePolicyException=true", "--exceptionNamespace=policy-exceptions"), known: true, enabled: true, ns: "policy-exceptions"},
		"enabled, empty namespace, v1.13+":                        {ac: ac("k/kyverno:v1.14.0", "--enablePolicyException=true"), known: true, why: "disables exceptions in Kyverno v1.14.0"},
		"enabled, every namespace":                                {ac: ac("k/kyverno:v1.15.2", "-enablePolicyException", "--exceptionNamespace=*"), known: true, enabled: true, ns: "*"},
		"explicitly off":                                          {ac: ac("k/kyverno:v1.12.0", "--enablePolicyException=false"), known: true},
		"unknown version, flag unset":                             {ac: ac("k/kyverno:latest"), why: "the default differs by version"},
		"unknown version, enabled, no namespace: every namespace": {ac: ac("k/kyverno:latest", "--enablePolicyException=true"), known: true, enabled: true, ns: "*"},
		"not a boolean":                                           {ac: ac("k/kyverno:v1.15.2", "--enablePolicyException=maybe"), why: "not a boolean"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := tc.ac.Exceptions()
			assert.Equal(t, tc.known, e.Known, e.Why)
			assert.Equal(t, tc.enabled, e.Enabled, e.Why)
			assert.Equal(t, tc.ns, e.Namespace)
			assert.Contains(t, e.Why, tc.why)
		})
	}
	// CEL exceptions (FactCELExceptions, FactCELExceptionNamespace).
	cel := map[string]struct {
		ac             *AdmissionController
		known, enabled bool
		ns, why        string
	}{
		"default off":                          {ac: ac("k/kyverno:latest"), known: true, why: "defaults to false"},
		"on, no namespace needed":              {ac: ac("k/kyverno:v1.16.0", "--enablePolicyException=true"), known: true, enabled: true, ns: "*"},
		"v1.17.1 ignores --exceptionNamespace": {ac: ac("k/kyverno:v1.17.1", "--enablePolicyException=true", "--exceptionNamespace=kyverno"), known: true, enabled: true, ns: "*", why: "only from v1.17.2"},
		"v1.17.2 reads only that namespace":    {ac: ac("k/kyverno:v1.17.2", "--enablePolicyException=true", "--exceptionNamespace=kyverno"), known: true, enabled: true, ns: "kyverno"},
		"v1.18.0 reads only that namespace":    {ac: ac("k/kyverno:v1.18.0", "--enablePolicyException=true", "--exceptionNamespace=kyverno"), known: true, enabled: true, ns: "kyverno"},
		"v1.18.0 with *":                       {ac: ac("k/kyverno:v1.18.0", "--enablePolicyException=true", "--exceptionNamespace=*"), known: true, enabled: true, ns: "*"},
		"v1.18.0 unset: every namespace":       {ac: ac("k/kyverno:v1.18.0", "--enablePolicyException=true"), known: true, enabled: true, ns: "*"},
		"unknown version with a namespace":     {ac: ac("k/kyverno:latest", "--enablePolicyException=true", "--exceptionNamespace=kyverno"), why: "from v1.17.2"},
		"no admission controller":              {ac: nil},
	}
	for name, tc := range cel {
		t.Run("cel/"+name, func(t *testing.T) {
			e := tc.ac.CELExceptions()
			assert.Equal(t, tc.known, e.Known, e.Why)
			assert.Equal(t, tc.enabled, e.Enabled, e.Why)
			assert.Equal(t, tc.ns, e.Namespace)
			assert.Contains(t, e.Why, tc.why)
		})
	}
}

// Kyverno parses its command line with Go's flag package.
func TestParseFlagsGoFlagSemantics(t *testing.T) {
	cases := map[string]struct {
		command, args []string
		want          map[string]string
	}{
		"--name=value":                {args: []string{"--exceptionNamespace=kyverno"}, want: map[string]string{"exceptionNamespace": "kyverno"}},
		"-name=value":                 {args: []string{"-exceptionNamespace=kyverno"}, want: map[string]string{"exceptionNamespace": "kyverno"}},
		"--name value":                {args: []string{"--exceptionNamespace", "kyverno"}, want: map[string]string{"exceptionNamespace": "kyverno"}},
		"-name value":                 {args: []string{"-exceptionNamespace", "kyverno"}, want: map[string]string{"exceptionNamespace": "kyverno"}},
		"a value flag takes a dash":   {args: []string{"--exceptionNamespace", "-x"}, want: map[string]string{"exceptionNamespace": "-x"}},
		"boolean alone is true":       {args: []string{"--enablePolicyException"}, want: map[string]string{"enablePolicyException": "true"}},
		"boolean only takes =":        {args: []string{"--enablePolicyException=false"}, want: map[string]string{"enablePolicyException": "false"}},
		"boolean then a word stops":   {args: []string{"--enablePolicyException", "false", "--exceptionNamespace=x"}, want: map[string]string{"enablePolicyException": "true"}},
		"first non-flag stops":        {args: []string{"serve", "--enablePolicyException"}, want: map[string]string{}},
		"double dash stops":           {args: []string{"--", "--enablePolicyException"}, want: map[string]string{}},
		"last one wins":               {args: []string{"--exceptionNamespace=a", "--exceptionNamespace", "b"}, want: map[string]string{"exceptionNamespace": "b"}},
		"command's program skipped":   {command: []string{"/kyverno", "--exceptionNamespace", "a"}, args: []string{"--enablePolicyException=true"}, want: map[string]string{"exceptionNamespace": "a", "enablePolicyException": "true"}},
		"a Func toggle takes a value": {args: []string{"--forceFailurePolicyIgnore", "true", "--enablePolicyException"}, want: map[string]string{"forceFailurePolicyIgnore": "true", "enablePolicyException": "true"}},
		"bad syntax stops":            {args: []string{"---x", "--enablePolicyException"}, want: map[string]string{}},
		"unknown flag before a flag":  {args: []string{"--v", "--enablePolicyException"}, want: map[string]string{"v": "true", "enablePolicyException": "true"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, parseFlags(tc.command, tc.args))
		})
	}
}
