package wait

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// lastLook is how long the poll at the deadline may take to answer.
const lastLook = 2 * time.Second

// firstReminder is how long a quiet wait goes before its first reminder.
const firstReminder = time.Minute

// awaitFor bounds how long Options.Await holds the verdict back.
const awaitFor = time.Minute

// waiter is one wait: its state from poll to poll.
type waiter struct {
	c       *circleci.Client
	clk     circleci.Clock
	h       hooks
	o       Options
	pol     policy
	res     Result
	start   time.Time
	seen    map[string]string // workflow id -> last status
	listed  map[string]bool   // workflow ids listed so far
	unknown map[string]bool   // statuses already logged
	// setup: the pipeline went through the setup phase of dynamic config,
	// whether or not its setup workflow carries the tag that says so.
	setup bool
	// sawHistory: this wait was given the pipeline's state at its creation,
	// pending, so it had no setup phase (that starts setup-pending): setup
	// tells the truth. A pipeline first read pending may have passed its
	// setup phase already. configRead: the config was read for it.
	sawHistory, configRead bool

	deadline             time.Time
	b                    *backoff.ExponentialBackOff
	jitter               *rand.Rand
	lastChange, remindAt time.Time
	failingSince         time.Time // API errors since then; zero when it answers
	lastErr              string

	// failedAt is when each run CircleCI owes an automatic rerun failed, on
	// our clock; graceOver the runs whose rerun did not come in time.
	failedAt  map[string]time.Time
	graceOver map[string]bool

	fetched   bool                         // insights were asked for
	forecasts map[string]forecast          // by workflow name
	jobStats  map[string]map[string]spread // by workflow name, then job name; nil: asked, unknown
	byJobs    map[string]window            // by workflow id: its end as its jobs tell
	starts    map[string]time.Time         // creation of pipeline and workflows, on our clock
	polls     int
}

func (w *waiter) elapsed() time.Duration { return w.clk.Now().Sub(w.start) }

// run polls until a verdict, the deadline or the end of ctx.
func (w *waiter) run(ctx context.Context) error {
	w.start = w.clk.Now()
	w.deadline = w.start.Add(w.o.Timeout)
	w.lastChange, w.remindAt = w.start, w.start.Add(min(firstReminder, w.o.Heartbeat))
	// No request outlasts the deadline (but the last look, at the deadline,
	// gets a few seconds), nor does a rate-limit pause.
	reqs, cancel := context.WithTimeout(ctx, w.o.Timeout+lastLook)
	defer cancel()
	w.newBackoff()
	w.history(reqs)
	if err := w.sleep(ctx, reqs, w.first()); err != nil {
		return err
	}
	for {
		now, done, err := w.round(ctx, reqs)
		if done {
			return err
		}
		if !now.Before(w.deadline) {
			return w.stop(ErrTimeout)
		}
		if err := w.sleep(ctx, reqs, w.next(now)); err != nil {
			return err
		}
	}
}

// newBackoff is the schedule without history: fast for the first minute,
// then backing off. Jitter keeps many waits from polling in step; it is
// drawn from the pipeline's id, so that one pipeline's schedule is the
// same on every run (a benchmark compares schedules on the same draws).
func (w *waiter) newBackoff() {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = w.o.PollInterval
	b.MaxInterval = w.o.MaxPollInterval
	b.Multiplier = 1.5
	b.RandomizationFactor = 0
	b.MaxElapsedTime = 0
	b.Clock = w.clk
	b.Reset()
	w.b = b
	w.jitter = rand.New(rand.NewPCG(idSeed(w.res.Pipeline.ID), 0))
}

// first is how long to wait before the first poll: a pipeline just
// triggered is certainly still pending, so after the first interval (or
// when history says) rather than at once.
func (w *waiter) first() time.Duration {
	if p := w.res.Pipeline; p.State != circleci.StatePending && p.State != circleci.StateSetupPending {
		return 0
	}
	if f, ok := w.predicted(w.clk.Now()); ok {
		return f
	}
	if w.h.schedule != nil {
		return w.h.schedule(0)
	}
	return w.o.PollInterval
}

// sleep waits d, never past the deadline; an end of ctx stops the wait.
func (w *waiter) sleep(ctx, reqs context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := w.clk.Sleep(reqs, min(d, w.deadline.Sub(w.clk.Now()))); err != nil {
		return w.stop(interruption(ctx))
	}
	return nil
}

// round polls once and judges, at now. done tells that the wait is over,
// with err its outcome.
func (w *waiter) round(ctx, reqs context.Context) (now time.Time, done bool, err error) {
	changed, err := w.poll(reqs)
	w.polls++
	if err == nil {
		w.history(reqs)
		w.jobHistory(reqs)
	}
	now = w.clk.Now()
	var pause *circleci.PauseError
	switch {
	case ctx.Err() != nil:
		return now, true, w.stop(interruption(ctx))
	case errors.As(err, &pause), errors.Is(err, context.DeadlineExceeded):
		return now, true, w.stop(ErrTimeout)
	case err != nil && !circleci.Transient(err):
		return now, true, err
	case err != nil:
		done, err = w.apiError(now, err)
		return now, done, err
	}
	if !w.failingSince.IsZero() {
		w.o.Logf("the API answers again")
		w.failingSince, w.lastErr = time.Time{}, ""
	}
	if changed {
		w.lastChange, w.remindAt = now, now.Add(min(firstReminder, w.o.Heartbeat))
		w.b.Reset()
	} else if !now.Before(w.remindAt) {
		w.remindAt = now.Add(w.o.Heartbeat)
		ev := Event{Elapsed: w.elapsed(), Waiting: w.pending()}
		for _, wf := range w.res.Workflows {
			if wf.Status == "on_hold" {
				ev.Held = append(ev.Held, wf)
			}
		}
		w.o.Progress(ev)
	}
	done, err = w.judge(reqs, now)
	return now, done, err
}

// apiError notes an error the API may recover from; it ends the wait once
// errors have lasted Outage.
func (w *waiter) apiError(now time.Time, err error) (bool, error) {
	if w.failingSince.IsZero() {
		w.failingSince = now
	}
	if msg := err.Error(); msg != w.lastErr {
		w.o.Logf("%v; still waiting", err)
		w.lastErr = msg
	}
	if now.Sub(w.failingSince) >= w.o.Outage {
		return true, fmt.Errorf("%w (API errors for %s)", err, now.Sub(w.failingSince).Round(time.Second))
	}
	return false, nil
}

// judge decides, from what the last poll saw, whether the wait is over.
func (w *waiter) judge(ctx context.Context, now time.Time) (bool, error) {
	if w.awaiting(now) {
		return false, nil
	}
	see := sight{state: w.res.Pipeline.State, workflows: w.res.Workflows, reruns: w.reruns(now),
		errors: len(w.res.Pipeline.Errors) > 0, settled: now.Sub(w.lastChange) >= w.o.Settle}
	v := decide(see, w.pol)
	if !v.done {
		return false, nil
	}
	switch dynamic, err := w.mayBeSetup(ctx, v); {
	case err != nil:
		// Cannot tell yet: no verdict this round.
		w.o.Logf("could not read the pipeline's config: %v; still waiting", err)
		return false, nil
	case dynamic:
		// What looked like the end may be its setup workflow's.
		see.workflows = w.res.Workflows
		if v = decide(see, w.pol); !v.done {
			return false, nil
		}
	}
	return true, w.finish(ctx, v)
}

// owed tells that CircleCI owes wf an automatic rerun, if it ends failed:
// it is the newest run of its name, its workflow declares
// max_auto_reruns with some left, and it is no manual rerun (those get
// none): the first run of its name, or itself an automatic rerun.
func (w *waiter) owed(wf circleci.Workflow) bool { return owed(wf, w.res.Earlier[wf.Name]) }

// owed tells that CircleCI owes wf, the newest run of its name after
// earlier, an automatic rerun if it ends failed.
func owed(wf circleci.Workflow, earlier []circleci.Workflow) bool {
	return wf.MaxAutoReruns > wf.AutoRerunNumber && (wf.AutoRerunNumber > 0 || len(earlier) == 0)
}

// failedRun tells a workflow run that failed in a way a rerun may mend:
// CircleCI's automatic reruns, and retry-failed, rerun these.
func failedRun(wf circleci.Workflow) bool { return wf.Status == "failed" || wf.Status == "error" }

// rerunDue tells that some workflow of wfs failed and is owed an automatic
// rerun that has not come yet.
func rerunDue(wfs []circleci.Workflow) bool {
	newest, earlier := latest(wfs)
	return slices.ContainsFunc(newest, func(wf circleci.Workflow) bool {
		return failedRun(wf) && owed(wf, earlier[wf.Name])
	})
}

// reruns are the newest runs that CircleCI may still rerun by itself: those
// it owes a rerun, unless they failed more than AutoRerunGrace ago with
// no rerun in sight (CircleCI does not promise one). Such a run is taken
// as failed, and said so once.
func (w *waiter) reruns(now time.Time) map[string]bool {
	var out map[string]bool
	for _, wf := range w.res.Workflows {
		if !w.owed(wf) || w.graceOver[wf.ID] {
			continue
		}
		if failedRun(wf) {
			if w.failedAt == nil {
				w.failedAt, w.graceOver = map[string]time.Time{}, map[string]bool{}
			}
			if _, ok := w.failedAt[wf.ID]; !ok {
				w.failedAt[wf.ID] = ended(now, wf)
			}
			if now.Sub(w.failedAt[wf.ID]) >= w.o.AutoRerunGrace {
				w.graceOver[wf.ID] = true
				w.o.Logf("CircleCI did not rerun %s automatically within %s: taken as %s", wf.Name, w.o.AutoRerunGrace, wf.Status)
				continue
			}
		}
		if out == nil {
			out = map[string]bool{}
		}
		out[wf.ID] = true
	}
	return out
}

// ended is when wf stopped, on our clock: its stopped_at, as old as the
// answer that listed it tells; now without a Date.
func ended(now time.Time, wf circleci.Workflow) time.Time {
	if wf.AsOf.IsZero() || wf.StoppedAt.IsZero() {
		return now
	}
	return now.Add(-max(wf.AsOf.Sub(wf.StoppedAt), 0))
}

// awaiting tells that a workflow of Options.Await is not listed yet, and
// the minute it is given has not passed.
func (w *waiter) awaiting(now time.Time) bool {
	if now.Sub(w.start) >= awaitFor {
		return false
	}
	return slices.ContainsFunc(w.o.Await, func(id string) bool { return !w.listed[id] })
}

// next is how long to wait before the next poll: fast for the first
// minute, then backing off, or around the predicted ends; never before a
// rate limit's pause ends (the client holds the request until then).
func (w *waiter) next(now time.Time) time.Duration {
	if now.Sub(w.start) < w.o.Fast && w.failingSince.IsZero() {
		w.b.Reset()
	}
	d := min(time.Duration(float64(w.b.NextBackOff())*(0.8+0.4*w.jitter.Float64())), w.o.MaxPollInterval)
	if f, ok := w.predicted(now); ok && w.failingSince.IsZero() {
		return f
	}
	if w.h.schedule != nil {
		return w.h.schedule(w.polls)
	}
	return d
}

// setupState tells a pipeline in the setup phase of dynamic config.
func setupState(state string) bool {
	return state == circleci.StateSetupPending || state == "setup"
}

// poll reads the pipeline (until its state is final) and every page of its
// workflows, or the jobs of the workflow running alone while they tell its
// end, and reports whether anything changed.
func (w *waiter) poll(ctx context.Context) (bool, error) {
	changed, err := w.pollPipeline(ctx)
	if err != nil || w.res.Pipeline.State == circleci.StateErrored {
		return changed, err
	}
	if wf, ok := w.jobRead(); ok {
		// One workflow runs alone: its jobs tell more of its end than the
		// pipeline's workflows, for the same request.
		jobs, err := w.c.Jobs(ctx, wf.ID)
		if err != nil {
			return changed, err
		}
		if w.jobsTell(w.clk.Now(), wf, jobs) {
			return changed, nil
		}
	}
	more, err := w.pollWorkflows(ctx)
	return changed || more, err
}

// pollPipeline reads the pipeline until its state is final, and reports
// whether the state changed.
func (w *waiter) pollPipeline(ctx context.Context) (bool, error) {
	if w.res.Pipeline.Final() {
		return false, nil
	}
	p, err := w.c.Pipeline(ctx, w.res.Pipeline.ID)
	if err != nil {
		return false, err
	}
	changed := p.State != w.res.Pipeline.State
	if changed && w.res.Pipeline.State != "" { // a change, not the first news of it
		w.o.Progress(Event{Elapsed: w.elapsed(), State: p.State})
	}
	w.setup = w.setup || setupState(p.State)
	w.res.Pipeline = p
	return changed, nil
}

// pollWorkflows reads every page of the pipeline's workflows, tells each
// change, and reports whether there was one.
func (w *waiter) pollWorkflows(ctx context.Context) (bool, error) {
	all, err := w.list(ctx)
	if err != nil {
		return false, err
	}
	w.res.Workflows, w.res.Earlier = latest(w.markSetup(all))
	for _, wf := range all {
		w.listed[wf.ID] = true
	}
	awaiting := w.awaiting(w.clk.Now())
	changed := false
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
		// Progress is of the newest run of each workflow; a run a rerun
		// replaced, or one a rerun asked for is about to replace, is news
		// to nobody.
		newest := slices.ContainsFunc(w.res.Workflows, func(n circleci.Workflow) bool { return n.ID == wf.ID })
		if !newest || awaiting {
			continue
		}
		ev := Event{Elapsed: w.elapsed(), Workflow: wf}
		if failedRun(wf) && w.owed(wf) {
			ev.AutoRerun = wf.AutoRerunNumber + 1
		}
		w.o.Progress(ev)
	}
	return changed, nil
}

// list reads every page of the pipeline's workflows, those of Only, and
// checks that the read is whole.
func (w *waiter) list(ctx context.Context) ([]circleci.Workflow, error) {
	all, err := w.c.Workflows(ctx, w.res.Pipeline.ID)
	if err == nil {
		err = w.complete(all)
	}
	if err != nil {
		return nil, err
	}
	return only(all, w.o.Only), nil
}

// complete checks that a read of the workflows lists every workflow
// listed before: CircleCI never removes one, so a read without one is
// incomplete (a page lost or emptied on the way), and no verdict may rest
// on it. It is transient: the next read may be whole.
func (w *waiter) complete(all []circleci.Workflow) error {
	for id := range w.listed {
		if !slices.ContainsFunc(all, func(wf circleci.Workflow) bool { return wf.ID == id }) {
			return &circleci.DecodeError{Method: http.MethodGet, Path: "/pipeline/" + w.res.Pipeline.ID + "/workflow",
				Err: fmt.Errorf("workflow %s, listed before, is missing: an incomplete list", id)}
		}
	}
	return nil
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
		w.res.Workflows = w.markSetup(w.res.Workflows)
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
	if v.status != StatusErrored {
		for _, e := range w.res.Pipeline.Errors {
			w.o.Logf("pipeline #%d reports an error: %s", w.res.Pipeline.Number, e)
		}
	}
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

// jobs fetches the jobs of each failed or held workflow, and keeps those
// that failed or wait for approval. It is best effort: the verdict does
// not depend on it.
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
		if w.res.listed == nil {
			w.res.listed = map[string][]circleci.Job{}
		}
		w.res.listed[wf.ID] = jobs
		jobs = slices.DeleteFunc(slices.Clone(jobs), func(j circleci.Job) bool { return !failedJob(j.Status) && j.Status != "on_hold" })
		if len(jobs) > 0 {
			if w.res.Jobs == nil {
				w.res.Jobs = map[string][]circleci.Job{}
			}
			w.res.Jobs[wf.ID] = jobs
		}
	}
}

// failedJob tells the job statuses that count as failed.
func failedJob(status string) bool {
	switch status {
	case "failed", "infrastructure_fail", "timedout", "terminated-unknown", "unauthorized":
		return true
	}
	return false
}

// interruption is why ctx ended: another target failed fast, its deadline
// passed, or the run was interrupted.
func interruption(ctx context.Context) error {
	switch {
	case errors.Is(context.Cause(ctx), ErrStopped):
		return ErrStopped
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrTimeout
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
	pending := w.pending()
	if w.o.CancelOnExit && kind != ErrStopped {
		w.res.Canceled = Cancel(context.Background(), w.c, w.res.Pipeline, w.res.Workflows, w.o.CancelGrace, w.o.Logf)
	}
	if len(w.res.Canceled) > 0 || kind == ErrTimeout {
		// A last look, best effort and brief: what CircleCI says after the
		// cancels, and on a timeout the jobs the held or failing workflows
		// wait on (an approval, a failed job).
		look, cancel := context.WithTimeout(context.Background(), lastLook)
		defer cancel()
		if len(w.res.Canceled) > 0 {
			w.reread(look)
			w.cancelLate(look)
		}
		if kind == ErrTimeout {
			w.jobs(look)
		}
	}
	return &stopError{kind: kind, pending: pending}
}

// reread reads the workflows once more.
func (w *waiter) reread(ctx context.Context) {
	if all, err := w.list(ctx); err == nil {
		w.res.Workflows, w.res.Earlier = latest(w.markSetup(all))
	}
}

// cancelLate cancels what the last look lists running that the cancels
// missed (every read of Cancel failed while it appeared), and looks once
// more: a stop leaves nothing running that it read running.
func (w *waiter) cancelLate(ctx context.Context) {
	k := &canceler{c: w.c, logf: w.o.Logf, tried: map[string]bool{}}
	for _, wf := range w.res.Canceled {
		k.tried[wf.ID] = true
	}
	if k.cancel(ctx, toCancel(nil, w.res.Workflows)); len(k.canceled) > 0 {
		w.res.Canceled = append(w.res.Canceled, k.canceled...)
		slices.SortFunc(w.res.Canceled, byName)
		w.reread(ctx)
	}
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
