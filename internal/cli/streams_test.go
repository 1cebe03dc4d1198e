package cli_test

// The command as people and scripts meet it: results on stdout, progress
// and warnings on stderr, one JSON object with the same keys in every
// outcome, every input problem at once, one wording per mistake.

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// Results on stdout, progress on stderr: URL=$(circleci-trigger …) works.
func TestResultsOnStdoutProgressOnStderr(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/api").Run()
	r.Expect(t, 0)
	if !regexp.MustCompile(`^Pipeline #1 of gh/acme/api on the default branch triggered: \S+/pipelines/github/acme/api/1\n$`).MatchString(r.Stdout) || r.Stderr != "" {
		t.Errorf("a trigger: stdout %q, stderr %q; want the trigger line on stdout alone", r.Stdout, r.Stderr)
	}
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/flaky", "--wait", "--artifacts")
	p.Scenario = circlecitest.MustParse(rerunsJSON)
	r = p.Run()
	r.Expect(t, 1)
	for _, want := range []string{"Pipeline #1 of gh/acme/flaky", "WORKFLOW", "ARTIFACT", "dist/app.tar.gz"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	for _, want := range []string{"pipeline created", "build                    running", "tests                    failed"} {
		if !strings.Contains(r.Stderr, want) || strings.Contains(r.Stdout, want) {
			t.Errorf("progress %q belongs on stderr alone:\nstdout:\n%s\nstderr:\n%s", want, r.Stdout, r.Stderr)
		}
	}
}

// topKeys are the keys of the top level of --json: the same in every
// outcome of a run of one kind.
var topKeys = []string{"created_at", "error", "exit_code", "id", "message", "number", "state", "status", "url", "workflows"}

func keysOf(t *testing.T, stdout string) (map[string]any, []string) {
	t.Helper()
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&out); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object (%v):\n%s", err, stdout)
	}
	return out, slices.Sorted(maps.Keys(out))
}

// --json: one object on stdout in every outcome, bad input and API errors
// included, with the same keys every time.
func TestJSONInEveryOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		p      *clitest.Process
		code   int
		status string
	}{
		{"bad input", clitest.Cmdline(t, "--json", "--project-slug", "foo"), 2, "bad-input"},
		{"an unknown flag", clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wiat", "--json"), 2, "bad-input"},
		{"a wrong token", clitest.Cmdline(t, "--json", "--project-slug", "gh/acme/api").With("CIRCLE_TOKEN", "fake-wrong-token"), 3, "not-triggered"},
		{"an unknown project", clitest.Cmdline(t, "--json", "--project-slug", "gh/acme/nope"), 5, "not-triggered"},
		{"triggered", clitest.Cmdline(t, "--json", "--project-slug", "gh/acme/api"), 0, "triggered"},
		{"failed", clitest.Cmdline(t, "--json", "--project-slug", "gh/acme/failing", "--wait"), 1, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p.Run()
			r.Expect(t, tc.code)
			out, keys := keysOf(t, r.Stdout)
			if !slices.Equal(keys, topKeys) {
				t.Errorf("keys %v, want %v", keys, topKeys)
			}
			if out["status"] != tc.status || out["exit_code"] != float64(tc.code) || (tc.code != 0) != (out["error"] != "") {
				t.Errorf("status %v, exit_code %v, error %q", out["status"], out["exit_code"], out["error"])
			}
			if tc.code >= 2 && out["number"] != nil {
				t.Errorf("number %v with no pipeline, want null", out["number"])
			}
			if strings.Contains(r.Stdout, `\u003c`) {
				t.Errorf("< escaped, which a reader of the JSON sees as is:\n%s", r.Stdout)
			}
		})
	}
}

// Every input problem is reported at once.
func TestEveryInputProblemAtOnce(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "foo", "--branch", "main", "--tag", "v1").Run()
	r.Expect(t, 2, `project slug "foo" must have three parts`, "branch and tag are exclusive")
	r = clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--parameters", `{"x":1.5,"y":null}`).Run()
	r.Expect(t, 2, `"x" is 1.5`, `"y" is null`)
}

// One wording per kind of mistake, and flags spelled as the user types them.
func TestOneWordingPerMistake(t *testing.T) {
	t.Parallel()
	a := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "-5").Run()
	b := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "-5m").Run()
	a.Expect(t, 2, `timeout: "-5" must be more than zero`)
	b.Expect(t, 2, `timeout: "-5m" must be more than zero`)
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--param", "deploy").Run()
	r.Expect(t, 2, `--param "deploy": not key=value`)
	if strings.Contains(r.Stderr, " -param") {
		t.Errorf("a flag spelled with one dash:\n%s", r.Stderr)
	}
}

// After a stop that canceled workflows, the table and the workflows
// output show what CircleCI says then, not the last poll.
func TestFinalPictureAfterACancel(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit", "--json")
	p.Scenario = clitest.SlowWorld()
	p.InterruptOn = func(q circlecitest.Request) bool { return q.At > 10*time.Second }
	r := p.Run()
	clitest.CanceledAll(t, r, 3)
	out, _ := keysOf(t, r.Stdout)
	for _, w := range out["workflows"].([]any) {
		if st := w.(map[string]any)["status"]; st != "canceled" {
			t.Errorf("workflow %v is %v in the output", w.(map[string]any)["name"], st)
		}
	}
	_, table, _ := strings.Cut(r.Stderr, "WORKFLOW")
	table, _, _ = strings.Cut(table, "warning:")
	if strings.Contains(table, "running") || strings.Count(table, "canceled  ") != 3 {
		t.Errorf("the table shows the last poll:\n%s", table)
	}
}

// A timeout shows what the workflows still wait on: in the table, the
// approval a held one waits for and the failed job of a failing one; the
// failed job in the workflows output too.
func TestTimeoutShowsWhatWorkflowsWaitOn(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--project-slug", "gh/acme/held", "--wait", "--timeout", "20s").Run()
	r.Expect(t, 8, "  job approve  on_hold")
	r = clitest.Cmdline(t, "--project-slug", "gh/acme/failing", "--wait", "--timeout", "20s").Run()
	r.Expect(t, 8, "  job e2e  failed")
	r = clitest.Cmdline(t, "--project-slug", "gh/acme/failing", "--wait", "--timeout", "20s", "--json").Run()
	var out struct {
		Workflows []struct {
			FailedJobs []struct{ Name, Status string } `json:"failed_jobs"`
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatal(err)
	}
	var jobs []string
	for _, w := range out.Workflows {
		for _, j := range w.FailedJobs {
			jobs = append(jobs, j.Name+" "+j.Status)
		}
	}
	if !slices.Equal(jobs, []string{"e2e failed"}) {
		t.Errorf("timed out while failing: failed jobs %v, want e2e failed", jobs)
	}
}
