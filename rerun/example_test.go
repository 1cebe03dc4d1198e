package rerun_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Rerun two jobs of the newest deploy workflow on main, and wait for the
// new workflow alone.
func Example() {
	clk := circlecitest.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {"workflows": [
		{"name": "build", "duration": "1m"},
		{"name": "deploy", "duration": "3m", "status": "failed",
		 "jobs": [{"name": "plan", "status": "success"}, {"name": "apply", "status": "failed"}, {"name": "smoke", "status": "failed"}],
		 "reruns": [{"duration": "2m"}]}]}}]}`), clk)
	defer srv.Close()
	srv.CreateAs(circlecitest.DefaultUser, "gh/acme/api", "main", nil)
	clk.Advance(5 * time.Minute) // the pipeline has run: deploy failed
	c := srv.Client()
	ctx := context.Background()

	slug, _ := circleci.ParseSlug("gh/acme/api")
	res, err := rerun.Rerun(ctx, c, rerun.Request{Workflow: "deploy", Slug: slug, Branch: "main", Jobs: []string{"apply", "smoke"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("reran %s of pipeline #%d\n", res.Workflow.Name, res.Pipeline.Number)
	w, err := wait.Wait(ctx, c, circleci.Pipeline{ID: res.Pipeline.ID},
		wait.Options{Only: []string{res.Workflow.Name}, Await: []string{res.NewID}})
	fmt.Println(w.Workflows[0].Name, w.Workflows[0].ID == res.NewID, w.Status, err)

	// A name it does not have: nothing is sent. (The newest deploy is the
	// rerun, which ran two jobs.)
	_, err = rerun.Rerun(ctx, c, rerun.Request{Workflow: "deploy", Slug: slug, Jobs: []string{"aply"}})
	var ne *rerun.NameError
	fmt.Println(errors.As(err, &ne), err)
	// Output:
	// reran deploy of pipeline #1
	// deploy true success <nil>
	// true workflow deploy of pipeline #1 has no job aply; its jobs: apply, smoke (nothing was rerun)
}
