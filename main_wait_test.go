package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

// fast: the shortest polls the command accepts (time is fake in-process).
var fast = []string{"--wait", "--poll-interval", "1s", "--max-poll-interval", "5s"}

func waitFor(t *testing.T, slug string, extra ...string) *process {
	return cmdline(t, append(append([]string{"--project-slug", slug}, fast...), extra...)...)
}

func TestWaitOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		p     func(*testing.T) *process
		code  int
		want  []string
		check func(*testing.T, result)
	}{
		{"success", func(t *testing.T) *process { return waitFor(t, "gh/acme/api") }, 0,
			[]string{"build                    running", "build                    success", "WORKFLOW", "lint"}, nil},
		{"one of several failed", func(t *testing.T) *process { return waitFor(t, "gh/acme/failing") }, 1,
			[]string{"tests                    failing", "pipeline failed: tests failed", "job e2e", "/jobs/"}, func(t *testing.T, r result) {
				if strings.Contains(r.stdout, "job unit") {
					t.Error("a job that succeeded is listed")
				}
			}},
		{"failing with fail-fast", func(t *testing.T) *process { return waitFor(t, "gh/acme/failing", "--fail-fast") }, 1,
			[]string{"tests failing"}, func(t *testing.T, r result) {
				if strings.Contains(r.stderr, "tests                    failed") {
					t.Error("fail-fast waited for the workflow to finish")
				}
			}},
		{"on hold, succeed", func(t *testing.T) *process { return waitFor(t, "gh/acme/held", "--on-hold", "succeed") }, 0,
			[]string{"deploy", "on_hold", "job approve"}, nil},
		{"on hold, fail", func(t *testing.T) *process { return waitFor(t, "gh/acme/held", "--on-hold", "fail") }, 1,
			[]string{"on hold and on-hold is fail"}, nil},
		{"on hold, wait", func(t *testing.T) *process { return waitFor(t, "gh/acme/held", "--timeout", "10s") }, 8,
			[]string{"timed out while waiting for deploy=on_hold"}, nil},
		{"not_run does not fail", func(t *testing.T) *process { return waitFor(t, "gh/acme/skipped") }, 0, []string{"nightly", "not_run"}, nil},
		{"canceled downstream", func(t *testing.T) *process { return waitFor(t, "gh/acme/canceled") }, 6, []string{"pipeline canceled: build canceled"}, nil},
		{"errored pipeline", func(t *testing.T) *process { return waitFor(t, "gh/acme/errored") }, 1, []string{"pipeline errored: config: Unexpected argument(s): foo"}, nil},
		{"dynamic config continuation fails", func(t *testing.T) *process { return waitFor(t, "gh/acme/dynamic") }, 1,
			[]string{"setup                    success", "deploy                   failed", "job apply"}, nil},
		{"no workflow at all", func(t *testing.T) *process { return waitFor(t, "gh/acme/empty") }, 0,
			[]string{"finished without running any workflow", "(no workflow)"}, nil},
		{"rerun replaces the failed run", func(t *testing.T) *process {
			return waitFor(t, "gh/acme/rerun", "--poll-interval", "1s", "--max-poll-interval", "1s")
		}, 0,
			nil, func(t *testing.T, r result) {
				if strings.Count(r.stdout, "build") != 1 || !strings.Contains(r.stdout, "success") {
					t.Errorf("table should have the rerun only:\n%s", r.stdout)
				}
			}},
		{"workflows over several pages", func(t *testing.T) *process {
			p := waitFor(t, "gh/acme/many")
			p.scenario = world()
			p.scenario.PageSize = 2
			return p
		}, 1, []string{"w1", "w5                       failed"}, func(t *testing.T, r result) {
			followed := 0
			for _, q := range r.requests("GET", "/pipeline/*/workflow") {
				if strings.Contains(q.Query, "page-token=") {
					followed++
				}
			}
			if followed == 0 {
				t.Error("no page token was followed")
			}
		}},
		{"429 with Retry-After", func(t *testing.T) *process {
			p := waitFor(t, "gh/acme/api")
			p.scenario = withFaults(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 429, RetryAfter: "1", Body: "Rate limited.", Count: 1})
			return p
		}, 0, []string{"429 Too Many Requests: Rate limited.", "still waiting"}, func(t *testing.T, r result) {
			reqs := r.sim.Requests()
			for i, q := range reqs {
				if q.Fault && i+1 < len(reqs) && reqs[i+1].At-q.At < time.Second {
					t.Errorf("next request %s after the 429, want at least 1s", reqs[i+1].At-q.At)
				}
			}
		}},
		{"burst of 503s", func(t *testing.T) *process {
			p := waitFor(t, "gh/acme/api")
			p.scenario = withFaults(circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 503, Count: 5})
			return p
		}, 0, []string{"503 Service Unavailable", "the API answers again"}, nil},
		{"timeout without cancel", func(t *testing.T) *process { return waitFor(t, "gh/acme/slow", "--timeout", "1500ms") }, 8,
			[]string{"timed out while waiting for build=running"}, func(t *testing.T, r result) {
				if n := len(r.requests("POST", "/workflow/*/cancel")); n != 0 {
					t.Errorf("%d cancel requests without cancel-on-exit", n)
				}
			}},
		{"timeout with cancel-on-exit", func(t *testing.T) *process {
			return waitFor(t, "gh/acme/slow", "--timeout", "1500ms", "--cancel-on-exit")
		}, 8, []string{"canceled workflow build (cancel-on-exit)"}, func(t *testing.T, r result) {
			if n := len(r.requests("POST", "/workflow/*/cancel")); n != 1 {
				t.Errorf("%d cancel requests, want 1 (docs had finished)", n)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.p(t).run()
			r.expect(t, tc.code, tc.want...)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// sigterm sends SIGTERM once the simulator has listed running workflows
// to the process want times.
func sigterm(t *testing.T, want int) func(*exec.Cmd, *circlecitest.Simulator) {
	return func(cmd *exec.Cmd, s *circlecitest.Simulator) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			n := 0
			for _, q := range s.Requests() {
				if strings.HasSuffix(q.Path, "/workflow") && q.At > time.Second {
					n++
				}
			}
			if n >= want {
				cmd.Process.Signal(syscall.SIGTERM)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Error("the process never polled")
	}
}

func TestSIGTERMMidWaitCancelsDownstream(t *testing.T) {
	t.Parallel()
	p := waitFor(t, "gh/acme/slow", "--cancel-on-exit")
	p.signal = sigterm(t, 1)
	r := p.run()
	r.expect(t, 6, "interrupted while waiting for build=running", "canceled workflow build")
	if n := len(r.requests("POST", "/workflow/*/cancel")); n != 1 {
		t.Errorf("%d cancel requests, want 1", n)
	}
}

func TestWaitForAnExistingPipeline(t *testing.T) {
	t.Parallel()
	s, host := simtest.Start(t, world(), nil)
	// Trigger without waiting, then wait by id.
	cmd := exec.Command(binary, "--project-slug", "gh/acme/web", "--json")
	cmd.Env = []string{"CIRCLE_HOST=" + host, "CIRCLE_TOKEN=" + token}
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var trig struct{ ID string }
	json.Unmarshal(b, &trig)
	cmd = exec.Command(binary, append([]string{"--pipeline-id", trig.ID}, fast[1:]...)...)
	cmd.Env = []string{"CIRCLE_HOST=" + host, "CIRCLE_TOKEN=" + token}
	b, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "build") || !strings.Contains(string(b), "success") {
		t.Fatalf("%v\n%s", err, b)
	}
	if n := s.PipelineCount("gh/acme/web"); n != 1 {
		t.Errorf("%d pipelines: waiting by id must not trigger", n)
	}
}

func TestGitHubWaitSummaryAndOutputs(t *testing.T) {
	t.Parallel()
	r := github(t, map[string]string{"project-slug": "gh/acme/failing", "wait": "true", "poll-interval": "1s", "max-poll-interval": "5s"}).run()
	r.expect(t, 1, "::group::Waiting for CircleCI", "::endgroup::", "::error::pipeline #1 of gh/acme/failing: pipeline failed: tests failed")
	if r.outputs["status"] != "failed" {
		t.Errorf("status output = %q", r.outputs["status"])
	}
	var wfs []struct{ Name, ID, Status, URL string }
	if err := json.Unmarshal([]byte(r.outputs["workflows"]), &wfs); err != nil || len(wfs) != 2 {
		t.Fatalf("workflows output = %q (%v)", r.outputs["workflows"], err)
	}
	for _, want := range []string{"| Workflow | Status | Duration |", "[tests](", "| failed |", "job e2e"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}
	// Progress is one line per change, not per poll.
	if n := strings.Count(r.stdout, "tests                    failing"); n != 1 {
		t.Errorf("'tests failing' printed %d times:\n%s", n, r.stdout)
	}
}

// A pipeline where nothing ran is not a success: its status says so, the
// table says so, and GitHub shows a warning.
func TestNothingRanIsNotSuccess(t *testing.T) {
	t.Parallel()
	r := github(t, map[string]string{"project-slug": "gh/acme/empty", "wait": "true"}).run()
	r.expect(t, 0, "::warning::pipeline #1 finished without running any workflow", "(no workflow)  no-workflows")
	if r.outputs["status"] != "no-workflows" || !strings.Contains(r.summary, "⚠️ no-workflows") {
		t.Errorf("status output %q, summary:\n%s", r.outputs["status"], r.summary)
	}
	r = cmdline(t, "--project-slug", "gh/acme/empty", "--wait", "--json").run()
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "no-workflows"`) {
		t.Errorf("--json: %d\n%s", r.code, r.stdout)
	}
}
