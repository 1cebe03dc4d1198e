package cli_test

// Why the downstream failed, retries, reruns of chosen jobs, artifacts and
// the job summary's chart (issue 14), asserted on what the simulator got.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

// rerunsJSON: a flaky workflow that passes when rerun, one that always
// fails with more failed tests than are shown, a project with pipelines on
// two branches whose deploy workflow can be rerun by name, and one whose
// names would break a chart.
var rerunsJSON = `{
  "tokens": ["fake-token-3f9c2a71-not-real"],
  "projects": [
    {"slug": "gh/acme/flaky", "pipeline": {"workflows": [
       {"name": "build", "duration": "2s", "jobs": [{"name": "compile", "status": "success",
         "artifacts": [{"path": "dist/app.tar.gz"}, {"path": "coverage/index.html", "node_index": 1}]}]},
       {"name": "tests", "duration": "5s", "status": "failed",
        "jobs": [{"name": "unit", "status": "success"}, {"name": "e2e", "status": "failed",
          "tests": [{"name": "checkout_pays", "classname": "shop.Checkout", "result": "failure", "message": "timeout after 30s\nstack"}]}],
        "reruns": [{"duration": "3s", "status": "success"}]}]}},
    {"slug": "gh/acme/broken", "pipeline": {"workflows": [
       {"name": "tests", "duration": "5s", "status": "failed",
        "jobs": [{"name": "unit", "status": "success", "tests": [{"name": "ok", "result": "success"}]},
                 {"name": "e2e", "status": "failed", "tests": ` + failedTests(12) + `}]}]}},
    {"slug": "gh/acme/deploy", "branches": ["main", "release"], "seed": [{"branch": "main"}, {"branch": "release"}, {"branch": "main"}],
     "pipeline": {"workflows": [
       {"name": "deploy", "duration": "4s", "status": "failed",
        "jobs": [{"name": "plan", "status": "success"}, {"name": "apply", "status": "failed"}, {"name": "smoke", "status": "success"}],
        "reruns": [{"duration": "2s", "status": "success"}]},
       {"name": "lint", "duration": "1s", "status": "failed"}]}},
    {"slug": "gh/acme/odd", "pipeline": {"workflows": [
       {"name": "deploy: prod #1; eu\nwest", "duration": "3s", "status": "failed",
        "jobs": [{"name": "apply:eu %% ` + "`" + `x` + "`" + `", "status": "failed"}, {"name": "approve", "type": "approval", "status": "on_hold"}]},
       {"name": "section", "duration": "2s", "jobs": [{"name": "click x", "status": "success"}]}]}}
  ]
}`

func failedTests(n int) string {
	var ts []string
	for i := range n {
		ts = append(ts, fmt.Sprintf(`{"name": "test_%02d", "file": "tests/e2e_test.go", "result": "failure", "message": "\nexpected %d, got 0\n  at line 3"}`, i+1, i+1))
	}
	return "[" + strings.Join(ts, ",") + `, {"name": "test_ok", "result": "success"}]`
}

func reruns(t *testing.T, args ...string) *clitest.Process {
	p := clitest.Cmdline(t, args...)
	p.Scenario = circlecitest.MustParse(rerunsJSON)
	return p
}

func githubReruns(t *testing.T, inputs map[string]string) *clitest.Process {
	p := clitest.GitHub(t, inputs)
	p.Scenario = circlecitest.MustParse(rerunsJSON)
	return p
}

type runJSON struct {
	Status    string
	Workflows []struct {
		Name, ID, Status string
		FailedJobs       []struct {
			Name        string
			Number      int
			FailedTests []struct{ Name, Classname, File, Message string } `json:"failed_tests"`
			More        int                                               `json:"more_failed_tests"`
		} `json:"failed_jobs"`
	}
	Attempts []struct {
		Attempt int
		Status  string
		Reran   []string
	}
	Rerun *struct {
		Workflow, ID string
		WorkflowID   string `json:"workflow_id"`
	}
	Artifacts *[]struct{ Workflow, Job, Path, URL string }
}

func parseRun(t *testing.T, s string) runJSON {
	t.Helper()
	var r runJSON
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, s)
	}
	return r
}

func TestFailedTestsInTableSummaryAndJSON(t *testing.T) {
	t.Parallel()
	r := reruns(t, append(clitest.Fast, "--project-slug", "gh/acme/broken", "--json")...).Run()
	r.Expect(t, 1, "job e2e", "test test_01 (tests/e2e_test.go)", "expected 1, got 0", "test test_10", "and 2 more failed tests")
	if strings.Contains(r.Stderr, "test_11") || strings.Contains(r.Stderr, "at line 3") || strings.Contains(r.Stderr, "test_ok") {
		t.Errorf("more than ten tests, a message's second line or a passing test shown:\n%s", r.Stderr)
	}
	out := parseRun(t, r.Stdout)
	if len(out.Workflows) != 1 || len(out.Workflows[0].FailedJobs) != 1 {
		t.Fatalf("workflows = %+v", out.Workflows)
	}
	fj := out.Workflows[0].FailedJobs[0]
	if fj.Name != "e2e" || len(fj.FailedTests) != 10 || fj.More != 2 || fj.FailedTests[0].Message != "expected 1, got 0" || fj.FailedTests[0].File != "tests/e2e_test.go" {
		t.Errorf("failed job = %+v", fj)
	}
	// One failed job: one list of tests, read once (it fits on a page).
	if q := r.Requests("GET", "/project/gh/acme/broken/*/tests"); len(q) != 1 || q[0].Path != fmt.Sprintf("/project/gh/acme/broken/%d/tests", fj.Number) {
		t.Errorf("tests requests: %+v", q)
	}

	g := githubReruns(t, map[string]string{"project-slug": "gh/acme/broken", "wait": "true", "poll-interval": "1s"}).Run()
	g.Expect(t, 1)
	for _, want := range []string{"test test_01 (tests/e2e_test.go) (expected 1, got 0)", "and 2 more failed tests"} {
		if !strings.Contains(g.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, g.Summary)
		}
	}
	if !strings.Contains(g.Outputs["workflows"], `"failed_tests":[{"name":"test_01","file":"tests/e2e_test.go","message":"expected 1, got 0"}`) {
		t.Errorf("workflows output = %s", g.Outputs["workflows"])
	}
}

func TestRetryFailedPassesOnTheSecondAttempt(t *testing.T) {
	t.Parallel()
	r := reruns(t, append(clitest.Fast, "--project-slug", "gh/acme/flaky", "--retry-failed", "1", "--json")...).Run()
	r.Expect(t, 0, "attempt 2 of at most 2: rerunning tests from failed", "attempt 1 of 2", "attempt 2 of 2")
	posts := r.Requests("POST", "/workflow/*/rerun")
	if len(posts) != 1 || clitest.JSONOf(clitest.Body(t, posts[0])) != `{"from_failed":true}` {
		t.Fatalf("reruns: %+v", posts)
	}
	out := parseRun(t, r.Stdout)
	if out.Status != "success" || len(out.Attempts) != 2 || out.Attempts[0].Status != "failed" || !slices.Equal(out.Attempts[0].Reran, []string{"tests"}) ||
		out.Attempts[1].Status != "success" {
		t.Errorf("json = %+v", out)
	}
	// The rerun of tests (a new workflow) is the one that counts.
	for _, w := range out.Workflows {
		if w.Name == "tests" && (w.Status != "success" || !strings.Contains(posts[0].Path, "/workflow/") || strings.Contains(posts[0].Path, w.ID)) {
			t.Errorf("tests = %+v, rerun of %s", w, posts[0].Path)
		}
	}
}

func TestRetryFailedGivesUpAfterNReruns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		n    int
	}{
		{"two retries", []string{"--retry-failed", "2"}, 2},
		{"fail-fast", []string{"--retry-failed", "1", "--fail-fast"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reruns(t, append(append(clitest.Fast, "--project-slug", "gh/acme/broken", "--json"), tc.args...)...).Run()
			r.Expect(t, 1, "pipeline failed: tests failed")
			if n := len(r.Requests("POST", "/workflow/*/rerun")); n != tc.n {
				t.Errorf("%d reruns, want %d", n, tc.n)
			}
			out := parseRun(t, r.Stdout)
			if out.Status != "failed" || len(out.Attempts) != tc.n+1 {
				t.Errorf("status %s, %d attempts, want failed and %d", out.Status, len(out.Attempts), tc.n+1)
			}
		})
	}
}

// jobsOf asks the simulator for a workflow's jobs, as the test's own view.
func jobsOf(t *testing.T, s *circlecitest.Simulator, workflowID string) map[string]string {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v2/workflow/"+workflowID+"/job", nil)
	req.Header.Set("Circle-Token", clitest.Token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var page struct{ Items []struct{ ID, Name string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("jobs of %s: %d %s", workflowID, rec.Code, rec.Body)
	}
	ids := map[string]string{}
	for _, j := range page.Items {
		ids[j.Name] = j.ID
	}
	return ids
}

func TestRerunNamedJobsOfAWorkflowFoundByName(t *testing.T) {
	t.Parallel()
	p := reruns(t, append(clitest.Fast, "--project-slug", "gh/acme/deploy", "--branch", "main", "--rerun-workflow", "deploy", "--jobs", "apply, smoke", "--json")...)
	r := p.Run()
	r.Expect(t, 0, "Workflow deploy of pipeline #3 rerun with jobs apply, smoke")
	if q := r.Requests("GET", "/project/gh/acme/deploy/pipeline"); len(q) != 1 || q[0].Query != "branch=main" {
		t.Errorf("pipelines looked up: %+v", q)
	}
	posts := r.Requests("POST", "/workflow/*/rerun")
	if len(posts) != 1 {
		t.Fatalf("reruns: %+v", posts)
	}
	old := strings.TrimSuffix(strings.TrimPrefix(posts[0].Path, "/workflow/"), "/rerun")
	ids := jobsOf(t, r.Sim, old)
	if got, want := clitest.JSONOf(clitest.Body(t, posts[0])), clitest.JSONOf(map[string]any{"jobs": []string{ids["apply"], ids["smoke"]}, "sparse_tree": true}); got != want {
		t.Errorf("rerun body = %s, want %s", got, want)
	}
	out := parseRun(t, r.Stdout)
	// It waited for the new workflow, and for it alone (lint failed).
	if out.Rerun == nil || out.Rerun.ID != old || len(out.Workflows) != 1 || out.Workflows[0].ID != out.Rerun.WorkflowID || out.Workflows[0].Status != "success" || out.Status != "success" {
		t.Errorf("json = %+v", out)
	}
	// Its progress is the new workflow's: the run it reran is not shown.
	if strings.Contains(r.Stderr, "/workflows/"+old) {
		t.Errorf("the rerun workflow shows in the progress:\n%s", r.Stderr)
	}

	// jobs: failed reruns from failed; without wait, nothing is waited for.
	p = reruns(t, "--project-slug", "gh/acme/deploy", "--branch", "release", "--rerun-workflow", "deploy", "--jobs", "failed")
	p.Advance = time.Minute
	r = p.Run()
	r.Expect(t, 0, "Workflow deploy of pipeline #2 rerun from failed")
	if posts := r.Requests("POST", "/workflow/*/rerun"); len(posts) != 1 || clitest.JSONOf(clitest.Body(t, posts[0])) != `{"from_failed":true}` || len(r.Sim.Requests()) != 3 {
		t.Errorf("requests: %+v", r.Sim.Requests())
	}
}

func TestRerunRefusesNamesThatDoNotExist(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"job", []string{"--rerun-workflow", "deploy", "--jobs", "apply,nope,smok"}, "workflow deploy of pipeline #3 has no job nope, smok; its jobs: plan, apply, smoke (nothing was rerun)"},
		{"workflow", []string{"--rerun-workflow", "deploi"}, "pipeline #3 of gh/acme/deploy on branch main has no workflow deploi; its workflows: deploy, lint (nothing was rerun)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := reruns(t, append([]string{"--project-slug", "gh/acme/deploy", "--branch", "main", "--wait"}, tc.args...)...)
			p.Advance = time.Minute
			r := p.Run()
			r.Expect(t, 2, tc.want)
			if n := r.Sim.Count("POST", "*"); n != 0 {
				t.Errorf("%d POSTs", n)
			}
		})
	}
	// And what can be checked without the API is checked first.
	for _, args := range [][]string{
		{"--project-slug", "gh/acme/deploy", "--jobs", "apply"},
		{"--project-slug", "gh/acme/deploy", "--rerun-workflow", "deploy", "--parameters", `{"a":1}`},
		{"--project-slug", "gh/acme/deploy", "--rerun-workflow", "deploy", "--jobs", "failed,apply"},
		{"--project-slug", "gh/acme/deploy", "--retry-failed", "11"},
		{"--project-slug", "gh/acme/deploy", "--retry-failed", "two"},
	} {
		r := reruns(t, args...).Run()
		r.Expect(t, 2)
		if n := len(r.Sim.Requests()); n != 0 {
			t.Errorf("%v: %d requests", args, n)
		}
	}
}

func TestArtifactsListed(t *testing.T) {
	t.Parallel()
	r := githubReruns(t, map[string]string{"project-slug": "gh/acme/flaky", "wait": "true", "poll-interval": "1s", "artifacts": "true", "retry-failed": "1"}).Run()
	r.Expect(t, 0)
	var arts []struct{ Workflow, Job, Path, URL string }
	if err := json.Unmarshal([]byte(r.Outputs["artifacts"]), &arts); err != nil {
		t.Fatalf("artifacts output %q: %v", r.Outputs["artifacts"], err)
	}
	if len(arts) != 2 || arts[0].Workflow != "build" || arts[0].Job != "compile" || arts[0].Path != "dist/app.tar.gz" ||
		!strings.HasSuffix(arts[1].URL, "/1/coverage/index.html") {
		t.Errorf("artifacts = %+v", arts)
	}
	if !strings.Contains(r.Summary, "#### Artifacts") || !strings.Contains(r.Summary, "[dist/app.tar.gz](https://") {
		t.Errorf("summary:\n%s", r.Summary)
	}
	// Every build job of the workflows that count: compile, and e2e's rerun.
	if n := len(r.Requests("GET", "/project/gh/acme/flaky/*/artifacts")); n != 2 {
		t.Errorf("%d artifact lists read, want 2", n)
	}
	// Without artifacts: none read, no output.
	r = githubReruns(t, map[string]string{"project-slug": "gh/acme/flaky", "wait": "true", "poll-interval": "1s"}).Run()
	if _, ok := r.Outputs["artifacts"]; ok || len(r.Requests("GET", "*/artifacts")) != 0 {
		t.Errorf("artifacts not asked for, yet read or output: %v", r.Outputs)
	}
}

type mermaidTask struct {
	Section, Task, ID string
	Crit, Milestone   bool
}

// mermaid parses a chart with Mermaid's own parser.
func mermaid(t *testing.T, chart string) []mermaidTask {
	t.Helper()
	var res struct {
		Type  string
		Tasks []mermaidTask
	}
	if err := json.Unmarshal(summaryCheck(t, "mermaid.mjs", chart), &res); err != nil || res.Type != "gantt" {
		t.Fatalf("Mermaid: %+v (%v)", res, err)
	}
	return res.Tasks
}

// rendered is Markdown as a reader sees it: its tables' cells and its
// links.
type rendered struct {
	Tables []struct {
		Header []string
		Rows   [][]string
	}
	Links []struct{ Text, Href string }
}

// markdown renders a job summary with a Markdown parser (markdown-it).
func markdown(t *testing.T, text string) rendered {
	t.Helper()
	var r rendered
	if err := json.Unmarshal(summaryCheck(t, "markdown.mjs", text), &r); err != nil {
		t.Fatalf("markdown-it: %v", err)
	}
	return r
}

// summaryCheck runs a script of tools/summary-check on input, with node.
func summaryCheck(t *testing.T, script, input string) []byte {
	t.Helper()
	const dir = "../../tools/summary-check"
	node, err := exec.LookPath("node")
	if _, err2 := os.Stat(dir + "/node_modules/mermaid"); err != nil || err2 != nil {
		if os.Getenv("CIRCLECI_TRIGGER_REQUIRE_SUMMARY_CHECK") != "" {
			t.Fatalf("the summary's parsers are required: node %v, %v", err, err2)
		}
		t.Skip("the summary is not parsed: it needs node, then: cd tools/summary-check && npm ci")
	}
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(input)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s refuses it: %v\n%s\n%s", script, err, stderr.String(), input)
	}
	return out
}

func chartOf(t *testing.T, summary string) string {
	t.Helper()
	_, rest, ok := strings.Cut(summary, "```mermaid\n")
	chart, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("no chart in the summary:\n%s", summary)
	}
	return chart
}

func TestSummaryChartParsesAsMermaid(t *testing.T) {
	t.Parallel()
	r := githubReruns(t, map[string]string{"project-slug": "gh/acme/odd", "wait": "true", "poll-interval": "1s", "on-hold": "succeed"}).Run()
	r.Expect(t, 1)
	tasks := mermaid(t, chartOf(t, r.Summary))
	// Every workflow and job, under its workflow, failed ones crit; names
	// stripped of what Mermaid reads as syntax.
	want := []mermaidTask{
		{Section: "deploy prod 1 eu west", Task: "workflow deploy prod 1 eu west", Crit: true},
		{Section: "deploy prod 1 eu west", Task: "job apply eu x", Crit: true},
		{Section: "deploy prod 1 eu west", Task: "job approve", Milestone: true},
		{Section: "section", Task: "workflow section"},
		{Section: "section", Task: "job click x"},
	}
	if len(tasks) != len(want) {
		t.Fatalf("tasks = %+v, want %+v", tasks, want)
	}
	for _, w := range want {
		if !slices.ContainsFunc(tasks, func(g mermaidTask) bool {
			return g.Section == w.Section && g.Task == w.Task && g.Crit == w.Crit && g.Milestone == w.Milestone
		}) {
			t.Errorf("no task %+v in %+v", w, tasks)
		}
	}
	// The chart needs every job: one list per workflow.
	if n := len(r.Requests("GET", "/workflow/*/job")); n < 2 {
		t.Errorf("%d job lists read", n)
	}

	// A fan-out: one bar per target.
	f := clitest.GitHub(t, map[string]string{"targets": `[{"project-slug":"gh/acme/web"},{"project-slug":"gh/acme/failing"}]`, "wait": "true", "poll-interval": "1s"}).Run()
	f.Expect(t, 1)
	tasks = mermaid(t, chartOf(t, f.Summary))
	if len(tasks) != 2 || tasks[0].Task != "target gh/acme/web" || tasks[0].Crit || tasks[1].Task != "target gh/acme/failing" || !tasks[1].Crit {
		t.Errorf("fan-out tasks = %+v", tasks)
	}
}
