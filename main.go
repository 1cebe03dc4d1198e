// Command circleci-trigger triggers a CircleCI pipeline, optionally waits
// for its workflows, and exits with their status. It runs as a GitHub
// Action, a CircleCI orb command, or a plain CLI; see README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/circleci-trigger/circleci-trigger/internal/cli"
)

// version is set at release time with -ldflags "-X main.version=…".
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops the run, which cancels what it started if
	// asked to; a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	cmd := &cli.Command{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Version: cli.Version(version)}
	code := cmd.Run(ctx, os.Args[1:])
	stop()
	os.Exit(int(code)) // Run does the work, so its defers finish before this
}
