package trigger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

const token = "fake-token-trigger"

func start(t *testing.T, faults string) (*circlecitest.Simulator, *circleci.Client) {
	t.Helper()
	sc := fmt.Sprintf(`{"tokens":[%q],"projects":[
	  {"slug":"gh/acme/api","branches":["main"],"parameters":{"deploy":"boolean"},"definitions":["2338d0ae-5541-4bbf-88a2-55e9f7281f80"]},
	  {"slug":"circleci/org1/proj1","definitions":["11111111-2222-4333-8444-555555555555"],"not_created":"Ignoring pipeline due to CI skip in the commit"}
	],"faults":[%s]}`, token, faults)
	clk := circlecitest.NewFakeClock(time.Now())
	s, host := simtest.Start(t, circlecitest.MustParse(sc), clk)
	return s, &circleci.Client{BaseURL: host + "/api/v2", Token: token, Clock: clk}
}

var api = Request{Slug: circleci.Slug{VCS: "gh", Org: "acme", Project: "api"}, Branch: "main", Parameters: Parameters{"deploy": true}}

func TestExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fault string
		posts       int
		adopted     bool
	}{
		{"plain", ``, 1, false},
		{"502 after the pipeline was created", `{"method":"POST","path":"/project/*","status":502,"count":1,"after_effect":true}`, 1, true},
		{"connection dropped after the pipeline was created", `{"method":"POST","path":"/project/*","drop":true,"count":1,"after_effect":true}`, 1, true},
		{"connection dropped before any answer", `{"method":"POST","path":"/project/*","drop":true,"count":1}`, 2, false},
		{"503 before anything happened", `{"method":"POST","path":"/project/*","status":503,"count":2}`, 3, false},
		{"429 with Retry-After", `{"method":"POST","path":"/project/*","status":429,"retry_after":"5","count":1}`, 2, false},
		{"unreadable 201", `{"method":"POST","path":"/project/*","status":201,"body":"{\"id\":","count":1,"after_effect":true}`, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := start(t, tc.fault)
			res, err := Trigger(context.Background(), c, api, Options{})
			if err != nil {
				t.Fatalf("Trigger = %v", err)
			}
			if n := s.PipelineCount("gh/acme/api"); n != 1 {
				t.Errorf("%d pipelines exist, want exactly 1", n)
			}
			if got := s.Count("POST", "*"); got != tc.posts {
				t.Errorf("%d POSTs, want %d", got, tc.posts)
			}
			if res.Adopted != tc.adopted || res.Pipeline.Number != 1 {
				t.Errorf("result = %+v, want adopted=%v of pipeline #1", res, tc.adopted)
			}
		})
	}
}

func TestLookupFailureDoesNotSendAgain(t *testing.T) {
	t.Parallel()
	s, c := start(t, `{"method":"POST","path":"/project/*","status":502,"count":1,"after_effect":true},{"method":"GET","path":"/project/*/pipeline/mine","status":500}`)
	_, err := Trigger(context.Background(), c, api, Options{})
	if err == nil || !strings.Contains(err.Error(), "not sent again") {
		t.Fatalf("err = %v", err)
	}
	if s.Count("POST", "*") != 1 || s.PipelineCount("gh/acme/api") != 1 {
		t.Errorf("%d POSTs, %d pipelines", s.Count("POST", "*"), s.PipelineCount("gh/acme/api"))
	}
}

func TestAnotherRefIsNotAdopted(t *testing.T) {
	t.Parallel()
	s, c := start(t, `{"method":"POST","path":"/project/*","status":502,"skip":1,"count":1}`)
	// Another pipeline of the same user and branch, with another parameter
	// value, just before: the lost request must not be taken for it.
	other := api
	other.Parameters = Parameters{"deploy": false}
	if _, err := Trigger(context.Background(), c, other, Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := Trigger(context.Background(), c, api, Options{})
	if err != nil || res.Adopted {
		t.Fatalf("Trigger = %+v, %v: adopted a pipeline with other parameters", res, err)
	}
	if n := s.PipelineCount("gh/acme/api"); n != 2 {
		t.Errorf("%d pipelines, want 2", n)
	}
}

func TestGivesUpOnPersistentUnavailability(t *testing.T) {
	t.Parallel()
	s, c := start(t, `{"method":"POST","path":"/project/*","status":429}`)
	_, err := Trigger(context.Background(), c, api, Options{MaxRetryTime: time.Minute})
	var se *circleci.StatusError
	if !errors.As(err, &se) || se.Code != 429 || !strings.Contains(err.Error(), "gave up after") {
		t.Fatalf("err = %v", err)
	}
	if s.PipelineCount("gh/acme/api") != 0 {
		t.Error("a pipeline was created")
	}
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	s, c := start(t, ``)
	r := api
	r.Branch = "nope"
	_, err := Trigger(context.Background(), c, r, Options{})
	var se *circleci.StatusError
	if !errors.As(err, &se) || se.Code != 400 || se.Message != "Branch not found" || s.Count("POST", "*") != 1 {
		t.Fatalf("err = %v after %d POSTs", err, s.Count("POST", "*"))
	}
}

func TestPipelineRun(t *testing.T) {
	t.Parallel()
	s, c := start(t, ``)
	r := Request{Slug: circleci.Slug{VCS: "github", Org: "acme", Project: "api"}, Branch: "main", DefinitionID: "2338d0ae-5541-4bbf-88a2-55e9f7281f80"}
	res, err := Trigger(context.Background(), c, r, Options{})
	if err != nil || res.Pipeline.Number != 1 {
		t.Fatalf("Trigger = %+v, %v", res, err)
	}
	if p := s.Requests()[0].Path; p != "/project/gh/acme/api/pipeline/run" {
		t.Errorf("path = %s", p)
	}
	res, err = Trigger(context.Background(), c, Request{Slug: circleci.Slug{VCS: "circleci", Org: "org1", Project: "proj1"}, DefinitionID: "11111111-2222-4333-8444-555555555555"}, Options{})
	if err != nil || res.NotCreated != "Ignoring pipeline due to CI skip in the commit" {
		t.Fatalf("not created: %+v, %v", res, err)
	}
}
