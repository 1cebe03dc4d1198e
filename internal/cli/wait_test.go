package cli_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func waitFor(t *testing.T, slug string, extra ...string) *clitest.Process {
	return clitest.Cmdline(t, append(append([]string{"--project-slug", slug}, clitest.Fast...), extra...)...)
}

func TestWaitOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		p     func(*testing.T) *clitest.Process
		code  int
		want  []string
		check func(*testing.T, clitest.Result)
	}{
		{"success", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/api") }, 0,
			[]string{"build                    running", "build                    success", "WORKFLOW", "lint"}, nil},
		{"one of several failed", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/failing") }, 1,
			[]string{"tests                    failing", "pipeline failed: tests failed", "job e2e", "/jobs/"}, func(t *testing.T, r clitest.Result) {
				if strings.Contains(r.Stdout, "job unit") {
					t.Error("a job that succeeded is listed")
				}
			}},
		{"failing with fail-fast", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/failing", "--fail-fast") }, 1,
			[]string{"tests failing"}, func(t *testing.T, r clitest.Result) {
				if strings.Contains(r.Stderr, "tests                    failed") {
					t.Error("fail-fast waited for the workflow to finish")
				}
			}},
		{"on hold, succeed", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/held", "--on-hold", "succeed") }, 0,
			[]string{"deploy", "on_hold", "job approve"}, nil},
		{"on hold, fail", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/held", "--on-hold", "fail") }, 1,
			[]string{"on hold and on-hold is fail"}, nil},
		{"on hold, wait", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/held", "--timeout", "10s") }, 8,
			[]string{"timed out while waiting for deploy=on_hold"}, nil},
		{"not_run does not fail", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/skipped") }, 0, []string{"nightly", "not_run"}, nil},
		{"canceled downstream", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/canceled") }, 6, []string{"pipeline canceled: build canceled"}, nil},
		{"errored pipeline", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/errored") }, 1, []string{"pipeline errored: config: Unexpected argument(s): foo"}, nil},
		{"dynamic config continuation fails", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/dynamic") }, 1,
			[]string{"setup                    success", "deploy                   failed", "job apply"}, nil},
		{"no workflow at all", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/empty") }, 0,
			[]string{"finished without running any workflow", "(no workflow)"}, nil},
		{"rerun replaces the failed run", func(t *testing.T) *clitest.Process {
			return waitFor(t, "gh/acme/rerun", "--poll-interval", "1s", "--max-poll-interval", "1s")
		}, 0,
			nil, func(t *testing.T, r clitest.Result) {
				if strings.Count(r.Stdout, "build") != 1 || !strings.Contains(r.Stdout, "success") {
					t.Errorf("table should have the rerun only:\n%s", r.Stdout)
				}
			}},
		{"workflows over several pages", func(t *testing.T) *clitest.Process {
			p := waitFor(t, "gh/acme/many")
			p.Scenario = clitest.World()
			p.Scenario.PageSize = 2
			return p
		}, 1, []string{"w1", "w5                       failed"}, func(t *testing.T, r clitest.Result) {
			followed := 0
			for _, q := range r.Requests("GET", "/pipeline/*/workflow") {
				if strings.Contains(q.Query, "page-token=") {
					followed++
				}
			}
			if followed == 0 {
				t.Error("no page token was followed")
			}
		}},
		{"429 with Retry-After", func(t *testing.T) *clitest.Process {
			p := waitFor(t, "gh/acme/api")
			p.Scenario = clitest.WithFaults(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 429, RetryAfter: "1", Body: "Rate limited.", Count: 1})
			return p
		}, 0, []string{"429 Too Many Requests: Rate limited.", "still waiting"}, func(t *testing.T, r clitest.Result) {
			reqs := r.Sim.Requests()
			for i, q := range reqs {
				if q.Fault && i+1 < len(reqs) && reqs[i+1].At-q.At < time.Second {
					t.Errorf("next request %s after the 429, want at least 1s", reqs[i+1].At-q.At)
				}
			}
		}},
		{"burst of 503s", func(t *testing.T) *clitest.Process {
			p := waitFor(t, "gh/acme/api")
			p.Scenario = clitest.WithFaults(circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 503, Count: 5})
			return p
		}, 0, []string{"503 Service Unavailable", "the API answers again"}, nil},
		{"timeout without cancel", func(t *testing.T) *clitest.Process { return waitFor(t, "gh/acme/slow", "--timeout", "1500ms") }, 8,
			[]string{"timed out while waiting for build=running"}, func(t *testing.T, r clitest.Result) {
				if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 0 {
					t.Errorf("%d cancel requests without cancel-on-exit", n)
				}
			}},
		{"timeout with cancel-on-exit", func(t *testing.T) *clitest.Process {
			return waitFor(t, "gh/acme/slow", "--timeout", "1500ms", "--cancel-on-exit")
		}, 8, []string{"canceled workflow build (cancel-on-exit)"}, func(t *testing.T, r clitest.Result) {
			if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 1 {
				t.Errorf("%d cancel requests, want 1 (docs had finished)", n)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).Run()
			r.Expect(t, tc.code, tc.want...)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestGitHubWaitSummaryAndOutputs(t *testing.T) {
	t.Parallel()
	r := clitest.GitHub(t, map[string]string{"project-slug": "gh/acme/failing", "wait": "true", "poll-interval": "1s", "max-poll-interval": "5s"}).Run()
	r.Expect(t, 1, "::group::Waiting for CircleCI", "::endgroup::", "::error::pipeline #1 of gh/acme/failing: pipeline failed: tests failed")
	if r.Outputs["status"] != "failed" {
		t.Errorf("status output = %q", r.Outputs["status"])
	}
	var wfs []struct{ Name, ID, Status, URL string }
	if err := json.Unmarshal([]byte(r.Outputs["workflows"]), &wfs); err != nil || len(wfs) != 2 {
		t.Fatalf("workflows output = %q (%v)", r.Outputs["workflows"], err)
	}
	for _, want := range []string{"| Workflow | Status | Duration |", "[tests](", "| failed |", "job e2e"} {
		if !strings.Contains(r.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.Summary)
		}
	}
	// Progress is one line per change, not per poll.
	if n := strings.Count(r.Stdout, "tests                    failing"); n != 1 {
		t.Errorf("'tests failing' printed %d times:\n%s", n, r.Stdout)
	}
}

// A pipeline where nothing ran is not a success: its status says so, the
// table says so, and GitHub shows a warning.
func TestNothingRanIsNotSuccess(t *testing.T) {
	t.Parallel()
	r := clitest.GitHub(t, map[string]string{"project-slug": "gh/acme/empty", "wait": "true"}).Run()
	r.Expect(t, 0, "::warning::pipeline #1 finished without running any workflow", "(no workflow)  no-workflows")
	if r.Outputs["status"] != "no-workflows" || !strings.Contains(r.Summary, "⚠️ no-workflows") {
		t.Errorf("status output %q, summary:\n%s", r.Outputs["status"], r.Summary)
	}
	r = clitest.Cmdline(t, "--project-slug", "gh/acme/empty", "--wait", "--json").Run()
	if r.Code != 0 || !strings.Contains(r.Stdout, `"status": "no-workflows"`) {
		t.Errorf("--json: %d\n%s", r.Code, r.Stdout)
	}
}

// A hold speaks: what it waits for, how to approve, the on-hold choices,
// and reminders a user would expect (after a minute, then every five);
// the table tells how long it has been on hold.
func TestLongHoldSpeaks(t *testing.T) {
	t.Parallel()
	r := waitFor(t, "gh/acme/held", "--timeout", "12m").Run()
	r.Expect(t, 8, "deploy is on hold, waiting for approval: approve it at http://127.0.0.1:1/pipelines/github/acme/held/1/workflows/",
		"or set on-hold to succeed or fail not to wait")
	if n := strings.Count(r.Stderr, "waiting for approval"); n != 1 {
		t.Errorf("the hold's hint %d times, want once:\n%s", n, r.Stderr)
	}
	reminders := regexp.MustCompile(`(?m)^(\d+):\d\d  still waiting for deploy=on_hold \(approve it at http\S+\)$`).FindAllStringSubmatch(r.Stderr, -1)
	var minutes []string
	for _, m := range reminders {
		minutes = append(minutes, m[1])
	}
	if strings.Join(minutes, ",") != "1,6,11" {
		t.Errorf("reminders at minutes %v, want 1, 6, 11:\n%s", minutes, r.Stderr)
	}
	if !regexp.MustCompile(`deploy\s+on_hold\s+on hold 1[12]m\d+s`).MatchString(r.Stdout) {
		t.Errorf("the table's duration of the held workflow:\n%s", r.Stdout)
	}
}
