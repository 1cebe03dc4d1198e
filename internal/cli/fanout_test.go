package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func fanout(t *testing.T, targets string, extra ...string) *clitest.Process {
	return clitest.Cmdline(t, append(append([]string{"--targets", targets}, clitest.Fast...), extra...)...)
}

type results struct {
	Status  string
	Results []struct {
		ProjectSlug string `json:"project-slug"`
		ID          string
		Status      string
		ExitCode    int `json:"exit_code"`
		Error       string
		Number      int
		Workflows   []struct{ Name, Status string }
	}
}

func parseResults(t *testing.T, s string) results {
	t.Helper()
	var r results
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return r
}

func TestFanoutAllSucceed(t *testing.T) {
	t.Parallel()
	r := fanout(t, `[{"project-slug":"gh/acme/api","parameters":{"env":"prod"}},{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/mobile","branch":"main"}]`, "--json").Run()
	r.Expect(t, 0, "[gh/acme/web]", "[gh/acme/mobile]", "TARGET")
	res := parseResults(t, r.Stdout)
	if res.Status != "success" || len(res.Results) != 3 {
		t.Fatalf("results = %+v", res)
	}
	for _, x := range res.Results {
		if x.Status != "success" || x.ExitCode != 0 || x.Number != 1 || len(x.Workflows) == 0 {
			t.Errorf("%+v", x)
		}
	}
	if got := clitest.JSONOf(clitest.Body(t, r.Requests("POST", "/project/gh/acme/api/pipeline")[0])); got != `{"parameters":{"env":"prod"}}` {
		t.Errorf("api body = %s", got)
	}
}

func TestFanoutOneFailsOneMissing(t *testing.T) {
	t.Parallel()
	r := fanout(t, `[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/failing"},{"project-slug":"gh/acme/nope"}]`, "--json").Run()
	// Not found (5) is more severe than a failure (1).
	r.Expect(t, 5, "circleci-trigger: trigger gh/acme/nope on the default branch: POST /project/gh/acme/nope/pipeline: 404", "pipeline failed: tests failed")
	res := parseResults(t, r.Stdout)
	codes := map[string]int{}
	for _, x := range res.Results {
		codes[x.ProjectSlug] = x.ExitCode
	}
	if codes["gh/acme/web"] != 0 || codes["gh/acme/failing"] != 1 || codes["gh/acme/nope"] != 5 || res.Status != "not-triggered" {
		t.Errorf("codes = %v, status %s", codes, res.Status)
	}
	if !regexp.MustCompile(`gh/acme/nope +- +not-triggered +trigger gh/acme/nope .*Project not found`).MatchString(r.Stderr) {
		t.Errorf("the table does not say which target failed and why:\n%s", r.Stderr)
	}
}

func TestFanoutSharesRateLimits(t *testing.T) {
	t.Parallel()
	p := fanout(t, `[{"project-slug":"gh/acme/api"},{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/mobile"}]`)
	p.Scenario = clitest.WithFaults(circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 429, RetryAfter: "1", Skip: 2, Count: 1})
	r := p.Run()
	r.Expect(t, 0, "429")
	reqs := r.Sim.Requests()
	for i, q := range reqs {
		if !q.Fault {
			continue
		}
		// Every worker waits: no request within Retry-After, but for those
		// already in flight when the 429 was answered.
		for _, next := range reqs[i+1:] {
			if gap := next.At - q.At; gap > 100*time.Millisecond && gap < 900*time.Millisecond {
				t.Errorf("%s %s only %s after the 429", next.Method, next.Path, gap)
			}
		}
	}
}

func TestFanoutFailFast(t *testing.T) {
	t.Parallel()
	r := fanout(t, `[{"project-slug":"gh/acme/slow"},{"project-slug":"gh/acme/failing"}]`, "--fail-fast", "--json").Run()
	r.Expect(t, 1, "stopped because another target failed")
	res := parseResults(t, r.Stdout)
	if res.Results[0].Status != "running" || res.Results[0].ExitCode != 6 || res.Results[1].ExitCode != 1 {
		t.Errorf("results = %+v", res.Results)
	}
	if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 0 {
		t.Errorf("fail-fast canceled %d workflows; only cancel-on-exit cancels", n)
	}
}

func TestFanoutFiftyTargetsFromAFile(t *testing.T) {
	t.Parallel()
	sc := &circlecitest.Scenario{Tokens: []string{clitest.Token}}
	var targets []string
	for i := range 50 {
		slug := fmt.Sprintf("gh/acme/svc%d", i)
		sc.Projects = append(sc.Projects, circlecitest.Project{Slug: slug,
			Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{{Name: "build", Duration: circlecitest.Duration(300 * time.Millisecond)}}}})
		targets = append(targets, fmt.Sprintf(`{"project-slug":%q,"parameters":{"n":%d}}`, slug, i))
	}
	file := filepath.Join(t.TempDir(), "targets.json")
	os.WriteFile(file, []byte("["+strings.Join(targets, ",\n")+"]"), 0o600)
	p := fanout(t, file, "--json")
	p.Scenario = sc
	// Undeclared parameters: each pipeline errors, each target says so.
	r := p.Run()
	r.Expect(t, 1)
	res := parseResults(t, r.Stdout)
	if len(res.Results) != 50 {
		t.Fatalf("%d results", len(res.Results))
	}
	for _, x := range res.Results {
		if x.Status != "errored" || !strings.Contains(x.Error, "Unexpected argument(s): n") {
			t.Errorf("%+v", x)
		}
	}
	if n := len(r.Requests("POST", "*")); n != 50 {
		t.Errorf("%d POSTs, want 50", n)
	}
}
