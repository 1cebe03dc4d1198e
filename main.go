// Command circleci-trigger triggers a CircleCI pipeline, optionally waits
// for its workflows, and exits with their status. It runs as a GitHub
// Action, a CircleCI orb command, or a plain CLI; see README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/circleci-trigger/circleci-trigger/internal/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/internal/report"
	"github.com/circleci-trigger/circleci-trigger/internal/runner"
	"github.com/sethvargo/go-githubactions"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code) // run does the work, so its defers finish before this
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	gh := getenv("GITHUB_ACTIONS") == "true"
	action := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	if gh {
		// Mask the token before anything else is printed.
		for _, k := range []string{"INPUT_TOKEN", "CIRCLE_TOKEN", "CCI_TOKEN"} {
			if t := strings.TrimSpace(getenv(k)); t != "" {
				action.AddMask(t)
			}
		}
	}
	fail := func(err error) {
		for _, line := range strings.Split(err.Error(), "\n") {
			if gh {
				action.Errorf("%s", line)
			} else {
				fmt.Fprintf(stderr, "circleci-trigger: %s\n", line)
			}
		}
	}

	cfg, err := config.Load(args, getenv, stdout, version)
	switch {
	case errors.Is(err, config.ErrHelp):
		return 0
	case err != nil:
		fail(err)
		return 2
	case cfg.Version:
		fmt.Fprintf(stdout, "circleci-trigger %s\n", version)
		return 0
	}

	out, log := stdout, stderr
	if gh {
		log = stdout // workflow commands and progress share one stream
	}
	if cfg.JSON {
		out = stderr
	}
	urls := circleci.NewWebURLs(cfg.Host)
	pr := &report.Printer{Log: log, URLs: urls, Fanout: cfg.Fanout}
	client := &circleci.Client{BaseURL: cfg.APIBase(), Token: cfg.Token, UserAgent: "circleci-trigger/" + version}
	if cfg.Loopback() {
		// The simulator creates workflows on its scenario's schedule: no
		// need to give late workflows CircleCI's grace period.
		cfg.WaitOpts.Settle = max(time.Second, 5*cfg.WaitOpts.PollInterval)
	}
	opts := runner.Options{Wait: cfg.Wait, WaitOpts: cfg.WaitOpts, Triggered: pr.Triggered, Progress: pr.Progress, Logf: pr.Logf}

	if gh && cfg.Wait {
		action.Group("Waiting for CircleCI")
	}
	var outs []runner.Outcome
	if cfg.PipelineID != "" {
		outs = []runner.Outcome{runner.Existing(ctx, client, cfg.PipelineID, opts)}
	} else {
		outs = runner.Run(ctx, client, cfg.Targets, opts)
	}
	if gh && cfg.Wait {
		action.EndGroup()
	}

	if cfg.Wait || cfg.Fanout {
		fmt.Fprintln(out)
		report.Table(out, outs, urls, cfg.Fanout)
	}
	res := report.Summarize(outs, urls, cfg.Fanout)
	if cfg.JSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	if gh {
		if getenv("GITHUB_OUTPUT") != "" {
			for _, kv := range res.Outputs() {
				action.SetOutput(kv[0], kv[1])
			}
		}
		if getenv("GITHUB_STEP_SUMMARY") != "" && (cfg.Wait || cfg.Fanout) {
			action.AddStepSummary(report.Markdown(outs, urls, cfg.Fanout))
		}
	}
	for _, o := range outs {
		pr.Aftermath(o)
		if o.Err != nil {
			msg := o.Err.Error()
			if h := runner.Hint(o.Err, o.Request); h != "" {
				msg += " (" + h + ")"
			}
			fail(errors.New(msg))
		}
	}
	return runner.ExitCode(outs)
}
