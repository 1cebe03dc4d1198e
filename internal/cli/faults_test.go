package cli_test

// Faults: whatever the network or the API does, one request makes one
// pipeline, the exit status tells the truth, and the token stays home.

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func TestFaultsNeverDuplicateOrLie(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 5<<20)
	for _, tc := range []struct {
		name      string
		fault     circlecitest.Fault
		code      int
		want      []string
		pipelines int
	}{
		{"502 after the pipeline was created, then wait on it",
			circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 502, Body: "<html><body>502 Bad Gateway</body></html>", ContentType: "text/html", Count: 1, AfterEffect: true},
			0, []string{"looking for a pipeline it may have created", "the lost request created pipeline #1", "found after a lost answer", "build"}, 1},
		{"connection dropped before any answer",
			circlecitest.Fault{Method: "POST", Path: "/project/*", Drop: true, Count: 1},
			0, []string{"connection closed before a complete answer", "no pipeline was created; sending again"}, 1},
		{"malformed JSON while waiting",
			circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 200, Body: `{"items": [`, Count: 2},
			0, []string{"unreadable answer", "the API answers again"}, 1},
		{"HTML error page while waiting",
			circlecitest.Fault{Method: "GET", Path: "/pipeline/*", Status: 502, Body: "<!DOCTYPE html><html>down</html>", ContentType: "text/html", Count: 3},
			0, []string{"502 Bad Gateway", "the API answers again"}, 1},
		{"oversized answer while waiting",
			circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 200, Body: big, Count: 1},
			0, []string{"answer larger than"}, 1},
		{"a workflow list without items",
			circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 200, Body: `{"next_page_token": null}`, Count: 1},
			0, []string{`list answer has no "items" array`}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := waitFor(t, "gh/acme/api")
			p.Scenario = clitest.WithFaults(tc.fault)
			r := p.Run()
			r.Expect(t, tc.code, tc.want...)
			if n := r.Sim.PipelineCount("gh/acme/api"); n != tc.pipelines {
				t.Errorf("%d pipelines, want %d", n, tc.pipelines)
			}
			if strings.Contains(r.Stderr, "panic") || strings.Contains(r.Stderr, big[:100]) {
				t.Errorf("stderr:\n%.2000s", r.Stderr)
			}
		})
	}
}

func TestRedirectToAnotherHostGetsNoToken(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Circle-Token") != "" || r.Header.Get("Authorization") != "" {
			got.Add(1)
		}
		w.WriteHeader(201)
	}))
	defer evil.Close()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/api")
	p.Scenario = clitest.WithFaults(circlecitest.Fault{Method: "POST", Path: "/project/*", Status: 307, Headers: map[string]string{"Location": evil.URL + "/api/v2/project/gh/acme/api/pipeline"}})
	r := p.Run()
	r.Expect(t, 4, "refusing to follow a redirect")
	if got.Load() != 0 {
		t.Errorf("the other host received the token %d times", got.Load())
	}
}
