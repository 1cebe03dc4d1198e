// Package wait follows a pipeline until its workflows are done and tells
// how it went. It polls gently (fast while a pipeline is young or changing,
// around each workflow's end as CircleCI's insights predict it, backing off
// while nothing happens), reads every page of the workflow list each
// round, and decides completion the way the API's semantics require:
// reruns, dynamic config, holds, workflows that appear late, pipelines
// with none. It can rerun failed workflows and wait again (RetryFailed),
// cancel what runs when it stops (CancelOnExit, Cancel), and read why a
// pipeline failed (Details: failed tests, jobs, artifacts).
package wait

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Options tune a wait. Zero durations take the defaults their comments give.
type Options struct {
	Timeout         time.Duration // 30m
	PollInterval    time.Duration // 2s: the first and smallest gap between polls
	MaxPollInterval time.Duration // 30s
	OnHold          string        // HoldWait (default), HoldSucceed or HoldFail
	FailFast        bool          // stop at the first failing or failed workflow
	CancelOnExit    bool          // cancel running workflows on timeout or interruption
	// Only, when set, names the workflows that count: the others are not
	// shown, waited for nor judged (a rerun of one workflow).
	Only []string
	// Await are workflows (ids) asked for and not yet listed, such as the
	// new workflow of a rerun: no verdict is given before they are listed,
	// or before a minute has passed without them.
	Await []string
	// RetryFailed reruns the failed workflows from failed when the wait
	// ends failed, and waits again, up to this many times. With FailFast,
	// an attempt with retries left waits for the failing workflows to end:
	// a rerun from failed needs them ended.
	RetryFailed int
	// Retrying is called before each retry with the attempt it starts (2
	// for the first retry) and the workflows it reruns.
	Retrying func(attempt int, workflows []string)

	// AutoRerunGrace is how long a workflow that failed is waited on for
	// the automatic rerun CircleCI owes it (max_auto_reruns not used up, no
	// manual rerun): CircleCI reruns such a workflow at once, but does not
	// promise to. With no rerun by then, the failure is final; 1m.
	AutoRerunGrace time.Duration

	// Settle is how long the workflow list must stay unchanged before a
	// pipeline with no workflow, or only a finished setup workflow, is
	// taken as done; 15s.
	Settle time.Duration
	// Fast is how long polls stay at PollInterval after the wait starts,
	// so that short pipelines end promptly; 1m.
	Fast time.Duration
	// Outage is how long API errors may persist before the wait gives up; 5m.
	Outage time.Duration
	// CancelGrace bounds the cancels of CancelOnExit, all sent at once:
	// CI runners give a stopped job a few seconds; 5s.
	CancelGrace time.Duration

	// Progress is called once per change: a workflow that appears or
	// changes status, or a pipeline state change (Workflow zero); and as a
	// reminder, with Waiting set, when nothing has changed for a minute,
	// then every Heartbeat.
	Progress func(Event)
	// Heartbeat is how long a quiet wait goes between reminders; 5m.
	Heartbeat time.Duration
	// Logf reports unusual things: unknown statuses, API errors being retried.
	Logf func(format string, args ...any)

	// Project and Branch name where the pipeline runs, for CircleCI's
	// insights: the wait reads its workflows' past durations once and
	// polls around each one's predicted end, sparsely (every
	// MaxPollInterval) while it is far, densely near it. Without them,
	// the pipeline's own, once read. Without history (a new workflow,
	// insights refused), the wait backs off as described above.
	Project circleci.Slug
	Branch  string
}

// hooks change a wait for benchmarks: no insights, or a fixed schedule
// instead of the policy, or another policy around predicted ends (no jobs,
// another next).
type hooks struct {
	noInsights bool
	schedule   func(poll int) time.Duration
	noJobs     bool
	next       func(f forecast, elapsed, step, maxGap time.Duration) time.Duration
}

// Event is one change seen while waiting, or a reminder of what it waits for.
type Event struct {
	Elapsed  time.Duration
	State    string            // the pipeline's state, set on a state change
	Workflow circleci.Workflow // set on a workflow change
	// AutoRerun is set when Workflow failed and CircleCI owes it an
	// automatic rerun: the rerun's auto_rerun_number.
	AutoRerun int
	Waiting   []string            // set on a reminder: "build=running", …
	Held      []circleci.Workflow // on a reminder: the workflows on hold
}

// Result is what the wait saw last.
type Result struct {
	Status    string // StatusSuccess, StatusFailed, …
	Pipeline  circleci.Pipeline
	Workflows []circleci.Workflow // the newest run of each name, in order of appearance
	// Earlier are the runs of each workflow that a rerun (automatic, or
	// asked for) replaced, by name, oldest first.
	Earlier  map[string][]circleci.Workflow
	Jobs     map[string][]circleci.Job // failed and waiting jobs of failed and held workflows, by workflow id
	Canceled []circleci.Workflow       // workflows this wait canceled
	Elapsed  time.Duration
	Nothing  bool // the pipeline finished without running any workflow
	// Attempts are the waits of a wait with RetryFailed, the last one
	// last; nil otherwise.
	Attempts []Attempt

	listed map[string][]circleci.Job // every job of the workflows whose jobs were read
}

// Attempt is one wait of a wait with retries.
type Attempt struct {
	Status    string
	Workflows []circleci.Workflow
	Reran     []string // the workflows rerun from failed after it
}

// DownstreamError tells that the pipeline ended without succeeding.
type DownstreamError struct {
	Status string   // StatusFailed, StatusErrored, StatusCanceled or StatusOnHold
	Detail []string // e.g. the pipeline's errors, or the failed workflows
}

func (e *DownstreamError) Error() string {
	s := "pipeline " + e.Status
	if e.Status == StatusOnHold {
		s = "a workflow is on hold and on-hold is fail"
	}
	if len(e.Detail) > 0 {
		s += ": " + strings.Join(e.Detail, "; ")
	}
	return s
}

// ErrTimeout and ErrInterrupted end a wait early; errors.Is matches them.
// ErrStopped, as the cause of the context's cancellation, ends a wait
// without canceling anything: another target of a fan-out failed fast.
var (
	ErrTimeout     = errors.New("timed out")
	ErrInterrupted = errors.New("interrupted")
	ErrStopped     = errors.New("stopped because another target failed (fail-fast)")
)

// StatusRunning is the status of a wait stopped by ErrStopped: the
// downstream goes on. StatusUnknown is that of a wait the API ended.
const (
	StatusRunning = "running"
	StatusUnknown = "unknown"
)

type stopError struct {
	kind    error
	pending []string
}

func (e *stopError) Error() string {
	s := e.kind.Error()
	if len(e.pending) > 0 {
		s += " while waiting for " + strings.Join(e.pending, ", ")
	}
	return s
}
func (e *stopError) Unwrap() error { return e.kind }

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 30*time.Minute)
	def(&o.PollInterval, 2*time.Second)
	def(&o.MaxPollInterval, 30*time.Second)
	def(&o.Settle, 15*time.Second)
	def(&o.Fast, time.Minute)
	def(&o.Outage, 5*time.Minute)
	def(&o.Heartbeat, 5*time.Minute)
	def(&o.CancelGrace, 5*time.Second)
	def(&o.AutoRerunGrace, time.Minute)
	o.MaxPollInterval = max(o.MaxPollInterval, o.PollInterval)
	if o.Progress == nil {
		o.Progress = func(Event) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Retrying == nil {
		o.Retrying = func(int, []string) {}
	}
}

// Wait polls pipeline p until its workflows are done, the timeout (or a
// deadline of ctx) passes, or ctx ends. It keeps time on the client's
// clock. p may hold only an ID: the pipeline is read first. When p.State
// is set it is taken as the pipeline's state when it was created, as
// trigger.Trigger returns it; pass a pipeline found any other way by its ID
// alone.
//
// Wait returns the last Result in every case, with an error when the
// pipeline did not succeed (*DownstreamError), the wait stopped
// (ErrTimeout, ErrInterrupted, ErrStopped), or the API failed for good
// (Result.Status is then StatusUnknown).
func Wait(ctx context.Context, c *circleci.Client, p circleci.Pipeline, o Options) (Result, error) {
	return wait(ctx, c, p, o, hooks{})
}

func wait(ctx context.Context, c *circleci.Client, p circleci.Pipeline, o Options, h hooks) (Result, error) {
	o.defaults()
	clk := clockOf(c)
	deadline := clk.Now().Add(o.Timeout)
	// A retry's wait sees the workflows of the one before again: only
	// changes are shown.
	seen, progress := map[string]string{}, o.Progress
	o.Progress = func(ev Event) {
		if id := ev.Workflow.ID; id != "" {
			if seen[id] == ev.Workflow.Status {
				return
			}
			seen[id] = ev.Workflow.Status
		}
		progress(ev)
	}
	var attempts []Attempt
	for attempt := 0; ; attempt++ {
		wo := o
		// A rerun from failed needs the failed workflows to have ended:
		// with retries left, fail-fast waits for that.
		wo.FailFast = o.FailFast && attempt >= o.RetryFailed
		wo.Timeout = max(deadline.Sub(clk.Now()), time.Nanosecond)
		res, err := once(ctx, c, p, wo, h)
		p = res.Pipeline
		if o.RetryFailed == 0 {
			return res, err
		}
		attempts = append(attempts, Attempt{Status: res.Status, Workflows: res.Workflows})
		res.Attempts = attempts
		failed := retryable(res, err)
		if attempt >= o.RetryFailed || len(failed) == 0 || ctx.Err() != nil {
			return res, err
		}
		names := make([]string, len(failed))
		for i, w := range failed {
			names[i] = w.Name
		}
		attempts[attempt].Reran = names
		o.Retrying(attempt+2, names)
		if o.Await, err = rerunFailed(ctx, c, failed); err != nil {
			return res, err
		}
	}
}

// once is one wait.
func once(ctx context.Context, c *circleci.Client, p circleci.Pipeline, o Options, h hooks) (Result, error) {
	if h.schedule != nil {
		h.noInsights = true
	}
	w := &waiter{c: c, clk: clockOf(c), h: h, o: o, pol: policy{onHold: o.OnHold, failFast: o.FailFast}, res: Result{Pipeline: p},
		seen: map[string]string{}, listed: map[string]bool{}, unknown: map[string]bool{}, setup: setupState(p.State), sawHistory: p.State == circleci.StatePending}
	err := w.run(ctx)
	w.res.Elapsed = w.elapsed()
	if err != nil && w.res.Status == "" {
		w.res.Status = StatusUnknown
	}
	return w.res, err
}

// retryable are the workflows a retry reruns: those that failed, when the
// wait ended because the downstream failed.
func retryable(res Result, err error) []circleci.Workflow {
	var de *DownstreamError
	if !errors.As(err, &de) || de.Status != StatusFailed {
		return nil
	}
	var out []circleci.Workflow
	for _, w := range res.Workflows {
		if failedRun(w) && w.Tag != "setup" {
			out = append(out, w)
		}
	}
	return out
}

// rerunFailed reruns each workflow from failed and returns the new
// workflows' ids.
func rerunFailed(ctx context.Context, c *circleci.Client, wfs []circleci.Workflow) ([]string, error) {
	var ids []string
	var errs []error
	for _, w := range wfs {
		id, err := c.RerunWorkflow(ctx, w.ID, circleci.Rerun{FromFailed: true})
		if err != nil {
			errs = append(errs, fmt.Errorf("rerun workflow %s from failed: %w", w.Name, err))
			continue
		}
		ids = append(ids, id)
	}
	return ids, errors.Join(errs...)
}

// clockOf is the clock of c's pauses, which a wait keeps time on too.
func clockOf(c *circleci.Client) circleci.Clock {
	if c.Clock == nil {
		return circleci.SystemClock
	}
	return c.Clock
}

// idSeed hashes a pipeline id into a seed.
func idSeed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
