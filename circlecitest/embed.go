package circlecitest

import (
	"embed"
	"os"
	"strings"
)

//go:embed scenarios/*.json
var builtin embed.FS

// Open reads a scenario: a built-in one by name ("demo", or "hostile" for a
// server that does everything a client must survive), else a file.
func Open(name string) (*Scenario, error) {
	if !strings.ContainsAny(name, "/.") {
		if b, err := builtin.ReadFile("scenarios/" + name + ".json"); err == nil {
			return Parse(b)
		}
	}
	if _, err := os.Stat(name); err != nil {
		return nil, err
	}
	return Load(name)
}
