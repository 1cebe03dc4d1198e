package circleci_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/clock"
	"github.com/circleci-trigger/circleci-trigger/internal/sim"
)

// Read a pipeline and its workflows. The bundled simulator stands in for
// https://circleci.com/api/v2 here.
func Example() {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	s := sim.New(sim.MustParse(`{"projects": [{"slug": "gh/acme/api", "pipeline": {
		"workflows": [{"name": "build", "duration": "1m", "status": "failed"}]}}]}`), clk)
	srv := httptest.NewServer(s)
	defer srv.Close()
	id, _ := s.CreateAs(sim.DefaultUser, "gh/acme/api", "main", nil)
	clk.Advance(2 * time.Minute) // the simulator's pipeline has run

	c := &circleci.Client{BaseURL: srv.URL + "/api/v2", Token: sim.DefaultToken}
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
	s := sim.New(sim.MustParse(`{"projects": []}`), nil)
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := &circleci.Client{BaseURL: srv.URL + "/api/v2", Token: "fake-token-not-real"}
	_, err := c.Me(context.Background())
	fmt.Println(err)
	// Output: GET /me: 401 Unauthorized: Invalid token provided.
}
