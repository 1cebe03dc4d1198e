package circlecitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

const tok = "fake-token-1-not-real"

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// world is a one-project scenario with the given faults.
func world(faults ...circlecitest.Fault) *circlecitest.Scenario {
	return &circlecitest.Scenario{
		Tokens:   []string{tok},
		Projects: []circlecitest.Project{{Slug: "gh/acme/api", Branches: []string{"*"}, Definitions: []string{"2338d0ae-5541-4bbf-88a2-55e9f7281f80"}}},
		Faults:   faults,
	}
}

func start(t *testing.T, sc *circlecitest.Scenario) (*circlecitest.Simulator, call, *circlecitest.FakeClock) {
	t.Helper()
	clk := circlecitest.NewFakeClock(epoch)
	s, host := simtest.Start(t, sc, clk)
	return s, call{t, host, tok}, clk
}

// page is one page of a list.
type page struct {
	Items []map[string]any `json:"items"`
	Next  *string          `json:"next_page_token"`
}

func (c call) page(path string) page {
	c.t.Helper()
	code, b := c.do("GET", path, "", "")
	var p page
	if err := json.Unmarshal(b, &p); err != nil || code != 200 {
		c.t.Fatalf("GET %s = %d %s", path, code, b)
	}
	return p
}

// all follows a list to its end.
func (c call) all(path string) []map[string]any {
	c.t.Helper()
	var items []map[string]any
	for next := ""; ; {
		p := c.page(path + next)
		items = append(items, p.Items...)
		if p.Next == nil {
			return items
		}
		next = "?page-token=" + *p.Next
	}
}

func (c call) trigger(body string) string {
	c.t.Helper()
	code, m := c.json("POST", "/project/gh/acme/api/pipeline", body)
	if code != 201 {
		c.t.Fatalf("trigger %s = %d %v", body, code, m)
	}
	return m["id"].(string)
}

func TestCountAndMatching(t *testing.T) {
	t.Parallel()
	s, c, _ := start(t, world())
	c.trigger(`{}`)
	c.trigger(`{"branch":"dev"}`)
	c.do("GET", "/me", "", "")
	if n := s.Count("POST", "/project/*/pipeline"); n != 2 {
		t.Errorf(`Count("POST", "/project/*/pipeline") = %d, want 2`, n)
	}
	if n := s.Count("", "*"); n != 3 {
		t.Errorf(`Count("", "*") = %d, want 3`, n)
	}
	if m := s.Matching("GET", "/me"); len(m) != 1 || m[0].Status != 200 {
		t.Errorf(`Matching("GET", "/me") = %+v`, m)
	}
	if n := s.Count("GET", "/project/*"); n != 0 {
		t.Errorf(`Count("GET", "/project/*") = %d, want 0`, n)
	}
}

func TestListLag(t *testing.T) {
	t.Parallel()
	sc := world()
	sc.ListLag = circlecitest.Duration(10 * time.Second)
	sc.Projects = append(sc.Projects, circlecitest.Project{Slug: "gh/acme/web", ListLag: circlecitest.Duration(time.Second)})
	_, c, clk := start(t, sc)
	id := c.trigger(`{}`)
	if code, _ := c.do("POST", "/project/gh/acme/web/pipeline", "application/json", `{}`); code != 201 {
		t.Fatalf("trigger web = %d", code)
	}
	if code, _ := c.do("GET", "/pipeline/"+id, "", ""); code != 200 {
		t.Errorf("GET /pipeline/{id} = %d during the lag, want 200", code)
	}
	for _, tc := range []struct {
		advance time.Duration
		api     int // pipelines listed in gh/acme/api
		web     int
	}{{0, 0, 0}, {time.Second, 0, 1}, {8 * time.Second, 0, 1}, {time.Second, 1, 1}} {
		clk.Advance(tc.advance)
		at := clk.Now().Sub(epoch)
		for _, path := range []string{"/project/gh/acme/api/pipeline/mine", "/project/gh/acme/api/pipeline"} {
			if n := len(c.page(path).Items); n != tc.api {
				t.Errorf("at %s: GET %s lists %d, want %d", at, path, n, tc.api)
			}
		}
		if n := len(c.page("/project/gh/acme/web/pipeline/mine").Items); n != tc.web {
			t.Errorf("at %s: gh/acme/web (list_lag 1s) lists %d, want %d", at, n, tc.web)
		}
	}
}

func TestClockSkew(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{-90 * time.Second, 2 * time.Hour} {
		sc := world(circlecitest.Fault{Method: "GET", Path: "/me", Status: 503, Count: 1})
		sc.ClockSkew = circlecitest.Duration(skew)
		sc.Projects[0].Pipeline.Workflows = []circlecitest.WorkflowSpec{{Name: "build", Duration: circlecitest.Duration(time.Minute)}}
		_, c, clk := start(t, sc)
		server := epoch.Add(skew)
		wantDate := server.Format(http.TimeFormat)
		for _, tc := range []struct{ name, path, token string }{
			{"fault", "/me", tok}, {"ok", "/me", tok}, {"401", "/me", "fake-wrong-not-real"}, {"404", "/nope", tok},
		} {
			resp, _ := call{t, c.host, tc.token}.send("GET", tc.path, "", "")
			if got := resp.Header.Get("Date"); got != wantDate {
				t.Errorf("skew %s, %s answer: Date = %q, want %q", skew, tc.name, got, wantDate)
			}
		}
		_, created := c.json("POST", "/project/gh/acme/api/pipeline", `{}`)
		if want := server.Format("2006-01-02T15:04:05.000Z"); created["created_at"] != want {
			t.Errorf("skew %s: created_at = %v, want %s", skew, created["created_at"], want)
		}
		clk.Advance(2 * time.Second)
		wf := c.page("/pipeline/" + created["id"].(string) + "/workflow").Items[0]
		if want := server.Add(500 * time.Millisecond).Format("2006-01-02T15:04:05Z"); wf["created_at"] != want {
			t.Errorf("skew %s: workflow created_at = %v, want %s", skew, wf["created_at"], want)
		}
	}
}

// A fault with after_effect creates the pipeline and then fails, on either
// trigger endpoint, from the request Skip lets through, Count times.
func TestAfterEffectOnEveryPost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ path, body string }{
		{"/project/gh/acme/api/pipeline", `{}`},
		{"/project/gh/acme/api/pipeline/run", `{"definition_id":"2338d0ae-5541-4bbf-88a2-55e9f7281f80"}`},
	} {
		s, c, _ := start(t, world(circlecitest.Fault{Method: "POST", Path: tc.path, Status: 500, AfterEffect: true, Skip: 1, Count: 2}))
		var codes []int
		for range 4 {
			code, _ := c.do("POST", tc.path, "application/json", tc.body)
			codes = append(codes, code)
		}
		if want := []int{201, 500, 500, 201}; !slices.Equal(codes, want) || s.PipelineCount("gh/acme/api") != 4 {
			t.Errorf("POST %s: answers %v and %d pipelines, want %v and 4", tc.path, codes, s.PipelineCount("gh/acme/api"), want)
		}
	}
}

func TestAfterEffectThenDrop(t *testing.T) {
	t.Parallel()
	s, c, _ := start(t, world(circlecitest.Fault{Method: "POST", Path: "/project/*/pipeline", Drop: true, AfterEffect: true}))
	req, _ := http.NewRequest("POST", c.host+"/api/v2/project/gh/acme/api/pipeline", strings.NewReader(`{}`))
	req.Header.Set("Circle-Token", tok)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if n := s.PipelineCount("gh/acme/api"); n != 1 {
		t.Errorf("%d pipelines, want 1", n)
	}
}

// With after_effect, Delay comes after the pipeline exists: its created_at
// is the request's time, and the answer the client gets is late.
func TestAfterEffectAnswersLate(t *testing.T) {
	t.Parallel()
	_, c, clk := start(t, world(circlecitest.Fault{Method: "POST", Path: "/project/*/pipeline", Delay: circlecitest.Duration(time.Minute), AfterEffect: true}))
	code, created := c.json("POST", "/project/gh/acme/api/pipeline", `{}`)
	if code != 201 || created["created_at"] != "2026-01-02T03:04:05.000Z" || clk.Now() != epoch.Add(time.Minute) {
		t.Errorf("= %d %v at %s, want 201 created at the start, answered a minute later", code, created, clk.Now())
	}
}

// A client that gives up on a hanging after_effect request has still created
// the pipeline.
func TestHangAfterEffectTimesOutTheClient(t *testing.T) {
	t.Parallel()
	s, c, _ := start(t, world(circlecitest.Fault{Method: "POST", Path: "/project/*/pipeline", Hang: circlecitest.Duration(time.Hour), AfterEffect: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", c.host+"/api/v2/project/gh/acme/api/pipeline", strings.NewReader(`{}`))
	req.Header.Set("Circle-Token", tok)
	began := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("hanging request answered %d", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(began) < 100*time.Millisecond {
		t.Errorf("err = %v after %s, want the client's deadline", err, time.Since(began))
	}
	if n := s.PipelineCount("gh/acme/api"); n != 1 {
		t.Errorf("%d pipelines, want 1", n)
	}
}

func TestHangEndsAndAnswers(t *testing.T) {
	t.Parallel()
	_, c, clk := start(t, world(circlecitest.Fault{Method: "GET", Path: "/me", Hang: circlecitest.Duration(50 * time.Millisecond)}))
	began := time.Now()
	if code, _ := c.do("GET", "/me", "", ""); code != 200 || time.Since(began) < 50*time.Millisecond {
		t.Errorf("= %d after %s, want 200 after 50ms", code, time.Since(began))
	}
	if clk.Now() != epoch {
		t.Errorf("hang moved the simulator's clock to %s; it waits on the real one", clk.Now())
	}
}

func TestOtherUsersPipelines(t *testing.T) {
	t.Parallel()
	sc := world()
	sc.Users = map[string]string{tok: "alice", "fake-token-2-not-real": "bob"}
	sc.PageSize = 2
	sc.Projects[0].Seed = []circlecitest.Extra{{Actor: "bob", Branch: "main"}}
	sc.Projects[0].Noise = []circlecitest.Extra{
		{Actor: "carol"}, // same branch and parameters, someone else
		{Parameters: map[string]any{"n": 2}, After: true}, // same user, other parameters
		{Parameters: map[string]any{}, Branch: "dev"},     // same user, other branch, none
	}
	s, c, _ := start(t, sc)
	c.trigger(`{"branch":"feature","parameters":{"n":1}}`)
	if _, err := s.CreateAs("dave", "gh/acme/api", "feature", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAs("dave", "gh/acme/nope", "", nil); err == nil {
		t.Error("CreateAs in an unknown project succeeded")
	}
	type seen struct {
		Actor, Branch string
		N             any
	}
	list := func(c call, path string) []seen {
		var out []seen
		for _, it := range c.all(path) {
			actor := it["trigger"].(map[string]any)["actor"].(map[string]any)["login"].(string)
			out = append(out, seen{actor, it["vcs"].(map[string]any)["branch"].(string), it["trigger_parameters"].(map[string]any)["n"]})
		}
		return out
	}
	mine := []seen{{"alice", "feature", 2.0}, {"alice", "feature", 1.0}, {"alice", "dev", nil}}
	if got := list(c, "/project/gh/acme/api/pipeline/mine"); !slices.Equal(got, mine) {
		t.Errorf("alice's pipeline/mine = %v, want %v", got, mine)
	}
	bob := call{t, c.host, "fake-token-2-not-real"}
	if got := list(bob, "/project/gh/acme/api/pipeline/mine"); !slices.Equal(got, []seen{{"bob", "main", nil}}) {
		t.Errorf("bob's pipeline/mine = %v", got)
	}
	all := []seen{{"dave", "feature", 1.0}, {"alice", "feature", 2.0}, {"alice", "feature", 1.0}, {"alice", "dev", nil}, {"carol", "feature", 1.0}, {"bob", "main", nil}}
	if got := list(c, "/project/gh/acme/api/pipeline"); !slices.Equal(got, all) {
		t.Errorf("the project's pipelines = %v, want %v", got, all)
	}
	if got := list(c, "/project/gh/acme/api/pipeline?branch=main"); !slices.Equal(got, all[5:]) {
		t.Errorf("?branch=main = %v", got)
	}
	if _, me := bob.json("GET", "/me", ""); me["login"] != "bob" {
		t.Errorf("bob's /me = %v", me)
	}
	if n := s.PipelineCount("gh/acme/api"); n != 1 {
		t.Errorf("PipelineCount = %d, want the one trigger", n)
	}
}

// A lying list: pipeline/mine holds a pipeline that says it is another
// project's.
func TestListWithAnotherProjectsPipeline(t *testing.T) {
	t.Parallel()
	sc := world()
	sc.Projects[0].Noise = []circlecitest.Extra{{Slug: "gh/acme/other"}}
	_, c, _ := start(t, sc)
	id := c.trigger(`{}`)
	var slugs []any
	for _, it := range c.all("/project/gh/acme/api/pipeline/mine") {
		slugs = append(slugs, it["project_slug"])
		if it["id"] == id && it["project_slug"] != "gh/acme/api" {
			t.Errorf("the client's own pipeline says %v", it["project_slug"])
		}
	}
	if !slices.Equal(slugs, []any{"gh/acme/api", "gh/acme/other"}) {
		t.Errorf("project_slug of the listed pipelines = %v", slugs)
	}
}

// Faults in a list apply in turn: each sees only the requests those before
// it let through.
func TestEchoToken(t *testing.T) {
	t.Parallel()
	_, c, _ := start(t, world(
		circlecitest.Fault{Path: "/me", Status: 401, EchoToken: true, Count: 1},
		circlecitest.Fault{Path: "/me", Status: 429, EchoToken: true, RetryAfter: "{token}", Headers: map[string]string{"X-Debug": "token={token}"}, Count: 1},
		circlecitest.Fault{Path: "/me", Status: 500, EchoToken: true, Body: "oops for {token}\n", Count: 1},
		circlecitest.Fault{Path: "/me", Status: 500, Body: "{token}", Count: 1},
	))
	for _, want := range []struct {
		code        int
		body        string
		retry, more string
	}{
		{401, `{"message":"Invalid token ` + tok + ` provided."}`, "", ""},
		{429, `{"message":"Rate limit exceeded. Token: ` + tok + `"}`, tok, "token=" + tok},
		{500, "oops for " + tok + "\n", "", ""},
		{500, "{token}", "", ""}, // only echo_token echoes
	} {
		resp, body := c.send("GET", "/me", "", "")
		if resp.StatusCode != want.code || string(body) != want.body || resp.Header.Get("Retry-After") != want.retry || resp.Header.Get("X-Debug") != want.more {
			t.Errorf("= %d %q Retry-After %q X-Debug %q, want %+v", resp.StatusCode, body, resp.Header.Get("Retry-After"), resp.Header.Get("X-Debug"), want)
		}
	}
}

// Names and messages are data: the simulator serves them verbatim.
func TestHostileStrings(t *testing.T) {
	t.Parallel()
	hostile := "deploy\n::warning::pwned\n::stop-commands::tok|a|b `rm -rf` \"q\" <b>&</b> ]]> %0A \x01\x07\x1b[31m\t\r end"
	long := strings.Repeat("ü|`::", 20000)
	sc := world(circlecitest.Fault{Path: "/me", Status: 500, Body: hostile, ContentType: "application/json"})
	sc.Projects[0].Pipeline.Workflows = []circlecitest.WorkflowSpec{
		{Name: hostile, Status: "failed", Jobs: []circlecitest.JobSpec{{Name: hostile, Status: "failed"}, {Name: long, Status: "success"}}},
		{Name: long},
	}
	sc.Projects = append(sc.Projects, circlecitest.Project{Slug: "gh/acme/bad", Pipeline: circlecitest.Timeline{Errors: []circlecitest.PipelineError{{Type: "config", Message: hostile + long}}}})
	_, c, clk := start(t, sc)
	id := c.trigger(`{}`)
	_, bad := c.json("POST", "/project/gh/acme/bad/pipeline", `{}`)
	clk.Advance(time.Minute)

	var names []any
	for _, wf := range c.all("/pipeline/" + id + "/workflow") {
		names = append(names, wf["name"])
		for _, job := range c.all("/workflow/" + wf["id"].(string) + "/job") {
			names = append(names, job["name"])
		}
	}
	if !slices.Equal(names, []any{long, hostile, hostile, long}) {
		t.Errorf("names served differ from the scenario's (%d of them)", len(names))
	}
	_, p := c.json("GET", "/pipeline/"+bad["id"].(string), "")
	if errs := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["message"] != hostile+long {
		t.Errorf("pipeline error message not served verbatim: %.80v", errs)
	}
	if _, body := c.do("GET", "/me", "", ""); string(body) != hostile {
		t.Errorf("fault body = %q, want %q", body, hostile)
	}
}

func TestHostileBodies(t *testing.T) {
	t.Parallel()
	_, c, _ := start(t, world(
		circlecitest.Fault{Path: "/me", Truncate: 10, Count: 1},
		circlecitest.Fault{Path: "/me", Size: 3 << 20, Count: 1},
		circlecitest.Fault{Path: "/me", Status: 200, ContentType: "text/html", Body: "<!doctype html><p>Sign in", Count: 1},
		circlecitest.Fault{Path: "/me", Length: 1000, Count: 1},
	))
	resp, body := c.send("GET", "/me", "", "")
	if resp.StatusCode != 200 || string(body) != `{"avatar_u` {
		t.Errorf("truncated: %d %q", resp.StatusCode, body)
	}
	resp, body = c.send("GET", "/me", "", "")
	if resp.StatusCode != 200 || len(body) != 3<<20 || !json.Valid(body) || !strings.HasPrefix(string(body), `{"avatar_url"`) {
		t.Errorf("padded: %d, %d bytes, valid JSON %v", resp.StatusCode, len(body), json.Valid(body))
	}
	resp, body = c.send("GET", "/me", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html" || !strings.HasPrefix(string(body), "<!doctype") {
		t.Errorf("html: %d %s %.100q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	req, _ := http.NewRequest("GET", c.host+"/api/v2/me", nil)
	req.Header.Set("Circle-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); resp.ContentLength != 1000 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("length: Content-Length %d, read error %v, want 1000 and an unexpected EOF", resp.ContentLength, err)
	}
}

func TestEndlessPages(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"empty", "repeat"} {
		sc := world(circlecitest.Fault{Method: "GET", Path: "/project/*/pipeline/mine", Endless: mode})
		sc.PageSize = 2
		s, c, _ := start(t, sc)
		for range 3 {
			c.trigger(`{}`)
		}
		first := c.page("/project/gh/acme/api/pipeline/mine")
		tokens := map[string]bool{}
		next := first.Next
		for i := range 50 {
			if next == nil || tokens[*next] {
				t.Fatalf("%s: page %d: token %v is missing or repeats", mode, i, next)
			}
			tokens[*next] = true
			p := c.page("/project/gh/acme/api/pipeline/mine?page-token=" + *next)
			want := first.Items
			if mode == "empty" {
				want = nil
			}
			if len(p.Items) != len(want) || (len(want) > 0 && p.Items[0]["id"] != want[0]["id"]) {
				t.Fatalf("%s: page %d holds %d items, want %d", mode, i, len(p.Items), len(want))
			}
			next = p.Next
		}
		// The real second page held the third pipeline: the read that
		// began with the first page never saw the truth.
		if q := s.Matching("GET", "/project/*/pipeline/mine"); !q[0].Mangled() {
			t.Errorf("%s: the first page of a read whose second page was replaced is not marked mangled", mode)
		}
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	sc := world()
	sc.RateLimit = &circlecitest.RateLimit{Limit: 3, Window: circlecitest.Duration(time.Minute)}
	s, c, clk := start(t, sc)
	for i, want := range []struct {
		advance          time.Duration
		code             int
		remaining, reset string
	}{
		{0, 200, "2", "60"}, {0, 200, "1", "60"}, {20 * time.Second, 200, "0", "40"},
		{0, 429, "0", "40"}, {39500 * time.Millisecond, 429, "0", "1"}, {time.Second, 200, "2", "60"},
	} {
		clk.Advance(want.advance)
		resp, body := c.send("GET", "/me", "", "")
		h := resp.Header
		if resp.StatusCode != want.code || h.Get("RateLimit-Remaining") != want.remaining || h.Get("RateLimit-Reset") != want.reset ||
			h.Get("RateLimit-Limit") != "3" || h.Get("X-RateLimit-Limit") != "3" ||
			h.Get("X-RateLimit-Remaining") != want.remaining || h.Get("X-RateLimit-Reset") != want.reset {
			t.Errorf("request %d: %d %s, headers %v; want %+v", i, resp.StatusCode, body, h, want)
		}
		if want.code == 429 && (h.Get("Retry-After") != want.reset || string(body) != `{"message":"Rate limit exceeded."}`) {
			t.Errorf("request %d: 429 with Retry-After %q and %s", i, h.Get("Retry-After"), body)
		}
	}
	if n := len(s.Matching("", "*")); n != 6 || !s.Requests()[3].Fault {
		t.Errorf("recorded %+v", s.Requests())
	}
}

// An older CircleCI server lists the setup workflow without its tag; the
// pipeline still goes through the dynamic config states.
func TestSetupWorkflowWithoutTag(t *testing.T) {
	t.Parallel()
	sc := world()
	sc.Projects[0].Pipeline.Workflows = []circlecitest.WorkflowSpec{
		{Name: "setup", Tag: "setup", HideTag: true, Duration: circlecitest.Duration(time.Second)},
		{Name: "build", Duration: circlecitest.Duration(time.Second)},
	}
	_, c, clk := start(t, sc)
	id := c.trigger(`{}`)
	var states []any
	for range 8 {
		_, p := c.json("GET", "/pipeline/"+id, "")
		if len(states) == 0 || states[len(states)-1] != p["state"] {
			states = append(states, p["state"])
		}
		for _, wf := range c.all("/pipeline/" + id + "/workflow") {
			if _, ok := wf["tag"]; ok {
				t.Errorf("workflow %v listed with tag %v", wf["name"], wf["tag"])
			}
		}
		clk.Advance(250 * time.Millisecond)
	}
	if want := []any{"setup-pending", "setup", "pending", "created"}; !slices.Equal(states, want) {
		t.Errorf("states = %v, want %v", states, want)
	}
}

func TestScenarioAsGoValue(t *testing.T) {
	t.Parallel()
	sc := world()
	circlecitest.NewSimulator(sc, nil)
	if sc.Projects[0].DefaultBranch != "" || sc.PageSize != 0 {
		t.Errorf("New changed the caller's scenario: %+v", sc.Projects[0])
	}
	for _, bad := range []*circlecitest.Scenario{
		world(circlecitest.Fault{Path: "/me", EchoToken: true, Delay: 1}),
		world(circlecitest.Fault{Path: "/me", Endless: "forever"}),
		world(circlecitest.Fault{Path: "/me"}),
		{Projects: []circlecitest.Project{{Slug: "gh/a/b", Noise: []circlecitest.Extra{{Branch: "main", Tag: "v1"}}}}},
		{Projects: []circlecitest.Project{{Slug: "gh/a/b", Seed: []circlecitest.Extra{{Slug: "nope"}}}}},
		{RateLimit: &circlecitest.RateLimit{}},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("Check(%+v) = nil", bad)
		}
	}
	if sc := circlecitest.MustParse(`{"users":{"fake-token-9-not-real":"erin"},"projects":[]}`); !slices.Equal(sc.Tokens, []string{"fake-token-9-not-real"}) {
		t.Errorf("a user's token is not accepted: tokens %v", sc.Tokens)
	}
}

func TestBuiltinScenarios(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"demo", "hostile"} {
		sc, err := circlecitest.Open(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		_, c, _ := start(t, sc)
		c.token = sc.Tokens[0]
		if code, _ := c.do("GET", "/me", "", ""); code != 200 {
			t.Errorf("%s: GET /me = %d", name, code)
		}
	}
}
