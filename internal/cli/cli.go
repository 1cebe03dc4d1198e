// Package cli is the circleci-trigger command: it reads the configuration,
// runs the triggers and waits, and shows the outcome the way the surface it
// runs on expects (a shell, the GitHub Action, a CircleCI job).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/internal/fanout"
	"github.com/circleci-trigger/circleci-trigger/internal/report"
	"github.com/circleci-trigger/circleci-trigger/wait"
	"github.com/sethvargo/go-githubactions"
)

// Command runs circleci-trigger with injected streams, environment, clock
// and transport, so that tests run it in-process.
type Command struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	Version        string            // shown by --version and in the User-Agent
	Clock          circleci.Clock    // nil: the system clock
	Transport      http.RoundTripper // nil: http.DefaultTransport
}

// Run runs the command with args (without the program name).
func (c *Command) Run(ctx context.Context, args []string) exit.Code {
	if len(args) > 0 && args[0] == "completion" {
		return c.completion(args[1:])
	}
	surface := config.DetectSurface(c.Getenv)
	if surface == config.Action {
		// Mask the token before anything else is printed. This is the one
		// place the token is written, for the runner to read: only the
		// Action does it.
		mask := githubactions.New(githubactions.WithGetenv(c.Getenv), githubactions.WithWriter(c.Stdout))
		for _, k := range config.TokenVars {
			if t := strings.TrimSpace(c.Getenv(k)); t != "" {
				mask.AddMask(t)
			}
		}
	}
	o := newOutput(surface, c.Stdout, c.Stderr, c.Getenv)
	defer o.close()
	action := o.commands

	cfg, err := config.Load(args, c.Getenv, c.Stdout, c.Version)
	switch {
	case errors.Is(err, config.ErrHelp):
		return exit.OK
	case err != nil:
		o.fail(err)
		return exit.BadInput
	case cfg.Version:
		fmt.Fprintf(o.results, "circleci-trigger %s\n", c.Version)
		return exit.OK
	}
	stdout := o.results
	if cfg.JSON {
		o.results = o.log
	}

	urls := circleci.NewWebURLs(cfg.Host)
	pr := &report.Printer{Log: o.log, URLs: urls, Fanout: cfg.Fanout}
	if action != nil {
		pr.Warn = func(msg string) { action.Warningf("%s", msg) }
	}
	client := &circleci.Client{BaseURL: cfg.APIBase(), Token: cfg.Token, UserAgent: "circleci-trigger/" + c.Version,
		Clock: c.Clock, Transport: c.Transport, Conns: cfg.Concurrency}
	summary := action != nil && c.Getenv("GITHUB_STEP_SUMMARY") != ""
	wo := cfg.WaitOpts
	wo.RetryFailed = cfg.RetryFailed
	opts := fanout.Options{Wait: cfg.Wait, WaitOpts: wo, Concurrency: cfg.Concurrency,
		Details:   wait.DetailOptions{Artifacts: cfg.Artifacts, AllJobs: summary && cfg.Wait && !cfg.Fanout},
		Triggered: pr.Triggered, Progress: pr.Progress, Logf: pr.Logf,
		Retrying: func(oc fanout.Outcome, attempt int, wfs []string) { pr.Retrying(oc, attempt, wfs, cfg.RetryFailed) }}
	if cfg.Shard != "" {
		// More shards than targets leaves some with none: they succeed,
		// with status no-targets.
		fmt.Fprintf(o.log, "Shard %s: %d of %d targets\n", cfg.Shard, len(cfg.Targets), cfg.Total)
	}

	if action != nil && cfg.Wait {
		action.Group("Waiting for CircleCI")
	}
	var outs []fanout.Outcome
	switch {
	case cfg.Rerun != nil:
		outs = []fanout.Outcome{fanout.RerunWorkflow(ctx, client, *cfg.Rerun, opts)}
	case cfg.PipelineID != "":
		outs = []fanout.Outcome{fanout.Existing(ctx, client, cfg.PipelineID, opts)}
	default:
		outs = fanout.Run(ctx, client, cfg.Targets, opts)
	}
	if action != nil && cfg.Wait {
		action.EndGroup()
	}

	if cfg.Wait || cfg.Fanout {
		fmt.Fprintln(o.results)
		report.Table(o.results, outs, urls, cfg.Fanout)
	}
	res := report.Summarize(outs, urls, cfg.Fanout)
	if cfg.JSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if action != nil {
		if path := c.Getenv("GITHUB_OUTPUT"); path != "" {
			if err := writeOutputs(path, res.Outputs(), o.redact); err != nil {
				o.fail(fmt.Errorf("write the outputs: %w", err))
			}
		}
		if summary && (cfg.Wait || cfg.Fanout) {
			action.AddStepSummary(o.redact(report.Markdown(outs, urls, cfg.Fanout)))
		}
	}
	for _, oc := range outs {
		pr.Aftermath(oc)
		if oc.Err != nil {
			msg := oc.Err.Error()
			if h := hint(oc.Err, oc.Request); h != "" {
				msg += " (" + h + ")"
			}
			o.fail(errors.New(msg))
		}
	}
	return report.Worst(outs)
}
