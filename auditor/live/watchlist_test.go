package live

import (
	"testing"

	"github.com/stretchr/testify/assert"
	clientfeatures "k8s.io/client-go/features"
)

type fixedGates map[clientfeatures.Feature]bool

func (f fixedGates) Enabled(k clientfeatures.Feature) bool { return f[k] }

// Streaming lists are on unless the environment says otherwise; every other gate is
// read from the gates underneath.
func TestWatchListGate(t *testing.T) {
	under := fixedGates{clientfeatures.WatchListClient: false, clientfeatures.InOrderInformers: true, clientfeatures.ClientsAllowCBOR: false}
	noEnv := func(string) (string, bool) { return "", false }
	g, replaced := withWatchList(under, noEnv)
	assert.True(t, replaced)
	assert.True(t, g.Enabled(clientfeatures.WatchListClient))
	assert.True(t, g.Enabled(clientfeatures.InOrderInformers))
	assert.False(t, g.Enabled(clientfeatures.ClientsAllowCBOR))

	for _, v := range []string{"false", "true"} {
		env := func(k string) (string, bool) { return v, k == watchListEnv }
		g, replaced := withWatchList(under, env)
		assert.False(t, replaced, "KUBE_FEATURE_WatchListClient=%s", v)
		assert.Equal(t, clientfeatures.Gates(under), g)
	}
}
