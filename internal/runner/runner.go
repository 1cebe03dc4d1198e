// Package runner triggers one or many pipelines and waits for them: the
// fan-out of targets, concurrency, fail-fast across targets, and the exit
// code each outcome means (SPEC §4).
package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/circleci-trigger/circleci-trigger/internal/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
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
	Err      error
}

// Code is the outcome's exit code (SPEC §4).
func (o Outcome) Code() int { return Code(o.Err) }

// Status is the outcome's `status`.
func (o Outcome) Status() string {
	switch {
	case o.Wait != nil:
		return o.Wait.Status
	case o.Err != nil:
		return "not-triggered"
	case o.Trigger.NotCreated != "":
		return "not-created"
	}
	return wait.StatusTriggered
}

// Options tune a run.
type Options struct {
	Wait        bool
	WaitOpts    wait.Options // Progress and Logf are set per target
	Concurrency int          // 0: DefaultConcurrency
	// Triggered is called as soon as a target's pipeline exists.
	Triggered func(Outcome)
	Progress  func(label string, ev wait.Event)
	Logf      func(label, format string, args ...any)
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
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
}

// Run triggers every request concurrently and, with Wait, waits for all of
// them. Outcomes are in the order of reqs. A trigger in flight is never
// abandoned because another target failed: only waits are cut short.
func Run(ctx context.Context, c *circleci.Client, reqs []trigger.Request, o Options) []Outcome {
	o.defaults()
	labels := Labels(reqs)
	out := make([]Outcome, len(reqs))
	waitCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			oc := Outcome{Label: labels[i], Request: r}
			sem <- struct{}{}
			oc.Trigger, oc.Err = trigger.Trigger(ctx, c, r, trigger.Options{
				MaxRetryTime: min(2*time.Minute, o.WaitOpts.Timeout),
				Logf:         func(f string, a ...any) { o.Logf(oc.Label, f, a...) },
			})
			<-sem
			if oc.Err != nil {
				oc.Err = fmt.Errorf("trigger %s on %s: %w", r.Slug, r.Ref(), oc.Err)
			} else {
				oc.Pipeline = oc.Trigger.Pipeline
				o.Triggered(oc)
				if o.Wait && oc.Trigger.NotCreated == "" {
					oc.waitFor(waitCtx, c, o)
				}
			}
			if oc.Err != nil && o.WaitOpts.FailFast && !errors.Is(oc.Err, wait.ErrStopped) && !errors.Is(oc.Err, wait.ErrInterrupted) {
				stop(wait.ErrStopped)
			}
			out[i] = oc
		}()
	}
	wg.Wait()
	return out
}

// Existing waits for a pipeline that was triggered elsewhere.
func Existing(ctx context.Context, c *circleci.Client, id string, o Options) Outcome {
	o.defaults()
	oc := Outcome{Label: id}
	p, err := c.Pipeline(ctx, id)
	if err != nil {
		oc.Err = fmt.Errorf("read pipeline %s: %w", id, err)
		return oc
	}
	oc.Label, oc.Pipeline = p.ProjectSlug, p
	oc.waitFor(ctx, c, o)
	return oc
}

func (oc *Outcome) waitFor(ctx context.Context, c *circleci.Client, o Options) {
	wo := o.WaitOpts
	label := oc.Label
	wo.Progress = func(ev wait.Event) { o.Progress(label, ev) }
	wo.Logf = func(f string, a ...any) { o.Logf(label, f, a...) }
	res, err := wait.Wait(ctx, c, oc.Pipeline, wo)
	oc.Wait, oc.Pipeline = &res, res.Pipeline
	if err != nil {
		oc.Err = fmt.Errorf("pipeline #%d of %s: %w", oc.Pipeline.Number, oc.Label, err)
	}
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

// Code maps an error to its exit code (SPEC §4).
func Code(err error) int {
	var ie *config.InputError
	var de *wait.DownstreamError
	var se *circleci.StatusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ie):
		return 2
	case errors.As(err, &de):
		if de.Status == wait.StatusCanceled {
			return 6
		}
		return 1
	case errors.Is(err, wait.ErrTimeout):
		return 8
	case errors.Is(err, wait.ErrInterrupted), errors.Is(err, wait.ErrStopped), errors.Is(err, context.Canceled):
		return 6
	case errors.As(err, &se):
		switch {
		case se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden:
			return 3
		case se.Code == http.StatusNotFound:
			return 5
		case se.Code == http.StatusTooManyRequests || se.Code >= 500:
			return 4
		}
		return 7
	}
	return 4
}

// severity orders exit codes for a fan-out: the process exits with the
// most severe of its targets' codes (SPEC §4).
var severity = []int{2, 3, 5, 7, 4, 1, 8, 6, 0}

// ExitCode is the process's exit code for a run's outcomes.
func ExitCode(outs []Outcome) int {
	codes := make([]int, len(outs))
	for i, o := range outs {
		codes[i] = o.Code()
	}
	return Worst(codes...)
}

// Worst returns the most severe code.
func Worst(codes ...int) int {
	best := len(severity)
	for _, c := range codes {
		for i, s := range severity {
			if s == c && i < best {
				best = i
			}
		}
	}
	if best == len(severity) {
		return 0
	}
	return severity[best]
}

// Hint says what to check for an API error about request r, or "".
func Hint(err error, r trigger.Request) string {
	var se *circleci.StatusError
	if !errors.As(err, &se) {
		return ""
	}
	what := "the project slug"
	if r.Slug.VCS != "" {
		what += " " + r.Slug.String()
	}
	if r.DefinitionID != "" {
		what += " and the definition id"
	}
	switch se.Code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "check that the token is a valid personal API token with access to the project"
	case http.StatusNotFound:
		return fmt.Sprintf("check %s; a project API token also gets 404, since API v2 takes only personal tokens", what)
	case http.StatusTooManyRequests:
		return "CircleCI is rate limiting this token; try again later or poll less often"
	}
	return ""
}
