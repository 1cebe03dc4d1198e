package circlecitest

import (
	"embed"
	"fmt"
	"io/fs"
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
		if !strings.ContainsAny(name, "/.") {
			return nil, fmt.Errorf("no scenario %q: give a built-in one (%s) or a JSON file", name, strings.Join(Builtins(), ", "))
		}
		return nil, err
	}
	return Load(name)
}

// Builtins are the names of the built-in scenarios, sorted.
func Builtins() []string {
	names, _ := fs.Glob(builtin, "scenarios/*.json")
	for i, n := range names {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(n, "scenarios/"), ".json")
	}
	return names
}
