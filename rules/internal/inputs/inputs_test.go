package inputs

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/auditor/snapshottest"
)

func TestUnseen(t *testing.T) {
	cases := map[string]struct {
		avail  map[string]auditor.Availability
		reason string
		unseen bool
	}{
		"missing from the map is synced": {},
		"synced":                         {avail: map[string]auditor.Availability{auditor.ResourcePods: {State: auditor.Synced, Message: "x"}}},
		"forbidden with a message": {avail: map[string]auditor.Availability{auditor.ResourcePods: {State: auditor.Forbidden, Message: "RBAC"}},
			reason: "pods is forbidden (RBAC)", unseen: true},
		"not served, no message": {avail: map[string]auditor.Availability{auditor.ResourcePods: {State: auditor.NotServed}},
			reason: "pods is not_served", unseen: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reason, unseen := Unseen(snapshottest.New(tc.avail), auditor.ResourcePods)
			assert.Equal(t, tc.reason, reason)
			assert.Equal(t, tc.unseen, unseen)
		})
	}
}

func TestHidden(t *testing.T) {
	s := snapshottest.New(map[string]auditor.Availability{
		"a": {State: auditor.Forbidden}, "b": {State: auditor.Failing}, "c": {State: auditor.Pending},
		"d": {State: auditor.NotServed}, "e": {State: auditor.Synced},
	})
	assert.Equal(t, []string{"a is forbidden", "b is failing", "c is pending"}, Hidden(s, []string{"a", "b", "c", "d", "e", "f"}),
		"a CRD that is not served holds nothing, which is not hidden")
	assert.Empty(t, Hidden(s, nil))
}
