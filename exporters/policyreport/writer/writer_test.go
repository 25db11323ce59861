package writer

import (
	"testing"
	"time"

	orv1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/llm-platform/enforcement-auditor/exporters/policyreport"
)

// A new evaluation moves the pass results' timestamps; that alone is not a change worth
// a write, anything else is.
func TestContentKey(t *testing.T) {
	r := policyreport.Report{Results: []orv1.ReportResult{
		{Policy: "SR3", Rule: "a", Result: "pass", Timestamp: metav1.Timestamp{Seconds: 1}},
		{Policy: "SR2", Rule: "b", Result: "fail", Timestamp: metav1.Timestamp{Seconds: 1}},
	}}
	k1, err := contentKey(&r)
	require.NoError(t, err)
	later := r
	later.Results = append([]orv1.ReportResult(nil), r.Results...)
	later.Results[0].Timestamp.Seconds = 99
	k2, err := contentKey(&later)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "a pass result's timestamp is not content")
	assert.EqualValues(t, 1, r.Results[0].Timestamp.Seconds, "the report itself keeps its timestamps")

	later.Results[1].Timestamp.Seconds = 99
	k3, err := contentKey(&later)
	require.NoError(t, err)
	assert.NotEqual(t, k1, k3, "a finding first seen at another time is another result")
}

func TestToUnstructuredHasNoCreationTimestamp(t *testing.T) {
	r := policyreport.Report{Namespace: "a"}
	u, err := toUnstructured(r.Object(policyreport.OpenReports))
	require.NoError(t, err)
	_, found := u.Object["metadata"].(map[string]any)["creationTimestamp"]
	assert.False(t, found)
	assert.Equal(t, "Report", u.GetKind())
	assert.Equal(t, "a", u.GetNamespace())
}

func TestDefaults(t *testing.T) {
	w := New(Options{})
	assert.Equal(t, policyreport.OpenReports, w.o.API)
	assert.Equal(t, 30*time.Second, w.o.Retry)
	assert.True(t, w.LastSuccess().IsZero())
	assert.Equal(t, "reports", w.nsRes.Resource)
}

// A report's copy is compared without what the server maintains, and only the other
// writers' field managers count as tampering.
func TestEditableAndOtherManagers(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "enforcement-auditor", "resourceVersion": "7", "uid": "u", "generation": int64(2),
			"creationTimestamp": "2026-01-01T00:00:00Z", "labels": map[string]any{"a": "b"}},
		"summary": map[string]any{"fail": int64(1)},
	}}
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply}})
	e := editable(u)
	assert.Equal(t, map[string]any{"metadata": map[string]any{"name": "enforcement-auditor", "labels": map[string]any{"a": "b"}},
		"summary": map[string]any{"fail": int64(1)}}, e)
	assert.Equal(t, "7", u.GetResourceVersion(), "the object itself is left alone")
	assert.False(t, othersOwnFields(u))

	u.SetManagedFields(append(u.GetManagedFields(), metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate}))
	assert.Equal(t, []string{"kubectl-edit Update"}, otherManagers(u))
	assert.True(t, othersOwnFields(u))
	assert.Equal(t, e, editable(u), "managed fields are not content")
	assert.Nil(t, editable(nil))
}

func TestResyncDefault(t *testing.T) {
	assert.Equal(t, DefaultResync, New(Options{}).o.Resync)
	assert.Equal(t, time.Second, New(Options{Resync: time.Second}).o.Resync)
}
