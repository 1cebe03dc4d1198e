package cli

import (
	"runtime/debug"
	"strings"
)

// Version is the version to show: set at release time with -ldflags
// "-X main.version=…"; else, for `go install …@v1.2.3`, the module
// version; else the VCS revision the binary was built from.
func Version(ldflags string) string {
	if ldflags != "" {
		return ldflags
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	return versionOf(info)
}

func versionOf(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return "dev-" + rev[:min(len(rev), 12)] + modified
}
