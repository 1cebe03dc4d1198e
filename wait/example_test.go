package wait_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Trigger a pipeline and wait for its workflows. The simulated CircleCI
// of circlecitest stands in for CircleCI, and a fake clock shared by the
// simulator and the client makes the pipeline's ten minutes pass at once.
func Example() {
	clk := circlecitest.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {"workflows": [
		{"name": "build", "duration": "10m"},
		{"name": "e2e", "duration": "4m", "status": "failed", "jobs": [{"name": "browser-tests", "status": "failed"}]}]}}]}`), clk)
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	slug, _ := circleci.ParseSlug("gh/acme/api")
	res, err := trigger.Trigger(ctx, c, trigger.Request{Slug: slug}, trigger.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := wait.Wait(ctx, c, res.Pipeline, wait.Options{Timeout: time.Hour})
	for _, wf := range w.Workflows {
		fmt.Println(wf.Name, wf.Status)
		for _, j := range w.Jobs[wf.ID] {
			fmt.Println("  job", j.Name, j.Status)
		}
	}
	var down *wait.DownstreamError
	if errors.As(err, &down) {
		fmt.Println("downstream:", down.Status)
	}
	// Output:
	// build success
	// e2e failed
	//   job browser-tests failed
	// downstream: failed
}

// Rerun a flaky workflow from failed when it fails, and read why a job
// failed: its failed tests, then its artifacts.
func ExampleReadDetails() {
	clk := circlecitest.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {"workflows": [
		{"name": "test", "duration": "2m", "status": "failed",
		 "jobs": [{"name": "unit", "status": "failed", "artifacts": [{"path": "report.html"}],
		           "tests": [{"name": "TestLogin", "classname": "auth", "result": "failure", "message": "want 200, got 500"}]}],
		 "reruns": [{"duration": "1m", "status": "failed"}]}]}}]}`), clk)
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	slug, _ := circleci.ParseSlug("gh/acme/api")
	res, _ := trigger.Trigger(ctx, c, trigger.Request{Slug: slug}, trigger.Options{})
	w, err := wait.Wait(ctx, c, res.Pipeline, wait.Options{RetryFailed: 1,
		Retrying: func(attempt int, workflows []string) { fmt.Println("attempt", attempt, "reruns", workflows) }})
	fmt.Println(w.Status, len(w.Attempts), "attempts:", err)
	d := wait.ReadDetails(ctx, c, w, wait.DetailOptions{Artifacts: true})
	for _, wf := range w.Workflows {
		for _, j := range w.Jobs[wf.ID] {
			for _, t := range d.Tests[j.ID].Tests {
				fmt.Printf("%s: %s (%s): %s\n", j.Name, t.Name, t.Classname, t.Message)
			}
		}
	}
	for _, a := range d.Artifacts {
		fmt.Println(a.Workflow, a.Job, a.Path)
	}
	// Output:
	// attempt 2 reruns [test]
	// failed 2 attempts: pipeline failed: test failed
	// unit: TestLogin (auth): want 200, got 500
	// test unit report.html
}
