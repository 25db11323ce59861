package version

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := map[string]struct {
		bi        *debug.BuildInfo
		stamp     [2]string
		want      Info
		wantShort string
	}{
		"go run: no build info of the checkout": {
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, want: Info{Version: "dev", Revision: "unknown"},
			wantShort: "dev (revision unknown, ",
		},
		"go build in a modified checkout": {
			bi:        &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207231314-0123456789ab+dirty"}, Settings: vcs("vcs.revision", "0123456789abcdef0123", "vcs.modified", "true", "vcs.time", "2026-12-07T23:13:14Z")},
			want:      Info{Version: "v0.0.0-20261207231314-0123456789ab+dirty", Revision: "0123456789abcdef0123", Modified: true, Time: "2026-12-07T23:13:14Z"},
			wantShort: "v0.0.0-20261207231314-0123456789ab+dirty (revision 0123456789ab, modified, ",
		},
		"go install at a tag": {
			bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, want: Info{Version: "v1.2.3", Revision: "unknown"},
			wantShort: "v1.2.3 (revision unknown, ",
		},
		"a release stamps both": {
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "ffff")}, stamp: [2]string{"v1.3.0", "abcd"},
			want: Info{Version: "v1.3.0", Revision: "abcd"}, wantShort: "v1.3.0 (revision abcd, ",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := fromBuildInfo(tc.bi, tc.stamp[0], tc.stamp[1])
			got.GoVersion = ""
			assert.Equal(t, tc.want, got)
			assert.Contains(t, got.String(), tc.wantShort)
		})
	}
}
