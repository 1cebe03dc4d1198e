package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// The library as another module uses it: examples/library requires this
// module through a replace directive, triggers and waits.
func TestLibraryFromAnotherModule(t *testing.T) {
	t.Parallel()
	sc := clitest.World()
	sc.Projects = append(sc.Projects, circlecitest.Project{Slug: "gh/acme/e2e", Parameters: map[string]string{"suite": "string"},
		Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{{Name: "smoke", Duration: circlecitest.Duration(1500 * time.Millisecond)}}}})
	s, host := simtest.Start(t, sc, nil)
	cmd := exec.Command("go", "run", ".", "gh/acme/e2e", "main")
	cmd.Dir = "examples/library"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CIRCLE_HOST="+host, "CIRCLE_TOKEN="+clitest.Token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"triggered pipeline #1", "smoke running", "smoke success", "pipeline #1: success"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if q := s.Matching("POST", "/project/gh/acme/e2e/pipeline"); len(q) != 1 || string(q[0].Body) != `{"branch":"main","parameters":{"suite":"smoke"}}` {
		t.Errorf("triggers: %v", q)
	}
}
