package orb_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"gopkg.in/yaml.v3"
)

// The README's orb quick start, rehearsed against the demo: the job's
// parameters as written there, over the job's defaults, run by the orb's
// command script.
func TestReadmeOrbQuickStart(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Quick start: CircleCI orb\n")
	_, block, _ := strings.Cut(section, "```yaml\n")
	block, _, _ = strings.Cut(block, "```")
	var config struct {
		Workflows map[string]struct {
			Jobs []any `yaml:"jobs"` // a name, or {name: parameters}
		} `yaml:"workflows"`
	}
	if err := yaml.Unmarshal([]byte(block), &config); err != nil {
		t.Fatalf("the orb quick start: %v\n%s", err, block)
	}
	var given map[string]any
	for _, wf := range config.Workflows {
		for _, j := range wf.Jobs {
			if m, ok := j.(map[string]any); ok && m["trigger/trigger"] != nil {
				given, _ = m["trigger/trigger"].(map[string]any)
			}
		}
	}
	if given == nil {
		t.Fatalf("no trigger/trigger job in the orb quick start:\n%s", block)
	}
	params := map[string]string{}
	for name, p := range readOrb(t).Jobs["trigger"].Parameters {
		if name != "executor" && name != "parallelism" {
			params[name] = fmt.Sprint(p.Default)
		}
	}
	for name, v := range given {
		if name != "requires" && name != "context" {
			params[name] = strings.ReplaceAll(fmt.Sprint(v), "<< pipeline.number >>", "42")
		}
	}
	demo, err := circlecitest.Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	s := orb(t, params, pathWithBinary(t)).with("CIRCLE_TOKEN", demo.Tokens[0])
	s.world = "demo"
	r := s.run()
	// In the demo gh/acme/mobile fails: the job fails with it.
	r.expect(t, 1, "gh/acme/mobile", "failed")
	for _, target := range []struct{ path, body string }{
		{"/project/gh/acme/web/pipeline", `{"parameters":{"upstream":42}}`},
		{"/project/gh/acme/mobile/pipeline", `{"branch":"release","parameters":{"upstream":42}}`},
	} {
		q := r.requests("POST", target.path)
		if len(q) != 1 || string(q[0].Body) != target.body {
			t.Errorf("POST %s: %+v, want one with %s", target.path, q, target.body)
		}
	}
}
