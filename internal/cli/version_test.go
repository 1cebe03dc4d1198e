package cli

import (
	"runtime/debug"
	"testing"
)

// The version a binary shows: a release's from -ldflags, a `go install
// …@v1.2.3`'s from its module, a checkout's build from its revision.
func TestVersion(t *testing.T) {
	t.Parallel()
	if got := Version("1.4.0"); got != "1.4.0" {
		t.Errorf("Version(1.4.0) = %q", got)
	}
	setting := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "1.2.3"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261123053941-9c801c225871"}}, "0.0.0-20261123053941-9c801c225871"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: setting("vcs.revision", "9c801c225871d6eb05e2", "vcs.modified", "false")}, "dev-9c801c225871"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: setting("vcs.revision", "9c801c2", "vcs.modified", "true")}, "dev-9c801c2-dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
	} {
		if got := versionOf(&tc.info); got != tc.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tc.info.Main, got, tc.want)
		}
	}
}
