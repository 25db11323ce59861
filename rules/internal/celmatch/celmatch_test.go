package celmatch

import (
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admissionregistration/v1"
)

func TestMatchPodCreate(t *testing.T) {
	ignore := admissionv1.Ignore
	cases := map[string]struct {
		conds   []admissionv1.MatchCondition
		fp      *admissionv1.FailurePolicyType
		matches bool
		failed  string
		err     bool
	}{
		"no conditions": {matches: true},
		"Kyverno's usual exclusion of system users": {conds: []admissionv1.MatchCondition{
			{Name: "exclude-leases", Expression: `!(request.resource.group == 'coordination.k8s.io' && request.resource.resource == 'leases')`},
			{Name: "not-kube-system-users", Expression: `!request.userInfo.username.startsWith('system:kube-')`},
		}, matches: true},
		"always false for pods": {conds: []admissionv1.MatchCondition{{Name: "only-deployments", Expression: `request.resource.resource == 'deployments'`}}, failed: "only-deployments"},
		"needs a label a tenant pod lacks": {conds: []admissionv1.MatchCondition{
			{Name: "labelled", Expression: `has(object.metadata.labels) && 'checked' in object.metadata.labels`}}, failed: "labelled"},
		"reads the GPU request": {conds: []admissionv1.MatchCondition{
			{Name: "gpu", Expression: `object.spec.containers.exists(c, has(c.resources.limits) && 'nvidia.com/gpu' in c.resources.limits)`}}, matches: true},
		"namespace of the request":                  {conds: []admissionv1.MatchCondition{{Name: "ns", Expression: `request.namespace != 'team-a'`}}, failed: "ns"},
		"an error with failurePolicy Fail rejects":  {conds: []admissionv1.MatchCondition{{Name: "bad", Expression: `object.spec.nodeName == 'x'`}}, err: true},
		"an error with failurePolicy Ignore skips":  {conds: []admissionv1.MatchCondition{{Name: "bad", Expression: `object.spec.nodeName == 'x'`}}, fp: &ignore},
		"does not compile: Fail rejects":            {conds: []admissionv1.MatchCondition{{Name: "syntax", Expression: `object.(`}}, err: true},
		"the authorizer cannot be judged: an error": {conds: []admissionv1.MatchCondition{{Name: "authz", Expression: `authorizer.group('').resource('pods').namespace('team-a').check('create').allowed()`}}, err: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pod, u := TenantPod("team-a", "nvidia.com/gpu")
			r := MatchPodCreate("validate.kyverno.svc-fail", tc.conds, tc.fp, pod, u)
			assert.Equal(t, tc.err, r.Err != nil, "%v", r.Err)
			if !tc.err {
				assert.Equal(t, tc.matches, r.Matches)
				assert.Equal(t, tc.failed, r.Failed)
			}
		})
	}
}
