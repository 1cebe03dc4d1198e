package wait_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/clock"
	"github.com/circleci-trigger/circleci-trigger/internal/sim"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Trigger a pipeline and wait for its workflows. The bundled simulator
// stands in for CircleCI, and a fake clock shared by both makes the
// pipeline's ten minutes pass at once.
func Example() {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(sim.New(sim.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {"workflows": [
		{"name": "build", "duration": "10m"},
		{"name": "e2e", "duration": "4m", "status": "failed", "jobs": [{"name": "browser-tests", "status": "failed"}]}]}}]}`), clk))
	defer srv.Close()
	c := &circleci.Client{BaseURL: srv.URL + "/api/v2", Token: sim.DefaultToken, Clock: clk}
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
