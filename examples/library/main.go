// Command deploy-then-test is a program of another module that uses
// circleci-trigger as a library: it triggers the end-to-end tests of a
// project, waits for them, and exits 0 only if they passed.
//
//	CIRCLE_TOKEN=… go run . gh/acme/e2e main
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: deploy-then-test PROJECT-SLUG BRANCH")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "deploy-then-test:", err)
		os.Exit(1)
	}
}

func run(slugText, branch string) error {
	slug, err := circleci.ParseSlug(slugText)
	if err != nil {
		return err
	}
	c := &circleci.Client{Token: os.Getenv("CIRCLE_TOKEN"), UserAgent: "deploy-then-test"}
	if host := os.Getenv("CIRCLE_HOST"); host != "" {
		c.BaseURL = host // e.g. https://circleci.example.com; /api/v2 is added
	}
	ctx := context.Background()
	req := trigger.Request{Slug: slug, Branch: branch, Parameters: trigger.Parameters{"suite": "smoke"}}
	if err := req.Validate(); err != nil {
		return err
	}
	res, err := trigger.Trigger(ctx, c, req, trigger.Options{})
	if err != nil {
		return err
	}
	fmt.Printf("triggered pipeline #%d\n", res.Pipeline.Number)
	w, err := wait.Wait(ctx, c, res.Pipeline, wait.Options{Timeout: 10 * time.Minute, PollInterval: time.Second,
		Progress: func(ev wait.Event) {
			if ev.Workflow.ID != "" {
				fmt.Printf("%s %s\n", ev.Workflow.Name, ev.Workflow.Status)
			}
		}})
	var down *wait.DownstreamError
	if errors.As(err, &down) {
		return fmt.Errorf("the tests %s", down.Status)
	}
	if err != nil {
		return err
	}
	fmt.Printf("pipeline #%d: %s\n", w.Pipeline.Number, w.Status)
	return nil
}
