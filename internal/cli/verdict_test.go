package cli_test

// The verdict in the long tail: what today's CircleCI does that older
// answers did not show (automatic reruns, pipelines created with errors,
// numbered approval jobs), and the rare interleavings of faults the fault
// schedule found. Each test failed for the reason it names before its fix.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// verdictJSON: workflows that CircleCI reruns by itself, pipelines that
// cannot run, and an approval job with a number.
const verdictJSON = `{
  "tokens": ["fake-token-3f9c2a71-not-real"],
  "projects": [
    {"slug": "gh/acme/flaky", "pipeline": {"workflows": [
       {"name": "lint", "duration": "5s"},
       {"name": "test", "duration": "30s", "status": "failed", "max_auto_reruns": 2,
        "jobs": [{"name": "unit", "status": "failed"}, {"name": "build", "status": "success"}],
        "reruns": [{"duration": "20s", "status": "success"}]}]}},
    {"slug": "gh/acme/exhausted", "pipeline": {"workflows": [
       {"name": "test", "duration": "30s", "status": "failed", "max_auto_reruns": 1,
        "jobs": [{"name": "unit", "status": "failed", "tests": [{"name": "TestLogin", "result": "failure", "message": "want 200"}]}],
        "reruns": [{"duration": "20s", "status": "failed"}, {"duration": "10s", "status": "success"}]}]}},
    {"slug": "gh/acme/declined", "pipeline": {"workflows": [
       {"name": "test", "duration": "30s", "status": "failed", "max_auto_reruns": 2, "decline_auto_reruns": true}]}},
    {"slug": "gh/acme/failing", "pipeline": {"workflows": [
       {"name": "test", "steps": [{"at": "0s", "status": "running"}, {"at": "10s", "status": "failing"}, {"at": "30s", "status": "failed"}],
        "max_auto_reruns": 1, "jobs": [{"name": "unit", "status": "failed"}], "reruns": [{"duration": "20s", "status": "success"}]}]}},
    {"slug": "gh/acme/no-credits", "pipeline": {"errors_state": "created",
       "errors": [{"type": "plan", "message": "This organization has run out of credits. Please add more."}]}},
    {"slug": "gh/acme/noted", "pipeline": {"errors_state": "created",
       "errors": [{"type": "config-fetch", "message": "Could not fetch the orb."}],
       "workflows": [{"name": "build", "duration": "3s"}]}},
    {"slug": "gh/acme/approval", "pipeline": {"workflows": [
       {"name": "build", "duration": "2s", "jobs": [{"name": "compile", "status": "success", "artifacts": [{"path": "app.tar.gz"}]}]},
       {"name": "deploy", "steps": [{"at": "0s", "status": "on_hold"}], "jobs": [{"name": "hold", "type": "approval", "status": "on_hold"}]}]}},
    {"slug": "gh/acme/hidden-setup", "pipeline": {"workflows": [
       {"name": "setup", "tag": "setup", "hide_tag": true, "duration": "6s"},
       {"name": "deploy", "appear": "8s", "duration": "5s", "status": "failed"}]}}
  ]
}`

func verdict(t *testing.T, args ...string) *clitest.Process {
	p := clitest.Cmdline(t, append(clitest.Fast, args...)...)
	p.Scenario = circlecitest.MustParse(verdictJSON)
	return p
}

// wf is a workflow of the --json output.
type wf struct {
	Name, ID, Status, URL string
	AutoRerunNumber       int `json:"auto_rerun_number"`
	MaxAutoReruns         int `json:"max_auto_reruns"`
	Runs                  []struct{ ID, Status, URL string }
}

func workflowsOf(t *testing.T, stdout string) (string, map[string]wf) {
	t.Helper()
	var out struct {
		Status    string
		Workflows []wf
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, stdout)
	}
	m := map[string]wf{}
	for _, w := range out.Workflows {
		m[w.Name] = w
	}
	return out.Status, m
}

// A workflow CircleCI reruns by itself: its first failure is not the
// verdict; the rerun's success is, and every output shows the attempts.
func TestAutomaticRerunDecidesTheVerdict(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/flaky", "--json").Run()
	r.Expect(t, 0, "test                     failed", "CircleCI reruns it automatically (1 of 2)", "rerun automatically (1 of 2)")
	status, wfs := workflowsOf(t, r.Stdout)
	test := wfs["test"]
	if status != "success" || test.Status != "success" || test.AutoRerunNumber != 1 || test.MaxAutoReruns != 2 ||
		len(test.Runs) != 1 || test.Runs[0].Status != "failed" || !strings.HasSuffix(test.Runs[0].URL, test.Runs[0].ID) {
		t.Errorf("status %s, test %+v", status, test)
	}
}

// The last allowed rerun fails: that is the verdict, at once, with the
// newest run's jobs and tests.
func TestLastAutomaticRerunFailsAtOnce(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/exhausted", "--json").Run()
	r.Expect(t, 1, "test failed", "TestLogin")
	status, wfs := workflowsOf(t, r.Stdout)
	if test := wfs["test"]; status != "failed" || test.AutoRerunNumber != 1 || len(test.Runs) != 1 {
		t.Errorf("status %s, test %+v: the verdict must be the last run's", status, test)
	}
	// The rerun failed 52.5s in; polls are at most 5s apart, and no grace
	// is waited after the last allowed run.
	if r.Elapsed > 60*time.Second {
		t.Errorf("the wait ended %s after the start, more than a poll after the last run failed", r.Elapsed)
	}
	if n := r.Sim.Count("POST", "/workflow/*/rerun"); n != 0 {
		t.Errorf("%d manual reruns without retry-failed", n)
	}
}

// CircleCI does not promise the rerun: when none comes within the grace,
// the failure is final, and the output says why the wait took longer.
func TestAutomaticRerunThatNeverComes(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/declined").Run()
	r.Expect(t, 1, "CircleCI did not rerun test automatically within 1m0s", "pipeline failed: test failed")
	if r.Elapsed < 90*time.Second || r.Elapsed > 100*time.Second {
		t.Errorf("ended after %s; want the 1m grace after the failure at 30.5s, and no more", r.Elapsed)
	}
}

// fail-fast: a workflow failing with automatic reruns left is not a
// failure yet.
func TestFailFastWaitsForTheAutomaticRerun(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/failing", "--fail-fast", "--json").Run()
	r.Expect(t, 0)
	if status, _ := workflowsOf(t, r.Stdout); status != "success" {
		t.Errorf("status %s", status)
	}
}

// retry-failed reruns a workflow by hand only once CircleCI has used up
// its automatic reruns, and the manual rerun gets none.
func TestRetryFailedAfterTheAutomaticReruns(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/exhausted", "--retry-failed", "1", "--json").Run()
	r.Expect(t, 0, "attempt 2 of at most 2: rerunning test from failed")
	posts := r.Sim.Matching("POST", "/workflow/*/rerun")
	if len(posts) != 1 || posts[0].At < 52*time.Second {
		t.Fatalf("manual reruns: %+v; want one, after the automatic rerun failed at 52.5s", posts)
	}
	if status, _ := workflowsOf(t, r.Stdout); status != "success" {
		t.Errorf("status %s", status)
	}
}

// A pipeline that ran nothing and carries errors failed, whatever its
// state; its messages are shown, and no filter is blamed.
func TestPipelineWithErrorsAndNoWorkflowFailed(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/no-credits", "--json").Run()
	r.Expect(t, 1, "plan: This organization has run out of credits. Please add more.")
	if status, _ := workflowsOf(t, r.Stdout); status != "errored" {
		t.Errorf("status %s, want errored", status)
	}
	if strings.Contains(r.Stderr, "filters") {
		t.Errorf("a pipeline that could not run is blamed on filters:\n%s", r.Stderr)
	}
}

// Errors beside workflows that ran are warnings: the verdict is theirs.
func TestErrorsBesideWorkflowsAreWarnings(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/noted").Run()
	r.Expect(t, 0, "warning: pipeline #1 reports an error: config-fetch: Could not fetch the orb.")
}

// An approval job is known by its type, number or not: no tests or
// artifacts are asked for it, and it links to its workflow.
func TestApprovalJobsByTheirType(t *testing.T) {
	t.Parallel()
	r := verdict(t, "--project-slug", "gh/acme/approval", "--on-hold", "succeed", "--artifacts", "--json").Run()
	r.Expect(t, 0, "job hold")
	var jobNumbers []string
	for _, q := range r.Sim.Matching("GET", "/project/gh/acme/approval/*") {
		jobNumbers = append(jobNumbers, q.Path)
	}
	if len(jobNumbers) != 1 || !strings.HasSuffix(jobNumbers[0], "/1/artifacts") {
		t.Errorf("job endpoints asked: %v; want the artifacts of compile (job 1) alone", jobNumbers)
	}
	for _, line := range strings.Split(r.Stderr, "\n") {
		if strings.Contains(line, "job hold") && strings.Contains(line, "/jobs/") {
			t.Errorf("the approval job links to a job page: %s", line)
		}
	}
}

// A pipeline waited for by id, first read past its setup phase (state
// pending), whose setup workflow carries no tag: not a success before
// the continuation runs (fault schedule seeds 7589, 16445, 23790, …).
func TestPipelineFirstSeenPastItsSetupPhase(t *testing.T) {
	t.Parallel()
	p := verdict(t)
	p.Prepare = func(s *circlecitest.Simulator) {
		id, err := s.CreateAs(circlecitest.DefaultUser, "gh/acme/hidden-setup", "main", nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Args = append(p.Args, "--pipeline-id", id)
	}
	p.Advance = 6600 * time.Millisecond // setup ended at 6.5s; the pipeline is pending until 6.7s
	r := p.Run()
	r.Expect(t, 1, "deploy failed")
}

// A trigger lost near the timeout: the pipeline it created is listed late,
// and too little time is left to look for it. Nothing is sent again (fault
// schedule seed 27407).
func TestLostTriggerNearTheTimeoutIsNotSentAgain(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--timeout", "1m", "--wait")
	p.Scenario = api(func(p *circlecitest.Project) { p.ListLag = circlecitest.Duration(3 * time.Second) },
		circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 429, RetryAfter: "58", Count: 1},
		createdAnyway(503, 1))
	r := p.Run()
	if n := r.Sim.PipelineCount("gh/acme/api"); n > 1 {
		t.Fatalf("%d pipelines for one request\n%s", n, r.Stderr)
	}
	r.Expect(t, 4, "not sent again")
}

// A stop with cancel-on-exit cancels what it last saw running, even when
// every fresh read fails (issue 18: a 429 with a long Retry-After, a 502).
func TestCancelsLandWhenEveryReadFails(t *testing.T) {
	t.Parallel()
	for _, f := range []circlecitest.Fault{
		{Method: "GET", Path: "/pipeline/*", Status: 429, RetryAfter: "120", Skip: 2},
		{Method: "GET", Path: "/pipeline/*", Status: 502, Skip: 2},
	} {
		p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
		p.Scenario = clitest.SlowWorld(f)
		p.InterruptOn = func(q circlecitest.Request) bool { return q.Method == "GET" && q.At > 5*time.Second }
		r := p.Run()
		clitest.CanceledAll(t, r, 3)
	}
}

// A 429 answered as the timeout stops the wait, its Retry-After as long as
// the cancel's grace, holds the fresh reads, not the cancels of what the
// wait saw running (fault-schedule seed 329222).
func TestCancelsLandAfterAPauseAtTheTimeout(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit", "--timeout", "1m")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 429, RetryAfter: "5",
		From: circlecitest.Duration(time.Minute)})
	r := p.Run()
	r.Expect(t, 8, "timed out", "canceled workflow a", "canceled workflow b", "canceled workflow c")
	if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 3 {
		t.Errorf("%d cancels sent, want 3:\n%s", n, r.Stderr)
	}
}

// A stop while CircleCI owes a failed workflow its automatic rerun: with
// cancel-on-exit, the rerun that comes within the cancel's few seconds is
// canceled too, not left to run.
func TestStopWhileAnAutomaticRerunIsDue(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/due", "--wait", "--poll-interval", "1s", "--cancel-on-exit")
	p.Scenario = circlecitest.MustParse(`{"tokens": ["fake-token-3f9c2a71-not-real"], "projects": [{"slug": "gh/acme/due", "pipeline": {"workflows": [
		{"name": "test", "duration": "10s", "status": "failed", "max_auto_reruns": 1, "auto_rerun_delay": "3s", "reruns": [{"duration": "1h"}]}]}}]}`)
	p.InterruptOn = func(q circlecitest.Request) bool { return q.At > 11*time.Second }
	r := p.Run()
	r.Expect(t, 6, "interrupted", "canceled workflow test")
	cancels := r.Requests("POST", "/workflow/*/cancel")
	if len(cancels) != 1 || cancels[0].Status != 202 || cancels[0].At < 13*time.Second {
		t.Errorf("cancels: %+v; want the automatic rerun's, once it came at 13.5s", cancels)
	}
}
