// Package version reports the build's version, stamped with -ldflags -X at release and
// read from the Go build info otherwise.
package version

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/llm-platform/enforcement-auditor/auditor/version.Version=v0.1.0 ..."
var (
	Version  = ""
	Revision = ""
)

// Info is what `enforcement-auditor version` prints and build_info exports.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"goVersion"`
}

// Get returns the build's version information.
func Get() Info {
	i := Info{Version: Version, Revision: Revision, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Revision == "" {
				i.Revision = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	if i.Revision == "" {
		i.Revision = "unknown"
	}
	return i
}
