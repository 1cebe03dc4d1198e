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
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	// Only, when set, names the workflows that count: the others are not
	// shown, waited for nor judged (a rerun of one workflow).
	Only []string

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
	// changes status, or a pipeline state change (Workflow zero); and when
	// nothing has changed for Heartbeat, with Waiting set.
	Progress func(Event)
	// Heartbeat is how long a quiet wait goes without a progress line; 5m.
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

	// For benchmarks: no insights; a fixed schedule instead of the policy.
	noInsights bool
	schedule   func(poll int) time.Duration
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

// lastLook is how long the poll at the deadline may take to answer.
const lastLook = 2 * time.Second

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
	o.MaxPollInterval = max(o.MaxPollInterval, o.PollInterval)
	if o.Progress == nil {
		o.Progress = func(Event) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Wait polls pipeline p until its workflows are done, the timeout passes
// or ctx ends. p may hold only an ID: the pipeline is read first. It
// returns the last Result in every case, with an error when the pipeline
// did not succeed (*DownstreamError), the wait stopped (ErrTimeout,
// ErrInterrupted), or the API failed for good (Result.Status is then
// StatusUnknown).
func Wait(ctx context.Context, c *circleci.Client, p circleci.Pipeline, o Options) (Result, error) {
	o.defaults()
	if o.schedule != nil {
		o.noInsights = true
	}
	w := &waiter{c: c, o: o, pol: policy{onHold: o.OnHold, failFast: o.FailFast}, res: Result{Pipeline: p},
		seen: map[string]string{}, unknown: map[string]bool{}, setup: setupState(p.State), sawHistory: p.State != "" && !p.Final()}
	err := w.run(ctx)
	w.res.Elapsed = w.elapsed()
	if err != nil && w.res.Status == "" {
		w.res.Status = StatusUnknown
	}
	return w.res, err
}

// setupState tells a pipeline in the setup phase of dynamic config.
func setupState(state string) bool {
	return state == circleci.StateSetupPending || state == "setup"
}

type waiter struct {
	c       *circleci.Client
	o       Options
	pol     policy
	res     Result
	start   time.Time
	seen    map[string]string // workflow id -> last status
	unknown map[string]bool   // statuses already logged
	// setup: the pipeline went through the setup phase of dynamic config,
	// whether or not its setup workflow carries the tag that says so.
	setup bool
	// sawHistory: this wait saw the pipeline before its state was final, so
	// setup tells the truth; configRead: the config was read for it.
	sawHistory, configRead bool

	fetched   bool                 // insights were asked for
	forecasts map[string]forecast  // by workflow name
	starts    map[string]time.Time // creation of pipeline and workflows, on our clock
	polls     int
}

func (w *waiter) elapsed() time.Duration { return w.c.Now().Sub(w.start) }

func (w *waiter) run(ctx context.Context) error {
	w.start = w.c.Now()
	deadline := w.start.Add(w.o.Timeout)
	// No request outlasts the deadline (but the last look, at the deadline,
	// gets a few seconds), nor does a rate-limit pause.
	ctx = circleci.WithDeadline(ctx, deadline.Add(lastLook))
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = w.o.PollInterval
	b.MaxInterval = w.o.MaxPollInterval
	b.Multiplier = 1.5
	// Jitter keeps many waits from polling in step; it is drawn from the
	// pipeline's id, so that one pipeline's schedule is the same on every
	// run (a benchmark compares schedules on the same draws).
	b.RandomizationFactor = 0
	jitter := rand.New(rand.NewPCG(idSeed(w.res.Pipeline.ID), 0))
	b.MaxElapsedTime = 0
	b.Clock = w.c
	b.Reset()
	lastChange, lastLine := w.start, w.start
	var failingSince time.Time
	var lastErr string

	// A pipeline just triggered is certainly still pending: look after the
	// first interval rather than at once, or when history says.
	w.history(ctx)
	if p := w.res.Pipeline; p.State == circleci.StatePending || p.State == circleci.StateSetupPending {
		d := w.o.PollInterval
		if f, ok := w.predicted(w.c.Now()); ok {
			d = f
		} else if w.o.schedule != nil {
			d = w.o.schedule(0)
		}
		if err := w.c.Sleep(ctx, min(d, deadline.Sub(w.c.Now()))); err != nil {
			return w.stop(interruption(ctx))
		}
	}
	for {
		changed, err := w.poll(ctx)
		w.polls++
		if err == nil {
			w.history(ctx)
		}
		now := w.c.Now()
		var pause *circleci.PauseError
		switch {
		case ctx.Err() != nil:
			return w.stop(interruption(ctx))
		case errors.As(err, &pause), errors.Is(err, context.DeadlineExceeded):
			return w.stop(ErrTimeout)
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
			settled := now.Sub(lastChange) >= w.o.Settle
			v := decide(w.res.Pipeline.State, w.res.Workflows, settled, w.pol)
			if v.done {
				switch dynamic, err := w.mayBeSetup(ctx, v); {
				case err != nil:
					// Cannot tell yet: no verdict this round.
					w.o.Logf("could not read the pipeline's config: %v; still waiting", err)
					v.done = false
				case dynamic:
					// What looked like the end may be its setup workflow's.
					v = decide(w.res.Pipeline.State, w.res.Workflows, settled, w.pol)
				}
			}
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
		d := min(time.Duration(float64(b.NextBackOff())*(0.8+0.4*jitter.Float64())), w.o.MaxPollInterval)
		if f, ok := w.predicted(now); ok && failingSince.IsZero() {
			d = f
		} else if w.o.schedule != nil {
			d = w.o.schedule(w.polls)
		}
		d = min(max(d, w.c.PausedFor()), deadline.Sub(now))
		if err := w.c.Sleep(ctx, d); err != nil {
			return w.stop(interruption(ctx))
		}
	}
}

// idSeed hashes a pipeline id into a seed.
func idSeed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
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
		w.setup = w.setup || setupState(p.State)
		w.sawHistory = w.sawHistory || !p.Final()
		w.res.Pipeline = p
		if p.State == circleci.StateErrored {
			return true, nil
		}
	}
	all, err := w.c.Workflows(ctx, w.res.Pipeline.ID)
	if err != nil {
		return changed, err
	}
	all = only(all, w.o.Only)
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
	w.res.Workflows = latest(w.markSetup(all))
	return changed, nil
}

// mayBeSetup checks, once, a verdict of success for a pipeline whose
// history this wait did not see (found after a lost answer, or waited for
// by id, already past its setup phase): its config tells whether it used
// dynamic config, and the workflows are marked again if so. Until the
// config can be read, there is no verdict: a success must not rest on a
// guess.
func (w *waiter) mayBeSetup(ctx context.Context, v verdict) (bool, error) {
	if w.setup || w.sawHistory || w.configRead || (v.status != StatusSuccess && v.status != StatusNoWorkflows) ||
		slices.ContainsFunc(w.res.Workflows, func(wf circleci.Workflow) bool { return wf.Tag == "setup" }) {
		return false, nil
	}
	dynamic, err := w.c.DynamicConfig(ctx, w.res.Pipeline.ID)
	var se *circleci.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		dynamic, err = false, nil // an older CircleCI server without the endpoint
	}
	if err != nil {
		return false, err
	}
	w.configRead = true
	if dynamic {
		w.setup = true
		w.res.Workflows = latest(w.markSetup(w.res.Workflows))
	}
	return dynamic, nil
}

// markSetup tags the setup workflow of a pipeline that went through the
// setup phase, when CircleCI did not (older CircleCI server versions):
// the setup phase runs exactly one workflow, the first one.
func (w *waiter) markSetup(all []circleci.Workflow) []circleci.Workflow {
	if !w.setup || len(all) == 0 || slices.ContainsFunc(all, func(wf circleci.Workflow) bool { return wf.Tag == "setup" }) {
		return all
	}
	first := 0
	for i, wf := range all {
		if wf.CreatedAt.Before(all[first].CreatedAt) {
			first = i
		}
	}
	all = slices.Clone(all)
	all[first].Tag = "setup"
	return all
}

// finish records the verdict and fetches the jobs worth showing.
func (w *waiter) finish(ctx context.Context, v verdict) error {
	w.res.Status, w.res.Nothing = v.status, v.nothing
	w.jobs(ctx)
	switch v.status {
	case StatusSuccess, StatusNoWorkflows:
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
		w.res.Canceled = Cancel(w.c, w.res.Pipeline, w.o.CancelGrace, w.o.Logf)
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

// Cancel cancels every workflow of pipeline p that is still running, as
// the API tells it now, all at once, within grace in total: a CI runner
// gives a stopped job a few seconds. While p is still being set up (no
// workflow yet, or dynamic config's setup), it looks again until grace
// runs out, so that workflows created meanwhile are canceled too. It does
// not wait for a rate-limit pause, and it returns the workflows canceled.
// grace 0 is 5s.
// logf (nil: silent) reports what could not be canceled.
func Cancel(c *circleci.Client, p circleci.Pipeline, grace time.Duration, logf func(string, ...any)) []circleci.Workflow {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if grace <= 0 {
		grace = 5 * time.Second
	}
	// The caller's context may be done already (interrupted): the cancels
	// get one of their own.
	ctx, done := context.WithTimeout(circleci.Urgent(context.Background()), grace)
	defer done()
	var mu sync.Mutex
	var canceled []circleci.Workflow
	tried := map[string]bool{}
	for round := 0; ; round++ {
		state := p.State
		if !p.Final() {
			if q, err := c.Pipeline(ctx, p.ID); err == nil {
				state = q.State
			}
		}
		wfs, err := c.Workflows(ctx, p.ID)
		if err != nil {
			logf("could not list the workflows to cancel: %v", err)
		}
		var wg sync.WaitGroup
		for _, wf := range wfs {
			if wf.Final() || tried[wf.ID] {
				continue
			}
			tried[wf.ID] = true
			wg.Go(func() {
				if err := c.CancelWorkflow(ctx, wf.ID); err != nil {
					logf("could not cancel workflow %s: %v", wf.Name, err)
					return
				}
				mu.Lock()
				canceled = append(canceled, wf)
				mu.Unlock()
			})
		}
		wg.Wait()
		// Done once the pipeline has its workflows: created, and listing some.
		if (state == circleci.StateCreated && len(wfs) > 0) || state == circleci.StateErrored ||
			ctx.Err() != nil || time.Duration(round+1)*time.Second >= grace {
			break
		}
		if c.Sleep(ctx, time.Second) != nil {
			break
		}
	}
	slices.SortFunc(canceled, func(a, b circleci.Workflow) int { return strings.Compare(a.Name, b.Name) })
	return canceled
}
