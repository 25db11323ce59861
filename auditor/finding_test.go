package auditor

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSeverityJSON(t *testing.T) {
	b, err := json.Marshal(SeverityCritical)
	require.NoError(t, err)
	assert.Equal(t, `"critical"`, string(b))
	var s Severity
	require.NoError(t, json.Unmarshal([]byte(`"medium"`), &s))
	assert.Equal(t, SeverityMedium, s)
	require.Error(t, json.Unmarshal([]byte(`"urgent"`), &s))
}

func TestFindingKeyIgnoresMessageAndSeverity(t *testing.T) {
	a := Finding{Rule: "r", Severity: SeverityHigh, Object: &ObjectRef{Kind: "Pod", Namespace: "n", Name: "p"}, Message: "one"}
	b := a
	b.Message, b.Severity = "two", SeverityLow
	assert.Equal(t, a.Key(), b.Key())
	assert.Equal(t, a.Fingerprint(), b.Fingerprint())
	c := a
	c.Discriminator = "rule[1]"
	assert.NotEqual(t, a.Key(), c.Key())
	assert.Len(t, a.Fingerprint(), 16)
}
