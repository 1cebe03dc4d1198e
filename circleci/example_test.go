package circleci_test

import (
	"context"
	"fmt"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

// Read a pipeline and its workflows. The simulated CircleCI of
// circlecitest stands in for https://circleci.com here, on a fake clock.
func Example() {
	clk := circlecitest.NewFakeClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {
		"workflows": [{"name": "build", "duration": "1m", "status": "failed"}]}}]}`), clk)
	defer srv.Close()
	id, _ := srv.CreateAs(circlecitest.DefaultUser, "gh/acme/api", "main", nil)
	clk.Advance(2 * time.Minute) // the simulated pipeline has run

	c := &circleci.Client{BaseURL: srv.URL, Token: srv.Token} // or srv.Client()
	ctx := context.Background()
	p, err := c.Pipeline(ctx, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	wfs, _ := c.Workflows(ctx, p.ID)
	fmt.Printf("pipeline #%d of %s on %s: %s\n", p.Number, p.ProjectSlug, p.Branch, p.State)
	for _, w := range wfs {
		fmt.Printf("%s %s\n", w.Name, w.Status)
	}
	fmt.Println(circleci.NewWebURLs("https://circleci.com").Pipeline(p.ProjectSlug, p.Number))
	// Output:
	// pipeline #1 of gh/acme/api on main: created
	// build failed
	// https://app.circleci.com/pipelines/github/acme/api/1
}

// Errors say what was asked and what CircleCI answered; none holds the token.
func ExampleStatusError() {
	srv := circlecitest.NewServer(circlecitest.MustParse(`{"projects": []}`), nil)
	defer srv.Close()
	c := &circleci.Client{BaseURL: srv.URL, Token: "fake-token-not-real"}
	_, err := c.Me(context.Background())
	fmt.Println(err)
	// Output: GET /me: 401 Unauthorized: Invalid token provided.
}
