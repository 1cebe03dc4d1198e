package circleci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

const fakeToken = "fake-token-for-tests-0000"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseRecordedAnswers(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"trigger-pipeline.201.gravitee.json", "trigger-pipeline.201.api-preview-docs-issue44.json", "trigger-pipeline.201.docs-example.json"} {
		p, err := ParsePipeline(read(t, name))
		if err != nil || p.ID == "" || p.Number == 0 || p.State != StatePending || p.CreatedAt.IsZero() {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}
	p, err := ParsePipeline(read(t, "get-pipeline-by-number.200.gravitee.json"))
	if err != nil || p.Number != 126 || p.State != StateCreated || p.Branch != "feature/specs_implementation" || p.TriggerType != "webhook" || p.ProjectSlug != "gh/gravitee-lab/GraviteeCiCdOrchestrator" {
		t.Errorf("pipeline: %+v, %v", p, err)
	}
	page, err := parsePage(read(t, "project-pipelines.200.page1-with-next_page_token.da-ds.json"))
	if err != nil || len(page.Items) != 1 || !strings.HasPrefix(page.Next, "AARLwwWYCXtgaRy9") {
		t.Errorf("pipelines page: %+v, %v", page, err)
	}
	page, err = parsePage(read(t, "pipeline-workflows.200.gravitee-failed-and-success.json"))
	if err != nil || page.Next != "" || len(page.Items) != 2 {
		t.Fatalf("workflows page: %+v, %v", page, err)
	}
	w, err := parseWorkflow(page.Items[0])
	want := Workflow{ID: "75e83261-5b3c-4bc0-ad11-514bb01f634c", Name: "docker_build_and_push", Status: "failed",
		PipelineID: "b4f4eabc-d572-4fdf-916a-d5f05d178221", PipelineNumber: 126, ProjectSlug: "gh/gravitee-lab/GraviteeCiCdOrchestrator",
		CreatedAt: time.Date(2020, 9, 12, 17, 47, 21, 0, time.UTC), StoppedAt: time.Date(2020, 9, 12, 17, 48, 26, 0, time.UTC)}
	if err != nil || w != want {
		t.Errorf("ParseWorkflow = %+v, %v; want %+v", w, err, want)
	}
	page, _ = parsePage(read(t, "workflow-jobs.200.approval-job.da-ds.json"))
	j, err := parseJob(page.Items[0])
	if err != nil || j.Type != "approval" || j.Number != 0 || !j.StartedAt.IsZero() {
		t.Errorf("approval job: %+v, %v", j, err)
	}
	j, err = parseJob(page.Items[1])
	if err != nil || j.Number != 1008 || j.Status != "success" {
		t.Errorf("build job: %+v, %v", j, err)
	}
}

func TestParseMessage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		string(read(t, "error.404.project-not-found.compact.json")): "Project not found",
		string(read(t, "error.404.project-not-found.pretty.json")):  "Project not found",
		string(read(t, "error.4xx.invalid-input.json")):             "Invalid input",
		`{"error":"Bad request"}`:                                   "Bad request",
		"Rate limited.":                                             "Rate limited.",
		"<html><body>502 Bad Gateway</body></html>":                 "",
		"": "",
	} {
		if got := ParseMessage([]byte(in)); got != want {
			t.Errorf("ParseMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRejectsWhatCannotBeRead(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		``:           "not JSON: an empty body",
		`<html>`:     "not JSON: an HTML page",
		`{"id":"x"}`: "pipeline is missing id, number or state",
		`{"id":"x","number":"3","state":"created"}`: "pipeline is missing id, number or state",
		`[]`:                            "expected a JSON object, got \"[]\"",
		`{"number":1,"state":"created"`: "not JSON",
	} {
		if p, err := ParsePipeline([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePipeline(%q) = %+v, %v; want an error saying %q", body, p, err, want)
		}
	}
	for body, want := range map[string]string{`{}`: `no "items" array`, `{"items":{}}`: `no "items" array`, `{"items":null}`: `no "items" array`, `nope`: "not JSON"} {
		if _, err := parsePage([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parsePage(%q): %v, want an error saying %q", body, err, want)
		}
	}
	if _, err := parseWorkflow(gjson.Parse(`{"id":"x","name":"w"}`)); err == nil || err.Error() != "workflow is missing id, name or status" {
		t.Errorf("workflow without status: %v", err)
	}
}

// fakeClock moves on by what is slept. (circlecitest has the public one;
// it imports this package, so these tests keep their own.)
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.slept = append(f.slept, d)
	return nil
}

func newClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL + "/api/v2", Token: fakeToken, Clock: &fakeClock{now: time.Unix(0, 0)}}
}

func TestDoSendsHeadersAndMapsErrors(t *testing.T) {
	t.Parallel()
	var got http.Header
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header
		w.WriteHeader(404)
		fmt.Fprint(w, `{"message":"Project not found"}`)
	})
	c.UserAgent = "circleci-trigger/test"
	_, _, err := c.Do(context.Background(), "POST", "/project/gh/a/b/pipeline", nil, map[string]any{"branch": "main"})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 || se.Message != "Project not found" {
		t.Fatalf("err = %v", err)
	}
	if want := "POST /project/gh/a/b/pipeline: 404 Not Found: Project not found"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	for k, v := range map[string]string{"Circle-Token": fakeToken, "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "circleci-trigger/test"} {
		if got.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Get(k), v)
		}
	}
	if Transient(err) {
		t.Error("404 is transient")
	}
}

func TestRateLimitPausesEveryRequest(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			fmt.Fprint(w, "Rate limited.")
			return
		}
		fmt.Fprint(w, `{}`)
	})
	_, _, err := c.Do(context.Background(), "GET", "/me", nil, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 429 || se.RetryAfter != 7*time.Second || se.Message != "Rate limited." || !Transient(err) {
		t.Fatalf("err = %#v", err)
	}
	if _, _, err := c.Do(context.Background(), "GET", "/me", nil, nil); err != nil {
		t.Fatal(err)
	}
	if slept := c.Clock.(*fakeClock).slept; len(slept) != 1 || slept[0] != 7*time.Second {
		t.Errorf("slept %v before the next request, want [7s]", slept)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "0.5": 500 * time.Millisecond, "-1": 0, "NaN": 0, "junk": 0,
		"99999999": 5 * time.Minute, "Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

// A list that would never end costs a request or two, not a hundred.
func TestListsThatNeverEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		page  func(n int32) string
		want  string // "" for no error
		calls int32
	}{
		{"repeated token", func(n int32) string {
			return fmt.Sprintf(`{"items":[{"id":"w%d","name":"b","status":"success"}],"next_page_token":"same"}`, n)
		}, "came back twice", 2},
		{"fresh tokens, empty pages", func(n int32) string { return fmt.Sprintf(`{"items":[],"next_page_token":"t%d"}`, n) }, "", 1},
		{"fresh tokens, the same items", func(n int32) string {
			return fmt.Sprintf(`{"items":[{"id":"w1","name":"b","status":"success"}],"next_page_token":"t%d"}`, n)
		}, "item w1 listed twice", 2},
	} {
		var n atomic.Int32
		c := newClient(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.page(n.Add(1))) })
		_, err := c.Workflows(context.Background(), "p")
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) || n.Load() != tc.calls {
			t.Errorf("%s: err = %v after %d requests; want %q after %d", tc.name, err, n.Load(), tc.want, tc.calls)
		}
	}
}

// MyPipelines reads back page after page until it meets an older
// pipeline, and tells each pipeline's age by the Date of its answer.
func TestMyPipelinesReadsBackToSince(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	older := func(p Pipeline) bool { return p.CreatedAt.Before(since) }
	var n atomic.Int32
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) // page i holds pipelines created 30-i*5 and 28-i*5 seconds after midnight
		w.Header().Set("Date", "Thu, 01 Jan 2026 00:01:00 GMT")
		fmt.Fprintf(w, `{"items":[{"id":"a%d","number":%d,"state":"created","created_at":"2026-01-01T00:00:%02d.000Z"},
			{"id":"b%d","number":%d,"state":"created","created_at":"2026-01-01T00:00:%02d.000Z"}],"next_page_token":"t%d"}`,
			i, 2*i, 30-i*5, i, 2*i+1, 28-i*5, i)
	})
	slug, _ := ParseSlug("gh/acme/api")
	ps, complete, err := c.MyPipelines(context.Background(), slug, older, 10)
	if err != nil || !complete || len(ps) != 8 || n.Load() != 4 {
		t.Errorf("MyPipelines = %d pipelines, complete %v, %v after %d pages; want 8, true after 4", len(ps), complete, err, n.Load())
	}
	if age := ps[0].AsOf.Sub(ps[0].CreatedAt); age != 35*time.Second {
		t.Errorf("the first pipeline's age by its answer's Date: %s, want 35s", age)
	}
	n.Store(0)
	_, complete, err = c.MyPipelines(context.Background(), slug, older, 2)
	if err != nil || complete {
		t.Errorf("2 pages: complete %v, %v; want incomplete", complete, err)
	}
}

func TestListReadsEveryPage(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page-token") {
		case "":
			fmt.Fprint(w, `{"items":[{"id":"1","name":"a","status":"success"}],"next_page_token":"t/2+"}`)
		case "t/2+":
			fmt.Fprint(w, `{"items":[{"id":"2","name":"b","status":"running","stopped_at":null}],"next_page_token":null}`)
		default:
			w.WriteHeader(400)
		}
	})
	wfs, err := c.Workflows(context.Background(), "p")
	if err != nil || len(wfs) != 2 || wfs[1].Name != "b" {
		t.Errorf("Workflows = %+v, %v", wfs, err)
	}
}

func TestOversizedAndUnreadableAnswers(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/pipeline/big":
			fmt.Fprint(w, `{"id":"`+strings.Repeat("x", 2000)+`"}`)
		case "/api/v2/pipeline/html":
			fmt.Fprint(w, "<!DOCTYPE html><html>maintenance</html>")
		}
	})
	c.MaxBody = 1000
	for _, id := range []string{"big", "html"} {
		_, err := c.Pipeline(context.Background(), id)
		var de *DecodeError
		if !errors.As(err, &de) || !Transient(err) {
			t.Errorf("Pipeline(%s) err = %v, want a DecodeError", id, err)
		}
	}
}

func TestRedirectToAnotherHostKeepsTheToken(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Circle-Token") != "" {
			leaked.Store(true)
		}
	}))
	defer evil.Close()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/steal", http.StatusTemporaryRedirect)
	})
	_, err := c.Pipeline(context.Background(), "p")
	var re *RedirectError
	if !errors.As(err, &re) || Transient(err) {
		t.Errorf("err = %v, want a permanent RedirectError", err)
	}
	if leaked.Load() {
		t.Error("the token was sent to the other host")
	}
}

func TestSlowAnswersTimeOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	c := &Client{BaseURL: srv.URL, Token: fakeToken, Timeout: 50 * time.Millisecond}
	_, err := c.Pipeline(context.Background(), "p")
	var ne *NetError
	if !errors.As(err, &ne) || !ne.Sent || !Transient(err) {
		t.Fatalf("err = %#v, want a transient NetError after sending", err)
	}
}

func TestNetErrorTellsWhetherTheRequestWasSent(t *testing.T) {
	t.Parallel()
	c := &Client{BaseURL: "http://127.0.0.1:1/api/v2", Token: fakeToken}
	_, _, err := c.Do(context.Background(), "POST", "/x", nil, map[string]any{})
	var ne *NetError
	if !errors.As(err, &ne) || ne.Sent {
		t.Fatalf("refused connection: %#v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c = &Client{BaseURL: srv.URL, Token: fakeToken}
	_, _, err = c.Do(context.Background(), "POST", "/x", nil, map[string]any{})
	if !errors.As(err, &ne) || !ne.Sent {
		t.Fatalf("dropped after sending: %#v", err)
	}
	if strings.Contains(err.Error(), fakeToken) {
		t.Error("token in error")
	}
}

func TestWebURLs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ host, slug, want string }{
		{"https://circleci.com", "gh/acme/api", "https://app.circleci.com/pipelines/github/acme/api/7/workflows/w"},
		{"https://circleci.com", "bb/acme/api", "https://app.circleci.com/pipelines/bitbucket/acme/api/7/workflows/w"},
		{"https://circleci.com", "circleci/O/P", "https://app.circleci.com/pipelines/circleci/O/P/7/workflows/w"},
		{"https://ci.example.com", "gh/acme/api", "https://app.ci.example.com/pipelines/github/acme/api/7/workflows/w"},
		{"http://127.0.0.1:8080", "gh/acme/api", "http://127.0.0.1:8080/pipelines/github/acme/api/7/workflows/w"},
	} {
		if got := NewWebURLs(tc.host).Workflow(tc.slug, 7, "w"); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.host, tc.slug, got, tc.want)
		}
	}
	u := NewWebURLs("https://circleci.com")
	for _, j := range []Job{{Type: "approval"}, {Type: "approval", Number: 12}, {Type: "build"}} {
		if got := u.Job("gh/a/b", 7, "w", j); !strings.HasSuffix(got, "/workflows/w") {
			t.Errorf("job %+v links to %s, want its workflow", j, got)
		}
	}
	if got := u.Job("gh/a/b", 7, "w", Job{Type: "build", Number: 12}); !strings.HasSuffix(got, "/workflows/w/jobs/12") {
		t.Errorf("build job link = %s", got)
	}
}

// fixtures adds every recorded answer as a seed.
func fixtures(f *testing.F) {
	for _, glob := range []string{"*.json", "replay/*.json"} {
		names, _ := filepath.Glob(filepath.Join("testdata", glob))
		for _, n := range names {
			f.Add(read(f, strings.TrimPrefix(n, "testdata/")))
		}
	}
}

// FuzzParsePipeline: what it accepts, encoding/json reads alike (id,
// number, state; its strings made safe to show by clean), and
// trigger_parameters decode to what encoding/json decodes.
func FuzzParsePipeline(f *testing.F) {
	fixtures(f)
	f.Add([]byte(`{"id":"x","number":1e400,"state":"created","errors":[{"type":1}]}`))
	f.Add([]byte(`{"id":"x","number":3,"state":"created","trigger_parameters":{"a":"<&>","n":12345678901234567,"f":1.5,"b":true,"o":{"k":[1,"x"]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePipeline(b)
		if err != nil || duplicateKeys(b) {
			return
		}
		var std struct {
			ID, State, ProjectSlug string
			Number                 json.Number
			TriggerParameters      map[string]any `json:"trigger_parameters"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&std); err != nil {
			return // gjson reads some texts encoding/json refuses (e.g. duplicate keys of other types)
		}
		n, nerr := std.Number.Int64()
		if clean(std.ID) != p.ID || clean(std.State) != p.State || (nerr == nil && n != p.Number) {
			t.Fatalf("%q: ParsePipeline = %q #%d %q; encoding/json: %q #%s %q", b, p.ID, p.Number, p.State, std.ID, std.Number, std.State)
		}
		for k, v := range std.TriggerParameters {
			if num, ok := v.(json.Number); ok {
				if i, err := num.Int64(); err == nil && p.TriggerParameters[k] != i {
					t.Fatalf("%q: parameter %s = %#v, encoding/json: %s", b, k, p.TriggerParameters[k], num)
				}
				continue
			}
			if s, ok := v.(string); ok && p.TriggerParameters[k] != s {
				t.Fatalf("%q: parameter %s = %#v, encoding/json: %q", b, k, p.TriggerParameters[k], s)
			}
		}
	})
}

// FuzzParseWorkflowList: a page it accepts has as many items as
// encoding/json sees, and each workflow it accepts has the id, name and
// status encoding/json reads.
func FuzzParseWorkflowList(f *testing.F) {
	fixtures(f)
	f.Add([]byte(`{"items":[{"id":"a","name":"test","status":"failed","max_auto_reruns":2,"auto_rerun_number":1},{"id":"b","name":"x","status":"failed","max_auto_reruns":1e2,"auto_rerun_number":-1}],"next_page_token":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePage(b)
		if err != nil || duplicateKeys(b) {
			return
		}
		var std struct {
			Items []map[string]any
			Next  *string `json:"next_page_token"`
		}
		if json.Unmarshal(b, &std) != nil {
			return
		}
		if len(std.Items) != len(p.Items) || (std.Next != nil && *std.Next != p.Next) {
			t.Fatalf("%q: %d items, next %q; encoding/json: %d, %v", b, len(p.Items), p.Next, len(std.Items), std.Next)
		}
		for i, it := range p.Items {
			w, err := parseWorkflow(it)
			if err != nil {
				continue
			}
			if cleaned(std.Items[i]["id"]) != w.ID || cleaned(std.Items[i]["name"]) != w.Name || cleaned(std.Items[i]["status"]) != w.Status {
				t.Fatalf("%q: item %d = %+v; encoding/json: %v", b, i, w, std.Items[i])
			}
			// A count is a whole number from 1 to 100, or not there.
			for key, got := range map[string]int{"max_auto_reruns": w.MaxAutoReruns, "auto_rerun_number": w.AutoRerunNumber} {
				n, isNum := std.Items[i][key].(float64)
				want := 0
				if isNum && n >= 1 && n <= 100 && n == float64(int(n)) {
					want = int(n)
				}
				if got != want {
					t.Fatalf("%q: item %d: %s = %d; encoding/json: %v", b, i, key, got, std.Items[i][key])
				}
			}
		}
	})
}

// FuzzParseJobList: a job it accepts has the id, name, status and job
// number encoding/json reads.
func FuzzParseJobList(f *testing.F) {
	fixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePage(b)
		if err != nil || duplicateKeys(b) {
			return
		}
		var std struct{ Items []map[string]any }
		if json.Unmarshal(b, &std) != nil || len(std.Items) != len(p.Items) {
			return
		}
		for i, it := range p.Items {
			j, err := parseJob(it)
			if err != nil {
				continue
			}
			num, _ := std.Items[i]["job_number"].(float64)
			if cleaned(std.Items[i]["id"]) != j.ID || cleaned(std.Items[i]["name"]) != j.Name || cleaned(std.Items[i]["status"]) != j.Status ||
				(num == float64(int64(num)) && int64(num) != j.Number) {
				t.Fatalf("%q: item %d = %+v; encoding/json: %v", b, i, j, std.Items[i])
			}
		}
	})
}

// FuzzParseMessage: the message is one line of at most 300 characters
// (and an ellipsis), and where encoding/json finds a "message" string it
// is that message, with its blanks folded.
func FuzzParseMessage(f *testing.F) {
	fixtures(f)
	for _, s := range []string{`{"message":"Project not found"}`, "Rate limited.", "<html>", `{"error":"x"}`, "\x00\xff", `{"message":"a\nb\t c"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := ParseMessage(b)
		if strings.ContainsAny(m, "\n\r") || len([]rune(m)) > 301 {
			t.Fatalf("%q: message %q is not one short line", b, m)
		}
		var std map[string]any // a struct would match "messAge" too
		if !duplicateKeys(b) && json.Unmarshal(b, &std) == nil {
			msg, _ := std["message"].(string)
			if want := strings.Join(strings.Fields(clean(msg)), " "); want != "" && len([]rune(want)) <= 300 && m != want {
				t.Fatalf("%q: message %q, encoding/json: %q", b, m, want)
			}
		}
	})
}

// cleaned is clean of a JSON value encoding/json decoded: a string's, or
// nil's (which gjson reads as ""), or the value itself.
func cleaned(v any) any {
	switch v := v.(type) {
	case string:
		return clean(v)
	case nil:
		return ""
	}
	return v
}

// duplicateKeys reports an object anywhere in b with a key twice: gjson
// reads the first, encoding/json the last, so the fuzz targets above do
// not compare them there.
func duplicateKeys(b []byte) bool {
	if !json.Valid(b) {
		return false // and the walk below never meets a token error
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func() bool
	walk = func() bool {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				s, _ := k.(string)
				if seen[s] {
					return true
				}
				seen[s] = true
				if walk() {
					return true
				}
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				if walk() {
					return true
				}
			}
			dec.Token()
		}
		return false
	}
	return walk()
}

// BaseURL may be the API's base or the host alone.
func TestBaseURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                    DefaultBaseURL,
		"https://circleci.com/api/v2":         "https://circleci.com/api/v2",
		"https://circleci.example.com":        "https://circleci.example.com/api/v2",
		"https://circleci.example.com/":       "https://circleci.example.com/api/v2",
		"http://127.0.0.1:8080/api/v2/":       "http://127.0.0.1:8080/api/v2",
		"https://example.com/circleci/api/v2": "https://example.com/circleci/api/v2",
	} {
		if got := (&Client{BaseURL: in}).base(); got != want {
			t.Errorf("BaseURL %q: requests go to %q, want %q", in, got, want)
		}
	}
}

// A request that runs out of time says whose time: the client's Timeout
// for one request, or the deadline of its context (then errors.Is
// context.DeadlineExceeded); the caller's cancellation stays as it is.
func TestRequestTimeouts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	t.Cleanup(func() { close(release) })
	c.Timeout = 50 * time.Millisecond
	_, _, err := c.Do(context.Background(), "GET", "/me", nil, nil)
	var ne *NetError
	if !errors.As(err, &ne) || !ne.Sent || err.Error() != "GET /me: no answer within 50ms" || errors.Is(err, context.DeadlineExceeded) || !Transient(err) {
		t.Errorf("the client's timeout: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = c.Do(ctx, "GET", "/me", nil, nil)
	if !errors.As(err, &ne) || err.Error() != "GET /me: no answer before the timeout" || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the context's deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, _, err = c.Do(ctx, "GET", "/me", nil, nil); err != context.Canceled {
		t.Errorf("canceled: %v", err)
	}
}

// A read that fails at a later page returns, with the error, what the
// pages before it listed: a cancel can still use them.
func TestListFailingAtALaterPage(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page-token") {
		case "":
			fmt.Fprint(w, `{"items":[{"id":"1","name":"a","status":"running"}],"next_page_token":"t2"}`)
		case "t2":
			fmt.Fprint(w, `{"items":[{"id":"2","name":"b","status":"running"}, {"id":"2","name":"b","status":"running"}],"next_page_token":"t3"}`)
		}
	})
	wfs, err := c.Workflows(context.Background(), "p")
	if err == nil || len(wfs) != 1 || wfs[0].ID != "1" {
		t.Errorf("Workflows = %+v, %v; want the first page's workflow and an error", wfs, err)
	}
}
