// Package fanout runs the command's targets: it triggers one or many
// pipelines concurrently (or reruns a workflow, or takes an existing
// pipeline), waits for them, reads why they failed, and gives each target
// its outcome and exit code. It uses the public library (trigger, wait,
// rerun) and nothing else of the API.
package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/exit"
	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// DefaultConcurrency bounds the triggers sent at once. It is as large as a
// typical fan-out so that triggering 50 projects takes one round trip.
const DefaultConcurrency = 50

// Outcome is what happened to one target.
type Outcome struct {
	Label    string // the target's name in progress lines and tables
	Request  trigger.Request
	Trigger  trigger.Result // zero if the trigger failed, or for pipeline-id
	Pipeline circleci.Pipeline
	Wait     *wait.Result // nil when not waiting
	Details  wait.Details // read after the wait: failed tests, jobs, artifacts
	Rerun    *Rerun       // set when the run reran a workflow instead of triggering
	Err      error
	Code     exit.Code // exit.Of(Err)
}

// Rerun is a rerun of a workflow: what was asked, and what it did.
type Rerun struct {
	Jobs   []string // the job names rerun; nil: the whole workflow or, with Failed, the failed ones
	Failed bool
	rerun.Result
}

// Status is the outcome's `status`.
func (oc Outcome) Status() string {
	switch {
	case oc.Wait != nil:
		return oc.Wait.Status
	case oc.Err != nil:
		return "not-triggered"
	case oc.Trigger.NotCreated != "":
		return "not-created"
	}
	return wait.StatusTriggered
}

// Options tune a run.
type Options struct {
	Wait        bool
	WaitOpts    wait.Options // Progress, Logf and Retrying are set per target
	Details     wait.DetailOptions
	Concurrency int // 0: DefaultConcurrency
	// Triggered is called as soon as a target's pipeline exists.
	Triggered func(Outcome)
	Progress  func(label string, ev wait.Event)
	Logf      func(label, format string, args ...any)
	// Retrying is called before each retry of a target with the attempt it
	// starts and the workflows it reruns.
	Retrying func(oc Outcome, attempt int, workflows []string)
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.WaitOpts.Timeout <= 0 {
		o.WaitOpts.Timeout = 30 * time.Minute
	}
	if o.Triggered == nil {
		o.Triggered = func(Outcome) {}
	}
	if o.Progress == nil {
		o.Progress = func(string, wait.Event) {}
	}
	if o.Logf == nil {
		o.Logf = func(string, string, ...any) {}
	}
	if o.Retrying == nil {
		o.Retrying = func(Outcome, int, []string) {}
	}
}

// Run triggers every request concurrently and, with Wait, waits for all of
// them. Outcomes are in the order of reqs. A trigger in flight is never
// abandoned because another target failed: only waits are cut short. The
// wait's timeout bounds each target's whole run, its trigger's retries
// included.
func Run(ctx context.Context, c *circleci.Client, reqs []trigger.Request, o Options) []Outcome {
	o.defaults()
	labels := Labels(reqs)
	out := make([]Outcome, len(reqs))
	waitCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	sem := make(chan struct{}, o.Concurrency)
	claims := &trigger.Claims{}
	clk := clockOf(c)
	deadline := clk.Now().Add(o.WaitOpts.Timeout)
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			oc := Outcome{Label: labels[i], Request: r}
			sem <- struct{}{}
			tctx, cancel := context.WithTimeout(ctx, o.WaitOpts.Timeout)
			oc.Trigger, oc.Err = trigger.Trigger(tctx, c, r, trigger.Options{
				MaxRetryTime: 2 * time.Minute, Claims: claims,
				Logf: func(f string, a ...any) { o.Logf(oc.Label, f, a...) },
			})
			cancel()
			<-sem
			oc.Pipeline = oc.Trigger.Pipeline
			switch {
			case oc.Err != nil && oc.Pipeline.ID != "":
				// Interrupted while the trigger was in flight, which created
				// a pipeline all the same.
				o.Triggered(oc)
				oc.interrupted(ctx, c, o)
			case oc.Err != nil:
				oc.Err = fmt.Errorf("trigger %s on %s: %w", r.Slug, r.Ref(), oc.Err)
			default:
				o.Triggered(oc)
				if o.Wait && oc.Trigger.NotCreated == "" {
					wo := o.WaitOpts
					wo.Project, wo.Branch = r.Slug, r.Branch
					wo.Timeout = max(deadline.Sub(clk.Now()), time.Nanosecond)
					oc.follow(waitCtx, c, wo, o)
				}
			}
			if oc.Err != nil && o.WaitOpts.FailFast && !errors.Is(oc.Err, wait.ErrStopped) && !errors.Is(oc.Err, wait.ErrInterrupted) {
				stop(wait.ErrStopped)
			}
			oc.Code = exit.Of(oc.Err)
			out[i] = oc
		})
	}
	wg.Wait()
	return out
}

// interrupted ends an outcome whose pipeline was created as the run was
// interrupted: with cancel-on-exit, its workflows are canceled too.
func (oc *Outcome) interrupted(ctx context.Context, c *circleci.Client, o Options) {
	res := &wait.Result{Status: wait.StatusCanceled, Pipeline: oc.Pipeline}
	if o.WaitOpts.CancelOnExit {
		res.Canceled = wait.Cancel(ctx, c, oc.Pipeline, nil, o.WaitOpts.CancelGrace, func(f string, a ...any) { o.Logf(oc.Label, f, a...) })
	}
	oc.Wait = res
	oc.Err = fmt.Errorf("pipeline #%d of %s: %w", oc.Pipeline.Number, oc.Label, wait.ErrInterrupted)
}

// Existing waits for a pipeline that was triggered elsewhere. The wait
// reads it first, riding out errors the API recovers from.
func Existing(ctx context.Context, c *circleci.Client, id string, o Options) Outcome {
	o.defaults()
	oc := Outcome{Label: id, Pipeline: circleci.Pipeline{ID: id}}
	oc.follow(ctx, c, o.WaitOpts, o)
	if oc.Pipeline.ProjectSlug != "" {
		oc.Label = oc.Pipeline.ProjectSlug
	}
	oc.Code = exit.Of(oc.Err)
	return oc
}

// RerunWorkflow reruns a workflow and, with Wait, waits for the new one
// (and retries it as asked).
func RerunWorkflow(ctx context.Context, c *circleci.Client, r rerun.Request, o Options) Outcome {
	o.defaults()
	oc := Outcome{Label: r.Slug.String(), Request: trigger.Request{Slug: r.Slug, Branch: r.Branch}}
	clk := clockOf(c)
	deadline := clk.Now().Add(o.WaitOpts.Timeout)
	rctx, cancel := context.WithTimeout(ctx, o.WaitOpts.Timeout)
	defer cancel()
	res, err := rerun.Rerun(rctx, c, r)
	oc.Pipeline = res.Pipeline
	switch {
	case err != nil:
		oc.Err = err
	default:
		oc.Rerun = &Rerun{Jobs: r.Jobs, Failed: r.Failed, Result: res}
		o.Triggered(oc)
		if o.Wait {
			wo := o.WaitOpts
			wo.Only, wo.Await = []string{res.Workflow.Name}, []string{res.NewID}
			wo.Timeout = max(deadline.Sub(clk.Now()), time.Nanosecond)
			oc.follow(ctx, c, wo, o)
		}
	}
	if oc.Pipeline.ProjectSlug != "" {
		oc.Label = oc.Pipeline.ProjectSlug
	}
	oc.Code = exit.Of(oc.Err)
	return oc
}

// follow waits (with the retries asked for), then reads the details.
func (oc *Outcome) follow(ctx context.Context, c *circleci.Client, wo wait.Options, o Options) {
	label := oc.Label
	wo.Progress = func(ev wait.Event) { o.Progress(label, ev) }
	wo.Logf = func(f string, a ...any) { o.Logf(label, f, a...) }
	wo.Retrying = func(attempt int, names []string) { o.Retrying(*oc, attempt, names) }
	p := oc.Pipeline
	if oc.Trigger.Adopted || oc.Rerun != nil {
		// Its state is not the one it was created in: the wait reads it.
		p = circleci.Pipeline{ID: p.ID, Number: p.Number, ProjectSlug: p.ProjectSlug}
	}
	res, err := wait.Wait(ctx, c, p, wo)
	oc.Wait, oc.Pipeline = &res, res.Pipeline
	switch {
	case err != nil && oc.Pipeline.Number == 0:
		oc.Err = fmt.Errorf("pipeline %s: %w", oc.Pipeline.ID, err)
	case err != nil:
		oc.Err = fmt.Errorf("pipeline #%d of %s: %w", oc.Pipeline.Number, oc.Label, err)
	}
	d := o.Details
	d.Logf = wo.Logf
	oc.Details = wait.ReadDetails(ctx, c, res, d)
}

// clockOf is the clock of c's pauses, which deadlines are counted on.
func clockOf(c *circleci.Client) circleci.Clock {
	if c.Clock == nil {
		return circleci.SystemClock
	}
	return c.Clock
}

// Labels names targets by their slug, with the ref or position added where
// slugs repeat.
func Labels(reqs []trigger.Request) []string {
	count := map[string]int{}
	for _, r := range reqs {
		count[r.Slug.String()]++
	}
	out := make([]string, len(reqs))
	seen := map[string]bool{}
	for i, r := range reqs {
		l := r.Slug.String()
		if count[l] > 1 {
			l = fmt.Sprintf("%s (%s)", l, r.Ref())
			if seen[l] {
				l = fmt.Sprintf("%s #%d", l, i+1)
			}
		}
		seen[l] = true
		out[i] = l
	}
	return out
}
