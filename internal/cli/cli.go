// Package cli is the circleci-trigger command: it reads the configuration,
// runs what it asks for (triggers, a wait for an existing pipeline, or a
// rerun) through the library, and presents the outcome the way the surface
// it runs on expects (a shell, the GitHub Action, a CircleCI job).
// cli.go chooses what to run; present.go shows the outcome.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Command runs circleci-trigger with injected streams, environment and
// transport, so that tests run it in-process.
type Command struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	Version        string            // shown by --version and in the User-Agent
	Transport      http.RoundTripper // nil: a pool of connections to the API
}

// Run runs the command with args (without the program name).
func (c *Command) Run(ctx context.Context, args []string) exit.Code {
	if len(args) > 0 && args[0] == "completion" {
		return c.completion(args[1:])
	}
	env := config.ReadEnvironment(c.Getenv)
	o := newOutput(env, c.Stdout, c.Stderr) // masks the token first thing
	defer o.close()
	cfg, err := env.Load(args, c.Getenv, c.Stdout, c.Version)
	switch {
	case errors.Is(err, config.ErrHelp):
		return exit.OK
	case err != nil:
		return o.invalid(cfg, err)
	case cfg.Version:
		fmt.Fprintf(o.results, "circleci-trigger %s\n", c.Version)
		return exit.OK
	}
	o.configure(cfg)
	return o.finish(cfg, c.run(ctx, cfg, o))
}

// run does what cfg asks for: rerun a workflow, wait for an existing
// pipeline, or trigger the targets (and wait for them).
func (c *Command) run(ctx context.Context, cfg config.Config, o *output) []fanout.Outcome {
	client := &circleci.Client{BaseURL: cfg.APIBase(), Token: cfg.Token, UserAgent: "circleci-trigger/" + c.Version,
		Transport: c.Transport, Conns: cfg.Concurrency}
	wo := cfg.WaitOpts
	wo.RetryFailed = cfg.RetryFailed
	pr := o.printer
	opts := fanout.Options{Wait: cfg.Wait, WaitOpts: wo, Concurrency: cfg.Concurrency,
		Details:   wait.DetailOptions{Artifacts: cfg.Artifacts, AllJobs: o.chart(cfg)},
		Triggered: pr.Triggered, Progress: pr.Progress, Logf: pr.Logf,
		Retrying: func(oc fanout.Outcome, attempt int, wfs []string) { pr.Retrying(oc, attempt, wfs, cfg.RetryFailed) }}
	o.begin(cfg)
	defer o.end(cfg)
	switch {
	case cfg.Rerun != nil:
		return []fanout.Outcome{fanout.RerunWorkflow(ctx, client, *cfg.Rerun, opts)}
	case cfg.PipelineID != "":
		return []fanout.Outcome{fanout.Existing(ctx, client, cfg.PipelineID, opts)}
	}
	return fanout.Run(ctx, client, cfg.Targets, opts)
}
