package live

import (
	"os"
	"sync"

	clientfeatures "k8s.io/client-go/features"
)

// watchListEnv is the variable client-go reads the WatchListClient gate from.
const watchListEnv = "KUBE_FEATURE_WatchListClient"

var watchListOnce sync.Once

// UseWatchList makes the informers' initial lists streaming lists (client-go's
// WatchListClient: a watch with sendInitialEvents=true, ended by a bookmark) unless the
// environment sets KUBE_FEATURE_WatchListClient. client-go 1.34 ships the gate off
// (k8s.io/client-go/features/known_features.go: Beta, default false); the API server
// serves streaming lists by default from 1.34 (k8s.io/apiserver pkg/features WatchList:
// Beta, default true in 1.32, false in 1.33, true again in 1.34). Where the server does
// not serve them (an older server, or the feature off), the reflector gets an error
// and lists as before, page by page (client-go tools/cache/reflector.go
// ListAndWatchWithContext: "falling back to the standard LIST/WATCH semantics").
// Readiness is unchanged: an informer reports synced only once its initial objects are
// all in its store, whichever way they came.
//
// Call it before any client is built: client-go warns when its gates are replaced after
// they were first read.
func UseWatchList() {
	watchListOnce.Do(func() {
		if g, replaced := withWatchList(clientfeatures.FeatureGates(), os.LookupEnv); replaced {
			clientfeatures.ReplaceFeatureGates(g)
		}
	})
}

// withWatchList returns g with WatchListClient on, unless the environment (lookupEnv)
// sets the gate: then g itself, and replaced is false.
func withWatchList(g clientfeatures.Gates, lookupEnv func(string) (string, bool)) (_ clientfeatures.Gates, replaced bool) {
	if _, set := lookupEnv(watchListEnv); set {
		return g, false
	}
	return watchListGates{g}, true
}

// watchListGates are client-go's gates with WatchListClient on; every other gate is
// read as before (from the environment).
type watchListGates struct{ clientfeatures.Gates }

func (g watchListGates) Enabled(f clientfeatures.Feature) bool {
	if f == clientfeatures.WatchListClient {
		return true
	}
	return g.Gates.Enabled(f)
}
