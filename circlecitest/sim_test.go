package circlecitest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

const testScenario = `{
  "tokens": ["fake-token-1"],
  "page_size": 2,
  "projects": [
    {"slug": "gh/acme/api", "branches": ["main", "pull/*"], "tags": ["v1.0.0"],
     "parameters": {"deploy": "boolean", "env": "string", "n": "integer"},
     "definitions": ["2338d0ae-5541-4bbf-88a2-55e9f7281f80"],
     "pipeline": {"workflows": [
       {"name": "setup", "tag": "setup", "duration": "1s"},
       {"name": "build", "duration": "2s", "status": "failed", "jobs": [{"name": "compile", "status": "failed"}, {"name": "hold", "type": "approval", "status": "on_hold"}]},
       {"name": "deploy", "steps": [{"at": "0s", "status": "on_hold"}]},
       {"name": "build", "appear": "5s", "duration": "1s"}
     ]}},
    {"slug": "gh/acme/strict", "undeclared": "reject", "parameters": {"deploy": "boolean"}},
    {"slug": "circleci/org1/proj1", "definitions": ["11111111-2222-4333-8444-555555555555"], "not_created": "Ignoring pipeline due to CI skip in the commit"}
  ]
}`

type call struct {
	t     *testing.T
	host  string
	token string
}

func (c call) do(method, path, contentType, body string) (int, []byte) {
	c.t.Helper()
	resp, b := c.send(method, path, contentType, body)
	return resp.StatusCode, b
}

// send is do with the whole response, its body read.
func (c call) send(method, path, contentType, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.host+"/api/v2"+path, strings.NewReader(body))
	if c.token != "" {
		req.Header.Set("Circle-Token", c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

func (c call) json(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	code, b := c.do(method, path, "application/json", body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%s %s: %d %s: not JSON", method, path, code, b)
	}
	return code, m
}

func TestAnswersMatchTheOpenAPISpec(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), clk)
	c := call{t, host, "fake-token-1"}
	check := func(op string, code int, body []byte) { t.Helper(); conforms(t, op, code, body, false) }

	code, body := c.do("POST", "/project/gh/acme/api/pipeline", "application/json", `{"branch":"main","parameters":{"deploy":true,"n":2}}`)
	if code != 201 {
		t.Fatalf("trigger = %d %s", code, body)
	}
	check("triggerPipeline", code, body)
	var created struct{ ID string }
	json.Unmarshal(body, &created)

	code, body = c.do("POST", "/project/gh/acme/api/pipeline/run", "application/json", `{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","config":{"tag":"v1.0.0"},"checkout":{"tag":"v1.0.0"}}`)
	if code != 201 {
		t.Fatalf("run = %d %s", code, body)
	}
	check("triggerPipelineRun", code, body)
	code, body = c.do("POST", "/project/circleci/org1/proj1/pipeline/run", "application/json", `{"definition_id":"11111111-2222-4333-8444-555555555555"}`)
	if code != 200 {
		t.Fatalf("not created = %d %s", code, body)
	}
	check("triggerPipelineRun", code, body)

	// Walk the pipeline through its life and check every answer on the way.
	var workflowIDs []string
	for _, at := range []time.Duration{0, 400 * time.Millisecond, time.Second, 1500 * time.Millisecond, 3 * time.Second, 7 * time.Second} {
		clk.Advance(at - clk.Now().Sub(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		code, body = c.do("GET", "/pipeline/"+created.ID, "", "")
		check("getPipelineById", code, body)
		path := "/pipeline/" + created.ID + "/workflow"
		for pages := 0; ; pages++ {
			code, body = c.do("GET", path, "", "")
			check("listWorkflowsByPipelineId", code, body)
			var page struct {
				Items []struct{ ID string }
				Next  *string `json:"next_page_token"`
			}
			json.Unmarshal(body, &page)
			for _, it := range page.Items {
				if !slices.Contains(workflowIDs, it.ID) {
					workflowIDs = append(workflowIDs, it.ID)
				}
			}
			if page.Next == nil {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			path = "/pipeline/" + created.ID + "/workflow?page-token=" + *page.Next
		}
	}
	if len(workflowIDs) != 4 {
		t.Errorf("saw %d workflows, want 4 (setup, build, deploy, rerun of build)", len(workflowIDs))
	}
	for _, id := range workflowIDs {
		code, body = c.do("GET", "/workflow/"+id, "", "")
		check("getWorkflowById", code, body)
		code, body = c.do("GET", "/workflow/"+id+"/job", "", "")
		check("listWorkflowJobs", code, body)
	}
	code, body = c.do("POST", "/workflow/"+workflowIDs[2]+"/cancel", "", "")
	if code != 202 || string(body) != `{"message":"Accepted."}` {
		t.Errorf("cancel = %d %s", code, body)
	}
	check("cancelWorkflow", code, body)
	code, body = c.do("GET", "/project/gh/acme/api/pipeline/mine", "", "")
	check("listMyPipelines", code, body)
}

// The simulator's answers have the keys of the recorded ones: nothing
// missing, nothing the real API does not send.
func TestAnswersHaveTheKeysOfRecordedAnswers(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), clk)
	c := call{t, host, "fake-token-1"}
	_, created := c.json("POST", "/project/gh/acme/api/pipeline", `{"branch":"main"}`)
	assertKeys(t, created, fixture(t, "trigger-pipeline.201.gravitee.json"), nil)

	clk.Advance(10 * time.Second)
	id := created["id"].(string)
	_, p := c.json("GET", "/pipeline/"+id, "")
	// trigger_parameters is in the spec, though not in that 2020 capture.
	assertKeys(t, p, fixture(t, "get-pipeline-by-number.200.gravitee.json"), []string{"trigger_parameters"})
	_, list := c.json("GET", "/pipeline/"+id+"/workflow", "")
	assertKeys(t, list, fixture(t, "pipeline-workflows.200.gravitee-failed-and-success.json"), nil)
	var plain map[string]any
	for _, it := range list["items"].([]any) {
		if w := it.(map[string]any); w["tag"] == nil {
			plain = w
		}
	}
	assertKeys(t, plain, fixture(t, "get-workflow.200.gravitee-failed.json"), nil)
}

func fixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "circleci", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertKeys(t *testing.T, got, want map[string]any, extra []string) {
	t.Helper()
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	w := append(keys(want), extra...)
	sort.Strings(w)
	if g := keys(got); !reflect.DeepEqual(g, w) {
		t.Errorf("keys = %v, want %v", g, w)
	}
}

func TestTriggerValidationLikeCircleCI(t *testing.T) {
	t.Parallel()
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), nil)
	c := call{t, host, "fake-token-1"}
	for _, tc := range []struct {
		name, path, ctype, body string
		code                    int
		message                 string
	}{
		{"unknown project", "/project/gh/acme/nope/pipeline", "application/json", `{}`, 404, "Project not found"},
		{"unknown branch", "/project/gh/acme/api/pipeline", "application/json", `{"branch":"nope"}`, 400, "Branch not found"},
		{"empty branch", "/project/gh/acme/api/pipeline", "application/json", `{"branch":""}`, 400, "Invalid input"},
		{"branch and tag", "/project/gh/acme/api/pipeline", "application/json", `{"branch":"main","tag":"v1.0.0"}`, 400, "Only one of branch or tag may be given."},
		{"nested parameter", "/project/gh/acme/api/pipeline", "application/json", `{"parameters":{"a":{"b":1}}}`, 400, "Unexpected request body provided."},
		{"undeclared, rejecting project", "/project/gh/acme/strict/pipeline", "application/json", `{"parameters":{"nope":1}}`, 400, "Unexpected argument(s): nope"},
		{"run without definition", "/project/gh/acme/api/pipeline/run", "application/json", `{}`, 400, "Unexpected request body provided."},
		{"run with unknown field", "/project/gh/acme/api/pipeline/run", "application/json", `{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80","branch":"main"}`, 400, "Unexpected request body provided."},
		{"run with unknown definition", "/project/gh/acme/api/pipeline/run", "application/json", `{"definition_id":"99999999-5541-4bbf-88a2-55e9f7281f80"}`, 404, "Entity not found"},
		{"run as one escaped segment", "/project/gh%2Facme%2Fapi/pipeline/run", "application/json", `{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80"}`, 404, "Not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := c.do("POST", tc.path, tc.ctype, tc.body)
			var m struct{ Message string }
			json.Unmarshal(body, &m)
			if code != tc.code || m.Message != tc.message {
				t.Errorf("POST %s %s = %d %s, want %d %q", tc.path, tc.body, code, body, tc.code, tc.message)
			}
		})
	}
}

func TestUndeclaredParameterErrorsThePipeline(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Now())
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), clk)
	c := call{t, host, "fake-token-1"}
	code, created := c.json("POST", "/project/gh/acme/api/pipeline", `{"parameters":{"nope":1,"deploy":"yes"}}`)
	if code != 201 {
		t.Fatalf("code = %d", code)
	}
	clk.Advance(time.Second)
	_, p := c.json("GET", "/pipeline/"+created["id"].(string), "")
	errs, _ := json.Marshal(p["errors"])
	if p["state"] != "errored" || !bytes.Contains(errs, []byte("Unexpected argument(s): nope")) || !bytes.Contains(errs, []byte("deploy")) {
		t.Errorf("pipeline = %v %s", p["state"], errs)
	}
}

func TestBodyIgnoredWithoutJSONContentType(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Now())
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), clk)
	c := call{t, host, "fake-token-1"}
	code, body := c.do("POST", "/project/gh/acme/api/pipeline", "application/x-www-form-urlencoded", `{"branch":"nope","parameters":{"x":1}}`)
	if code != 201 {
		t.Fatalf("code = %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	_, p := c.json("GET", "/pipeline/"+created.ID, "")
	if vcs := p["vcs"].(map[string]any); vcs["branch"] != "main" || len(p["trigger_parameters"].(map[string]any)) != 0 {
		t.Errorf("pipeline ran on %v with %v; CircleCI ignores the body and uses the default branch", vcs["branch"], p["trigger_parameters"])
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	_, host := simtest.Start(t, circlecitest.MustParse(testScenario), nil)
	for _, tc := range []struct {
		name string
		set  func(*http.Request)
		code int
	}{
		{"circle-token", func(r *http.Request) { r.Header.Set("Circle-Token", "fake-token-1") }, 200},
		{"basic", func(r *http.Request) { r.SetBasicAuth("fake-token-1", "") }, 200},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer fake-token-1") }, 200},
		{"wrong", func(r *http.Request) { r.Header.Set("Circle-Token", "fake-wrong") }, 401},
		{"none", func(r *http.Request) {}, 401},
	} {
		req, _ := http.NewRequest("GET", host+"/api/v2/me", nil)
		tc.set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	sc := `{"tokens":["fake-token-1"],"projects":[{"slug":"gh/a/b"}],"faults":[
	  {"method":"POST","path":"/project/*/pipeline","status":502,"count":1,"after_effect":true},
	  {"method":"GET","path":"/me","status":429,"retry_after":"3","body":"Rate limited.","count":1},
	  {"method":"GET","path":"/me","status":200,"body":"<html>oops","content_type":"text/html","skip":1,"count":1}
	]}`
	s, host := simtest.Start(t, circlecitest.MustParse(sc), nil)
	c := call{t, host, "fake-token-1"}
	if code, _ := c.do("POST", "/project/gh/a/b/pipeline", "application/json", "{}"); code != 502 {
		t.Errorf("first trigger = %d, want 502", code)
	}
	if n := s.PipelineCount("gh/a/b"); n != 1 {
		t.Errorf("after_effect fault: %d pipelines, want 1", n)
	}
	if code, body := c.do("GET", "/me", "", ""); code != 429 || string(body) != "Rate limited." {
		t.Errorf("429 fault = %d %s", code, body)
	}
	if code, body := c.do("GET", "/me", "", ""); code != 200 || !strings.HasPrefix(string(body), "{") {
		t.Errorf("skipped by the html fault = %d %s", code, body)
	}
	if code, body := c.do("GET", "/me", "", ""); code != 200 || !strings.HasPrefix(string(body), "<html>") {
		t.Errorf("html fault = %d %s", code, body)
	}
	if code, _ := c.do("GET", "/me", "", ""); code != 200 {
		t.Errorf("after the faults: %d", code)
	}
	reqs := s.Requests()
	if len(reqs) != 5 || !reqs[0].Fault || reqs[2].Fault || !reqs[3].Fault || reqs[4].Fault {
		t.Errorf("recorded %+v", reqs)
	}
}

func TestScenarioErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`{"projects":[{"slug":"acme"}]}`,
		`{"projects":[{"slug":"gh/a/b","pipeline":{"workflows":[{"name":"w","status":"done"}]}}]}`,
		`{"projects":[{"slug":"gh/a/b","typo":1}]}`,
		`{"faults":[{"path":"/x"}]}`,
	} {
		if _, err := circlecitest.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%s) accepted", bad)
		}
	}
	if _, err := circlecitest.Open("demo"); err != nil {
		t.Errorf("built-in demo: %v", err)
	}
}

// The answers of the endpoints for failure insight, reruns, dynamic config
// detection and predicted waits match the spec too.
func TestMoreAnswersMatchTheOpenAPISpec(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	_, host := simtest.Start(t, circlecitest.MustParse(`{"tokens": ["fake-token-1"], "projects": [{"slug": "gh/acme/api",
		"insights": {"runs": 5},
		"pipeline": {"workflows": [{"name": "build", "duration": "2s", "status": "failed", "jobs": [
			{"name": "unit", "status": "failed",
			 "tests": [{"name": "adds", "classname": "calc", "result": "failure", "message": "want 2\ngot 3"}, {"name": "subtracts", "file": "calc_test.go"}],
			 "artifacts": [{"path": "coverage.html"}]}]}]}}]}`), clk)
	c := call{t, host, "fake-token-1"}
	check := func(op string, code int, body []byte) { t.Helper(); conforms(t, op, code, body, true) }
	code, body := c.do("POST", "/project/gh/acme/api/pipeline", "application/json", `{"branch":"main"}`)
	check("triggerPipeline", code, body)
	var p struct{ ID string }
	json.Unmarshal(body, &p)
	clk.Advance(10 * time.Second)

	code, body = c.do("GET", "/me", "", "")
	check("getCurrentUser", code, body)
	code, body = c.do("GET", "/pipeline/"+p.ID+"/config", "", "")
	check("getPipelineConfigById", code, body)
	code, body = c.do("GET", "/project/gh/acme/api/pipeline?branch=main", "", "")
	check("listPipelinesForProject", code, body)

	_, wfs := c.json("GET", "/pipeline/"+p.ID+"/workflow", "")
	wf := wfs["items"].([]any)[0].(map[string]any)["id"].(string)
	_, jobs := c.json("GET", "/workflow/"+wf+"/job", "")
	num := int(jobs["items"].([]any)[0].(map[string]any)["job_number"].(float64))
	code, body = c.do("GET", fmt.Sprintf("/project/gh/acme/api/%d/tests", num), "", "")
	check("getTests", code, body)
	code, body = c.do("GET", fmt.Sprintf("/project/gh/acme/api/%d/artifacts", num), "", "")
	check("getJobArtifacts", code, body)
	code, body = c.do("POST", "/workflow/"+wf+"/rerun", "application/json", `{"from_failed": true}`)
	check("rerunWorkflow", code, body)

	code, body = c.do("GET", "/insights/gh/acme/api/workflows?branch=main", "", "")
	check("getProjectWorkflowMetrics", code, body)
	code, body = c.do("GET", "/insights/gh/acme/api/workflows/build", "", "")
	check("getProjectWorkflowRuns", code, body)
	code, body = c.do("GET", "/insights/gh/acme/api/workflows/build/summary", "", "")
	check("getWorkflowSummary", code, body)
}

// What today's CircleCI does that older answers did not show: automatic
// reruns of a workflow with max_auto_reruns (and one CircleCI declines), a
// pipeline created with a plan error and no workflow, and approval jobs
// with a job number. Every answer stays valid against the spec.
func TestAutoRerunsPlanErrorsAndNumberedApprovals(t *testing.T) {
	t.Parallel()
	clk := circlecitest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s, host := simtest.Start(t, circlecitest.MustParse(`{"tokens": ["fake-token-1"], "projects": [
		{"slug": "gh/acme/flaky", "pipeline": {"workflows": [
			{"name": "test", "duration": "10s", "status": "failed", "max_auto_reruns": 3, "auto_rerun_delay": "5s",
			 "jobs": [{"name": "unit", "status": "failed"}, {"name": "lint", "status": "success"}],
			 "reruns": [{"duration": "10s", "status": "failed"}, {"duration": "10s", "status": "success"}]},
			{"name": "declined", "duration": "10s", "status": "failed", "max_auto_reruns": 2, "decline_auto_reruns": true},
			{"name": "deploy", "steps": [{"at": "0s", "status": "on_hold"}], "jobs": [
				{"name": "hold", "type": "approval", "status": "on_hold"}, {"name": "old-hold", "type": "approval", "status": "on_hold", "unnumbered": true}]}]}},
		{"slug": "gh/acme/broke", "pipeline": {"errors": [{"type": "plan", "message": "This organization has run out of credits."}], "errors_state": "created"}}]}`), clk)
	c := call{t, host, "fake-token-1"}
	check := func(op string, code int, body []byte) { t.Helper(); conforms(t, op, code, body, false) }
	_, flaky := c.json("POST", "/project/gh/acme/flaky/pipeline", "{}")
	_, broke := c.json("POST", "/project/gh/acme/broke/pipeline", "{}")

	type run struct {
		Name, Status, ID string
		Max              int `json:"max_auto_reruns"`
		N                int `json:"auto_rerun_number"`
	}
	runs := func() []run {
		t.Helper()
		code, body := c.do("GET", "/pipeline/"+flaky["id"].(string)+"/workflow", "", "")
		check("listWorkflowsByPipelineId", code, body)
		var page struct{ Items []run }
		json.Unmarshal(body, &page)
		slices.Reverse(page.Items) // oldest first
		return page.Items
	}
	clk.Advance(11 * time.Second) // the first run of test has failed; its rerun is due in 5s
	if got := runs(); len(got) != 3 || got[0].Name != "test" || got[0].Status != "failed" || got[0].Max != 3 || got[0].N != 0 {
		t.Fatalf("after the first failure: %+v", got)
	}
	clk.Advance(5 * time.Second)
	got := runs()
	if len(got) != 4 || got[3].Name != "test" || got[3].Status != "running" || got[3].N != 1 || got[3].Max != 3 {
		t.Fatalf("5s later, the first automatic rerun: %+v", got)
	}
	code, body := c.do("GET", "/workflow/"+got[3].ID, "", "")
	check("getWorkflowById", code, body)
	code, body = c.do("GET", "/workflow/"+got[3].ID+"/job", "", "")
	check("listWorkflowJobs", code, body)
	if strings.Contains(string(body), `"lint"`) || !strings.Contains(string(body), `"unit"`) {
		t.Errorf("an automatic rerun reruns from failed: %s", body)
	}
	clk.Advance(time.Minute)
	got = runs()
	var test []run
	for _, r := range got {
		if r.Name == "test" {
			test = append(test, r)
		}
		if r.Name == "declined" && r.N != 0 {
			t.Errorf("a declined rerun came: %+v", r)
		}
	}
	if len(test) != 3 || test[1].Status != "failed" || test[2].Status != "success" || test[2].N != 2 {
		t.Errorf("the second automatic rerun passes, and ends the line: %+v", test)
	}
	if end, ok := s.Ended(flaky["id"].(string)); ok {
		t.Errorf("the pipeline ended at %s with deploy on hold", end)
	}

	deploy := got[slices.IndexFunc(got, func(r run) bool { return r.Name == "deploy" })].ID
	_, jobs := c.json("GET", "/workflow/"+deploy+"/job", "")
	items := jobs["items"].([]any)
	if hold := items[0].(map[string]any); hold["type"] != "approval" || hold["job_number"] == nil || hold["started_at"] != nil {
		t.Errorf("an approval job waiting, as listed today: %v", hold)
	}
	if old := items[1].(map[string]any); old["job_number"] != nil {
		t.Errorf("an unnumbered approval job: %v", old)
	}

	code, body = c.do("GET", "/pipeline/"+broke["id"].(string), "", "")
	check("getPipelineById", code, body)
	var p struct {
		State  string
		Errors []struct{ Type, Message string }
	}
	json.Unmarshal(body, &p)
	_, wfs := c.json("GET", "/pipeline/"+broke["id"].(string)+"/workflow", "")
	if p.State != "created" || len(p.Errors) != 1 || p.Errors[0].Type != "plan" || len(wfs["items"].([]any)) != 0 {
		t.Errorf("a pipeline that cannot run for its plan: %+v, workflows %v", p, wfs["items"])
	}
}

// A page of a list is partial until the read it starts has fetched the
// last page: a client that stopped half-way never saw the whole list.
func TestPartialReads(t *testing.T) {
	t.Parallel()
	sc := `{"tokens":["fake-token-1"],"page_size":1,"projects":[{"slug":"gh/a/b","seed":[{},{},{}]}]}`
	s, host := simtest.Start(t, circlecitest.MustParse(sc), nil)
	c := call{t, host, "fake-token-1"}
	next := func(page map[string]any) string { tok, _ := page["next_page_token"].(string); return tok }
	_, p1 := c.json("GET", "/project/gh/a/b/pipeline", "")
	_, p2 := c.json("GET", "/project/gh/a/b/pipeline?page-token="+next(p1), "")
	c.json("GET", "/project/gh/a/b/pipeline", "") // another read, left after its first page
	_, p3 := c.json("GET", "/project/gh/a/b/pipeline?page-token="+next(p2), "")
	if next(p3) != "" {
		t.Fatalf("a third page with a next page: %v", p3)
	}
	var partial []bool
	for _, q := range s.Requests() {
		partial = append(partial, q.Partial())
	}
	if want := []bool{false, false, true, false}; !slices.Equal(partial, want) {
		t.Errorf("partial = %v, want %v", partial, want)
	}
}

// A workflow timed by its jobs: each job blocked until those it requires
// end, then running, then done, with its own times and dependencies; the
// workflow ends with its last job; insights know each job's history, and
// the workflow's history is its jobs' chain. Answers match the spec.
func TestWorkflowTimedByItsJobs(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := circlecitest.NewFakeClock(start)
	s, host := simtest.Start(t, circlecitest.MustParse(`{"tokens": ["fake-token-1"], "projects": [{"slug": "gh/acme/api",
		"insights": {"runs": 20},
		"pipeline": {"workflows": [{"name": "build", "jobs": [
			{"name": "setup", "duration": "10s"},
			{"name": "test", "duration": "60s", "requires": ["setup"]},
			{"name": "lint", "duration": "5s", "requires": ["setup"]},
			{"name": "deploy", "duration": "20s", "requires": ["test", "lint"]}]}]}}]}`), clk)
	c := call{t, host, "fake-token-1"}
	check := func(op string, code int, body []byte) { t.Helper(); conforms(t, op, code, body, true) }
	_, p := c.json("POST", "/project/gh/acme/api/pipeline", "{}")
	clk.Advance(time.Second) // created at 300ms, the workflow listed at 500ms
	_, wfs := c.json("GET", "/pipeline/"+p["id"].(string)+"/workflow", "")
	wf := wfs["items"].([]any)[0].(map[string]any)["id"].(string)
	type job struct {
		ID, Name, Status string
		StartedAt        *string  `json:"started_at"`
		StoppedAt        *string  `json:"stopped_at"`
		Dependencies     []string `json:"dependencies"`
	}
	jobs := func(at time.Duration) map[string]job {
		clk.Advance(start.Add(at).Sub(clk.Now()))
		code, body := c.do("GET", "/workflow/"+wf+"/job", "", "")
		check("listWorkflowJobs", code, body)
		var page struct{ Items []job }
		json.Unmarshal(body, &page)
		out := map[string]job{}
		for _, j := range page.Items {
			out[j.Name] = j
		}
		return out
	}
	stamp := func(at time.Duration) string { return start.Add(at).UTC().Format("2006-01-02T15:04:05Z") }
	at := 500 * time.Millisecond // the workflow's appearance
	j := jobs(5 * time.Second)
	if j["setup"].Status != "running" || j["test"].Status != "blocked" || j["test"].StartedAt != nil ||
		!slices.Equal(j["deploy"].Dependencies, []string{j["test"].ID, j["lint"].ID}) {
		t.Errorf("at 5s: %+v", j)
	}
	j = jobs(at + 30*time.Second)
	if j["setup"].Status != "success" || *j["setup"].StoppedAt != stamp(at+10*time.Second) || j["test"].Status != "running" ||
		*j["test"].StartedAt != stamp(at+10*time.Second) || j["lint"].Status != "success" || j["deploy"].Status != "blocked" {
		t.Errorf("at 30s: %+v", j)
	}
	j = jobs(at + 80*time.Second)
	if j["deploy"].Status != "running" || *j["deploy"].StartedAt != stamp(at+70*time.Second) {
		t.Errorf("at 80s: %+v", j)
	}
	_, w := c.json("GET", "/workflow/"+wf, "")
	if w["status"] != "running" {
		t.Errorf("the workflow at 80s: %v", w["status"])
	}
	j = jobs(at + 90*time.Second)
	if _, w = c.json("GET", "/workflow/"+wf, ""); w["status"] != "success" || w["stopped_at"] != stamp(at+90*time.Second) ||
		j["deploy"].Status != "success" {
		t.Errorf("at 90s: the workflow %v %v, deploy %+v", w["status"], w["stopped_at"], j["deploy"])
	}
	if end, ok := s.Ended(p["id"].(string)); !ok || end != start.Add(at+90*time.Second) {
		t.Errorf("Ended = %s, %v", end, ok)
	}

	code, body := c.do("GET", "/insights/gh/acme/api/workflows/build/jobs", "", "")
	check("getProjectWorkflowJobMetrics", code, body)
	var metrics struct {
		Items []struct {
			Name    string
			Metrics struct {
				TotalRuns       int                  `json:"total_runs"`
				DurationMetrics struct{ Median int } `json:"duration_metrics"`
			}
		}
	}
	json.Unmarshal(body, &metrics)
	var names []string
	for _, m := range metrics.Items {
		names = append(names, fmt.Sprintf("%s:%d:%d", m.Name, m.Metrics.TotalRuns, m.Metrics.DurationMetrics.Median))
	}
	if want := []string{"setup:20:10", "test:20:60", "lint:20:5", "deploy:20:20"}; !slices.Equal(names, want) {
		t.Errorf("job metrics %v, want %v", names, want)
	}
	_, all := c.json("GET", "/insights/gh/acme/api/workflows", "")
	if m := all["items"].([]any)[0].(map[string]any)["metrics"].(map[string]any)["duration_metrics"].(map[string]any); m["median"] != 90.0 {
		t.Errorf("the workflow's median: %v, want its jobs' chain, 90", m["median"])
	}
}

// A job of a workflow timed by its jobs that fails: the jobs that require
// it do not run, the workflow is failing while others still run, then
// failed.
func TestTimedJobThatFails(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := circlecitest.NewFakeClock(start)
	_, host := simtest.Start(t, circlecitest.MustParse(`{"tokens": ["fake-token-1"], "projects": [{"slug": "gh/acme/api",
		"pipeline": {"workflows": [{"name": "build", "jobs": [
			{"name": "a", "duration": "10s"},
			{"name": "b", "duration": "5s", "status": "failed", "requires": ["a"]},
			{"name": "c", "duration": "20s", "requires": ["b"]},
			{"name": "d", "duration": "30s", "requires": ["a"]}]}]}}]}`), clk)
	c := call{t, host, "fake-token-1"}
	_, p := c.json("POST", "/project/gh/acme/api/pipeline", "{}")
	clk.Advance(time.Second)
	_, wfs := c.json("GET", "/pipeline/"+p["id"].(string)+"/workflow", "")
	wf := wfs["items"].([]any)[0].(map[string]any)["id"].(string)
	at := 500 * time.Millisecond
	state := func(after time.Duration) string {
		clk.Advance(start.Add(at + after).Sub(clk.Now()))
		_, w := c.json("GET", "/workflow/"+wf, "")
		_, jobs := c.json("GET", "/workflow/"+wf+"/job", "")
		out := fmt.Sprint(w["status"])
		for _, j := range jobs["items"].([]any) {
			out += " " + j.(map[string]any)["status"].(string)
		}
		return out
	}
	for _, tc := range []struct {
		after time.Duration
		want  string
	}{
		{12 * time.Second, "running success running blocked running"},
		{20 * time.Second, "failing success failed not_run running"},
		{41 * time.Second, "failed success failed not_run success"},
	} {
		if got := state(tc.after); got != tc.want {
			t.Errorf("at %s: %s, want %s", tc.after, got, tc.want)
		}
	}
}

// A read that ends on an empty page, after pages that held every item,
// saw the whole list, though the empty page carries a token: it is not
// partial (fault-schedule seed 647310).
func TestReadEndingOnAnEmptyPageIsWhole(t *testing.T) {
	t.Parallel()
	sc := `{"tokens":["fake-token-1"],"page_size":2,"projects":[{"slug":"gh/a/b","seed":[{},{}]}],
		"faults":[{"method":"GET","path":"/project/*/pipeline","endless":"empty","count":2}]}`
	s, host := simtest.Start(t, circlecitest.MustParse(sc), nil)
	c := call{t, host, "fake-token-1"}
	_, p1 := c.json("GET", "/project/gh/a/b/pipeline", "")
	tok, _ := p1["next_page_token"].(string)
	_, p2 := c.json("GET", "/project/gh/a/b/pipeline?page-token="+tok, "")
	if len(p1["items"].([]any)) != 2 || len(p2["items"].([]any)) != 0 || p2["next_page_token"] == nil {
		t.Fatalf("pages %v and %v; want both pipelines, then an empty page with a token", p1, p2)
	}
	for _, q := range s.Requests() {
		if q.Partial() || q.Mangled() {
			t.Errorf("%s?%s: partial %t, mangled %t; want a whole read", q.Path, q.Query, q.Partial(), q.Mangled())
		}
	}
}
