// Package wait follows a triggered pipeline until its workflows are done,
// gently: it polls fast while a pipeline is young or changing and backs off
// while nothing happens, reads every page of the workflow list each round,
// and decides completion the way the API's semantics require (reruns, dynamic
// config, holds, workflows that appear late, pipelines with none).
package wait

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
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

	// Settle is how long the workflow list must stay unchanged before a
	// pipeline with no workflow, or only a finished setup workflow, is
	// taken as done; 15s.
	Settle time.Duration
	// Fast is how long polls stay at PollInterval after the wait starts,
	// so that short pipelines end promptly; 1m.
	Fast time.Duration
	// Outage is how long API errors may persist before the wait gives up; 5m.
	Outage time.Duration

	// Progress is called once per change: a workflow that appears or
	// changes status, or a pipeline state change (Workflow zero); and when
	// nothing has changed for Heartbeat, with Waiting set.
	Progress func(Event)
	// Heartbeat is how long a quiet wait goes without a progress line; 5m.
	Heartbeat time.Duration
	// Logf reports unusual things: unknown statuses, API errors being retried.
	Logf func(format string, args ...any)
}

// Event is one change seen while waiting, or a reminder of what it waits for.
type Event struct {
	Elapsed  time.Duration
	State    string            // the pipeline's state, set on a state change
	Workflow circleci.Workflow // set on a workflow change
	Waiting  []string          // set on a heartbeat: "build=running", …
}

// Result is what the wait saw last.
type Result struct {
	Status    string // StatusSuccess, StatusFailed, …
	Pipeline  circleci.Pipeline
	Workflows []circleci.Workflow       // the newest of each name, in order of appearance
	Jobs      map[string][]circleci.Job // failed and waiting jobs of failed and held workflows, by workflow id
	Canceled  []circleci.Workflow       // workflows this wait canceled
	Elapsed   time.Duration
	Nothing   bool // the pipeline finished without running any workflow
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
// downstream goes on.
const StatusRunning = "running"

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
	o.MaxPollInterval = max(o.MaxPollInterval, o.PollInterval)
	if o.Progress == nil {
		o.Progress = func(Event) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Wait polls pipeline p until its workflows are done, the timeout passes
// or ctx ends. It returns the last Result in every case, with an error when
// the pipeline did not succeed (*DownstreamError), the wait stopped
// (ErrTimeout, ErrInterrupted), or the API failed for good.
func Wait(ctx context.Context, c *circleci.Client, p circleci.Pipeline, o Options) (Result, error) {
	o.defaults()
	w := &waiter{c: c, o: o, pol: policy{onHold: o.OnHold, failFast: o.FailFast}, res: Result{Pipeline: p},
		seen: map[string]string{}, unknown: map[string]bool{}}
	err := w.run(ctx)
	w.res.Elapsed = w.elapsed()
	return w.res, err
}

type waiter struct {
	c       *circleci.Client
	o       Options
	pol     policy
	res     Result
	start   time.Time
	seen    map[string]string // workflow id -> last status
	unknown map[string]bool   // statuses already logged
}

func (w *waiter) elapsed() time.Duration { return w.c.Now().Sub(w.start) }

func (w *waiter) run(ctx context.Context) error {
	w.start = w.c.Now()
	deadline := w.start.Add(w.o.Timeout)
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = w.o.PollInterval
	b.MaxInterval = w.o.MaxPollInterval
	b.Multiplier = 1.5
	b.RandomizationFactor = 0.2
	b.MaxElapsedTime = 0
	b.Clock = w.c
	b.Reset()
	lastChange, lastLine := w.start, w.start
	var failingSince time.Time
	var lastErr string

	// A pipeline just triggered is certainly still pending: look after the
	// first interval rather than at once.
	if p := w.res.Pipeline; p.State == circleci.StatePending || p.State == circleci.StateSetupPending {
		if err := w.c.Sleep(ctx, w.o.PollInterval); err != nil {
			return w.stop(interruption(ctx))
		}
	}
	for {
		changed, err := w.poll(ctx)
		now := w.c.Now()
		switch {
		case ctx.Err() != nil:
			return w.stop(interruption(ctx))
		case err != nil && !circleci.Transient(err):
			return err
		case err != nil:
			if failingSince.IsZero() {
				failingSince = now
			}
			if msg := err.Error(); msg != lastErr {
				w.o.Logf("%v; still waiting", err)
				lastErr = msg
			}
			if now.Sub(failingSince) >= w.o.Outage {
				return fmt.Errorf("%w (API errors for %s)", err, now.Sub(failingSince).Round(time.Second))
			}
		default:
			if !failingSince.IsZero() {
				w.o.Logf("the API answers again")
				failingSince, lastErr = time.Time{}, ""
			}
			if changed {
				lastChange, lastLine = now, now
				b.Reset()
			} else if now.Sub(lastLine) >= w.o.Heartbeat {
				lastLine = now
				w.o.Progress(Event{Elapsed: w.elapsed(), Waiting: w.pending()})
			}
			v := decide(w.res.Pipeline.State, w.res.Workflows, now.Sub(lastChange) >= w.o.Settle, w.pol)
			if v.done {
				return w.finish(ctx, v)
			}
		}

		if !now.Before(deadline) {
			return w.stop(ErrTimeout)
		}
		// Fast for the first minute, then backing off; never past the
		// deadline, never before a rate limit's pause ends.
		if now.Sub(w.start) < w.o.Fast && failingSince.IsZero() {
			b.Reset()
		}
		d := min(max(min(b.NextBackOff(), w.o.MaxPollInterval), w.c.PausedFor()), deadline.Sub(now))
		if err := w.c.Sleep(ctx, d); err != nil {
			return w.stop(interruption(ctx))
		}
	}
}

// poll reads the pipeline (until its state is final) and every page of its
// workflows, and reports whether anything changed.
func (w *waiter) poll(ctx context.Context) (bool, error) {
	changed := false
	if !w.res.Pipeline.Final() {
		p, err := w.c.Pipeline(ctx, w.res.Pipeline.ID)
		if err != nil {
			return false, err
		}
		if p.State != w.res.Pipeline.State {
			changed = true
			w.o.Progress(Event{Elapsed: w.elapsed(), State: p.State})
		}
		w.res.Pipeline = p
		if p.State == circleci.StateErrored {
			return true, nil
		}
	}
	all, err := w.c.Workflows(ctx, w.res.Pipeline.ID)
	if err != nil {
		return changed, err
	}
	for _, wf := range all {
		if w.seen[wf.ID] == wf.Status {
			continue
		}
		changed = true
		w.seen[wf.ID] = wf.Status
		if !circleci.KnownStatus(wf.Status) && !w.unknown[wf.Status] {
			w.unknown[wf.Status] = true
			w.o.Logf("workflow %s has status %q, unknown to this version: waiting until it changes", wf.Name, wf.Status)
		}
		w.o.Progress(Event{Elapsed: w.elapsed(), Workflow: wf})
	}
	w.res.Workflows = latest(all)
	return changed, nil
}

// finish records the verdict and fetches the jobs worth showing.
func (w *waiter) finish(ctx context.Context, v verdict) error {
	w.res.Status, w.res.Nothing = v.status, v.nothing
	w.jobs(ctx)
	switch v.status {
	case StatusSuccess:
		return nil
	case StatusOnHold:
		if w.pol.onHold == HoldSucceed {
			return nil
		}
	case StatusErrored:
		return &DownstreamError{Status: v.status, Detail: w.res.Pipeline.Errors}
	}
	var detail []string
	for _, wf := range w.res.Workflows {
		if c := classify(wf.Status, w.pol); c == failed || c == canceled || c == held {
			detail = append(detail, wf.Name+" "+wf.Status)
		}
	}
	return &DownstreamError{Status: v.status, Detail: detail}
}

// jobs fetches, for each failed or held workflow, the jobs that failed or
// wait for approval. It is best effort: the verdict does not depend on it.
func (w *waiter) jobs(ctx context.Context) {
	for _, wf := range w.res.Workflows {
		switch wf.Status {
		case "failed", "failing", "error", "unauthorized", "on_hold":
		default:
			continue
		}
		jobs, err := w.c.Jobs(ctx, wf.ID)
		if err != nil {
			w.o.Logf("could not list the jobs of workflow %s: %v", wf.Name, err)
			continue
		}
		jobs = slices.DeleteFunc(jobs, func(j circleci.Job) bool {
			switch j.Status {
			case "failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized", "on_hold":
				return false
			}
			return true
		})
		if len(jobs) > 0 {
			if w.res.Jobs == nil {
				w.res.Jobs = map[string][]circleci.Job{}
			}
			w.res.Jobs[wf.ID] = jobs
		}
	}
}

func interruption(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrStopped) {
		return ErrStopped
	}
	return ErrInterrupted
}

// stop ends a wait early: it names what was still running, and with
// CancelOnExit cancels it first (not when stopped for another's failure).
func (w *waiter) stop(kind error) error {
	switch kind {
	case ErrTimeout:
		w.res.Status = StatusTimedOut
	case ErrInterrupted:
		w.res.Status = StatusCanceled
	case ErrStopped:
		w.res.Status = StatusRunning
	}
	if w.o.CancelOnExit && kind != ErrStopped {
		for _, wf := range w.res.Workflows {
			if classify(wf.Status, policy{onHold: HoldWait}) == running {
				w.cancel(wf)
			}
		}
	}
	return &stopError{kind: kind, pending: w.pending()}
}

// pending names what the wait is waiting for.
func (w *waiter) pending() []string {
	var out []string
	for _, wf := range w.res.Workflows {
		if classify(wf.Status, policy{onHold: HoldWait}) == running {
			out = append(out, wf.Name+"="+wf.Status)
		}
	}
	if len(out) == 0 {
		out = append(out, "pipeline "+w.res.Pipeline.State)
	}
	return out
}

// cancel cancels one workflow with a context of its own: the wait's may be
// done already (interrupted), and the cancel must still go out.
func (w *waiter) cancel(wf circleci.Workflow) {
	ctx, done := context.WithTimeout(context.Background(), 20*time.Second)
	defer done()
	if err := w.c.CancelWorkflow(ctx, wf.ID); err != nil {
		w.o.Logf("could not cancel workflow %s: %v", wf.Name, err)
		return
	}
	w.res.Canceled = append(w.res.Canceled, wf)
}
