// Package version reports the build's version, stamped with -ldflags -X at release and
// read from the Go build info otherwise: `go install module@v1.2.3` records the tag,
// `go build` in a checkout the commit, its time and whether the tree was modified.
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
	// Modified: built from a checkout with uncommitted changes (vcs.modified).
	Modified bool `json:"modified,omitempty"`
	// Time is the commit's time (vcs.time), when the build recorded it.
	Time string `json:"time,omitempty"`
}

// Get returns the build's version information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, Version, Revision)
}

// fromBuildInfo is Get over given build info and stamped values.
func fromBuildInfo(bi *debug.BuildInfo, stampedVersion, stampedRevision string) Info {
	i := Info{Version: stampedVersion, Revision: stampedRevision, GoVersion: runtime.Version()}
	if bi != nil {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if i.Revision == "" {
					i.Revision = s.Value
				}
			case "vcs.modified":
				i.Modified = s.Value == "true"
			case "vcs.time":
				i.Time = s.Value
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

// String is the one-line form `version` and `--version` print:
// "v1.2.3 (revision 0123abc, modified, go1.26.8)".
func (i Info) String() string {
	rev := i.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	s := i.Version + " (revision " + rev
	if i.Modified {
		s += ", modified"
	}
	return s + ", " + i.GoVersion + ")"
}
