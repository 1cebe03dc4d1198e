package circlecitest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/trigger"
)

// A test of your own against a simulated CircleCI: a project whose
// trigger endpoint fails once after creating the pipeline (a 502 on the
// way back), and what the server received. The trigger finds the pipeline
// its lost request created rather than creating a second one.
func Example() {
	sc := &circlecitest.Scenario{
		Projects: []circlecitest.Project{{Slug: "gh/acme/api",
			Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{{Name: "build", Duration: circlecitest.Duration(time.Minute)}}}}},
		Faults: []circlecitest.Fault{{Method: "POST", Path: "/project/*", Status: 502, AfterEffect: true, Count: 1}},
	}
	srv := circlecitest.NewServer(sc, circlecitest.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)))
	defer srv.Close()

	slug, _ := circleci.ParseSlug("gh/acme/api")
	res, err := trigger.Trigger(context.Background(), srv.Client(), trigger.Request{Slug: slug}, trigger.Options{})
	fmt.Println(res.Pipeline.Number, res.Adopted, err)
	fmt.Println(srv.PipelineCount("gh/acme/api"), "pipeline;", srv.Count("POST", "/project/gh/acme/api/pipeline"), "trigger request")
	// Output:
	// 1 true <nil>
	// 1 pipeline; 1 trigger request
}
