package app

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/llm-platform/enforcement-auditor/auditor"
	"github.com/llm-platform/enforcement-auditor/probe"
)

// TestPartsFollowTheOptions: what `run` used to build from its flags (signer, probes,
// metrics auth, the HTTPS chain) app builds from the options, on the one clientset.
func TestPartsFollowTheOptions(t *testing.T) {
	client := fake.NewClientset()
	base := Options{Config: auditor.DefaultConfig(), RESTConfig: &rest.Config{Host: "https://example.invalid"}, Client: client,
		Logger: slog.New(slog.DiscardHandler)}.WithDefaults()
	names := func(ps []probe.Prober) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name())
		}
		return out
	}

	p, err := newParts(base)
	require.NoError(t, err)
	assert.Same(t, client, p.client)
	assert.Nil(t, p.signer, "no key, unsigned")
	assert.Empty(t, p.probes)
	assert.NotNil(t, p.secure, "HTTPS and delegated authorization by default")
	assert.Nil(t, p.auth)

	o := base
	o.InsecureServing = true
	p, err = newParts(o)
	require.NoError(t, err)
	assert.Nil(t, p.secure)
	assert.Nil(t, p.auth, "--insecure-serving alone: nothing protects /metrics")

	o.MetricsAuth = MetricsAuthKubernetes
	p, err = newParts(o)
	require.NoError(t, err)
	require.NotNil(t, p.auth)
	assert.Same(t, client, p.auth.Client, "metrics auth asks on the shared clientset")

	o = base
	o.NetworkProbe, o.AdmissionProbe, o.ProbeTimeout = true, true, time.Second
	custom := &probe.NetworkProbe{Prober: probe.NewNetworkProber(probe.NetworkProberOptions{}), Logger: base.Logger}
	o.Probes = []probe.Prober{custom}
	p, err = newParts(o)
	require.NoError(t, err)
	assert.Equal(t, []string{"network", "network", "admission"}, names(p.probes), "the caller's probes, then the configured ones")
	assert.Len(t, o.Probes, 1, "the caller's slice is not appended to")

	o = base
	o.Evidence.SigningKey = "../../../exporters/evidence/testdata/test-signing-key.pem"
	p, err = newParts(o)
	require.NoError(t, err)
	require.NotNil(t, p.signer)

	o.Evidence.SigningKey = "testdata-does-not-exist.pem"
	_, err = newParts(o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "testdata-does-not-exist.pem")
}
