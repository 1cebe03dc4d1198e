package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

var (
	urls = circleci.NewWebURLs("https://circleci.com")
	t0   = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

// failedFanout is a fan-out of two targets: one whose workflow failed on a
// job and waits on an approval, one that was never triggered.
func failedFanout() []fanout.Outcome {
	api := fanout.Outcome{
		Label:    "gh/acme/api",
		Request:  trigger.Request{Slug: circleci.Slug{VCS: "gh", Org: "acme", Project: "api"}, Branch: "main"},
		Pipeline: circleci.Pipeline{ID: "p-1", Number: 7, ProjectSlug: "gh/acme/api", State: "created", CreatedAt: t0},
		Wait: &wait.Result{
			Status: wait.StatusFailed,
			Workflows: []circleci.Workflow{
				{ID: "w-1", Name: "build | test", Status: "failed", CreatedAt: t0, StoppedAt: t0.Add(95 * time.Second)},
			},
			Jobs: map[string][]circleci.Job{"w-1": {
				{Name: "unit", Status: "failed", Number: 12},
				{Name: "hold", Type: "approval", Status: "on_hold"},
			}},
			Elapsed: 2 * time.Minute,
		},
		Err:  &wait.DownstreamError{Status: wait.StatusFailed},
		Code: exit.Failed,
	}
	web := fanout.Outcome{
		Label:   "gh/acme/web",
		Request: trigger.Request{Slug: circleci.Slug{VCS: "gh", Org: "acme", Project: "web"}, Tag: "v1"},
		Err:     &circleci.StatusError{Method: "POST", Path: "/project/gh/acme/web/pipeline", Code: 404, Message: "Project not found"},
		Code:    exit.NotFound,
	}
	return []fanout.Outcome{api, web}
}

func TestTableOfAFanout(t *testing.T) {
	var b strings.Builder
	Table(&b, failedFanout(), urls, true)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	pipeline := "https://app.circleci.com/pipelines/github/acme/api/7"
	want := [][]string{
		{"TARGET", "PIPELINE / WORKFLOW", "STATUS", "DURATION", "LINK"},
		{"gh/acme/api", "pipeline #7", "failed", "2m0s", pipeline},
		{"build | test", "failed", "1m35s", pipeline + "/workflows/w-1"},
		{"job unit", "failed", pipeline + "/workflows/w-1/jobs/12"},
		{"job hold", "on_hold", pipeline + "/workflows/w-1"}, // approvals have no job page
		{"gh/acme/web", "-", "not-triggered", "404 Not Found", "Project not found"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, cells := range want {
		rest := lines[i]
		for _, c := range cells {
			j := strings.Index(rest, c)
			if j < 0 {
				t.Errorf("line %d %q: no %q after the earlier cells", i, lines[i], c)
				break
			}
			rest = rest[j+len(c):]
		}
	}
}

func TestMarkdownEscapesAndLinks(t *testing.T) {
	got := Markdown(failedFanout(), urls, true)
	for _, want := range []string{
		"| Target | Pipeline / workflow | Status | Duration |",
		"| gh/acme/api | [pipeline #7](https://app.circleci.com/pipelines/github/acme/api/7) | failed | 2m0s |",
		"| &nbsp;&nbsp;[build \\| test](https://app.circleci.com/pipelines/github/acme/api/7/workflows/w-1) | failed | 1m35s |",
		"[job unit](https://app.circleci.com/pipelines/github/acme/api/7/workflows/w-1/jobs/12) | failed |",
		"| gh/acme/web | - (POST /project/gh/acme/web/pipeline: 404 Not Found",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	// A row has as many unescaped cell separators as the header.
	for _, line := range strings.Split(strings.TrimSpace(got), "\n")[2:] {
		if !strings.HasPrefix(line, "|") { // the chart after the table
			continue
		}
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 5 {
			t.Errorf("row %q has %d separators, want 5", line, n)
		}
	}
}

func TestOutputsOfAFanout(t *testing.T) {
	res := Summarize(failedFanout(), urls, Asked{Fanout: true})
	// 5 (the web project is not found) outranks 1 (api failed): the exit codes' severity order.
	if res.Status != "not-triggered" {
		t.Errorf("top status %q, want the most severe target's, not-triggered", res.Status)
	}
	outs := outputMap(res)
	var results []struct {
		ProjectSlug string `json:"project-slug"`
		Number      int64  `json:"number"`
		Status      string `json:"status"`
		ExitCode    int    `json:"exit_code"`
		Error       string `json:"error"`
		Workflows   []WorkflowOut
	}
	if err := json.Unmarshal([]byte(outs["results"]), &results); err != nil {
		t.Fatalf("results %q: %v", outs["results"], err)
	}
	if len(results) != 2 {
		t.Fatalf("results: %+v", results)
	}
	if r := results[0]; r.ProjectSlug != "gh/acme/api" || r.Number != 7 || r.Status != "failed" || r.ExitCode != 1 ||
		len(r.Workflows) != 1 || r.Workflows[0].Status != "failed" {
		t.Errorf("first result: %+v", r)
	}
	if r := results[1]; r.Status != "not-triggered" || r.ExitCode != 5 ||
		!strings.Contains(r.Error, "Project not found") {
		t.Errorf("second result: %+v", r)
	}
	if outs["workflows"] != "[]" || outs["number"] != "" {
		t.Errorf("a fan-out's top level has no pipeline of its own: workflows %q, number %q", outs["workflows"], outs["number"])
	}
}

func TestOutputsOfOnePipeline(t *testing.T) {
	o := failedFanout()[0]
	o.Err, o.Wait.Status = nil, wait.StatusSuccess
	outs := outputMap(Summarize([]fanout.Outcome{o}, urls, Asked{}))
	want := map[string]string{
		"id": "p-1", "number": "7", "state": "created", "created_at": "2026-11-22T10:00:00.000Z",
		"url": "https://app.circleci.com/pipelines/github/acme/api/7", "status": "success",
		"workflows": `[{"name":"build | test","id":"w-1","status":"failed","url":"https://app.circleci.com/pipelines/github/acme/api/7/workflows/w-1",` +
			`"failed_jobs":[{"name":"unit","number":12,"status":"failed","url":"https://app.circleci.com/pipelines/github/acme/api/7/workflows/w-1/jobs/12"}]}]`,
	}
	for k, v := range want {
		if outs[k] != v {
			t.Errorf("output %s = %q, want %q", k, outs[k], v)
		}
	}
	if _, ok := outs["results"]; ok {
		t.Error("a single pipeline has no results output")
	}
}

func outputMap(r Result) map[string]string {
	m := map[string]string{}
	for _, kv := range r.Outputs() {
		m[kv[0]] = kv[1]
	}
	return m
}
