// Package trigger turns a request into exactly one CircleCI pipeline.
//
// It validates everything that can be checked before a request is sent,
// chooses the endpoint (pipeline, or pipeline/run with a definition id), and
// never creates two pipelines for one request: a request that certainly had
// no effect (429, a connection that failed before the request was written)
// is sent again, while after an ambiguous failure (5xx, a connection lost
// after sending, an unreadable 2xx) the pipelines the token's user triggered
// are searched for the one the request may have created, which is adopted.
package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Request is what to trigger.
type Request struct {
	Slug         circleci.Slug
	Branch, Tag  string // at most one
	Parameters   Parameters
	DefinitionID string // set: POST …/pipeline/run
}

// Validate reports every problem with r, joined.
func (r Request) Validate() error {
	var errs []error
	if r.Branch != "" && r.Tag != "" {
		errs = append(errs, errors.New("branch and tag are exclusive: give one of them"))
	}
	if r.Branch != "" {
		errs = append(errs, CheckRef("branch", r.Branch))
	}
	if r.Tag != "" {
		errs = append(errs, CheckRef("tag", r.Tag))
	}
	if r.Slug.IsCircleCI() && r.DefinitionID == "" {
		errs = append(errs, fmt.Errorf("project %s is a circleci/ slug: set definition-id (Project Settings > Pipelines)", r.Slug))
	}
	if r.DefinitionID != "" && !IsUUID(r.DefinitionID) {
		errs = append(errs, fmt.Errorf("definition-id %q is not a UUID like 2338d0ae-5541-4bbf-88a2-55e9f7281f80", r.DefinitionID))
	}
	errs = append(errs, r.Parameters.Check())
	return errors.Join(errs...)
}

// Ref names the branch or tag for messages.
func (r Request) Ref() string {
	switch {
	case r.Tag != "":
		return "tag " + r.Tag
	case r.Branch != "":
		return "branch " + r.Branch
	}
	return "the default branch"
}

// path and body of the POST.
func (r Request) post() (string, any) {
	if r.DefinitionID == "" {
		body := map[string]any{}
		if r.Branch != "" {
			body["branch"] = r.Branch
		}
		if r.Tag != "" {
			body["tag"] = r.Tag
		}
		if len(r.Parameters) > 0 {
			body["parameters"] = r.Parameters
		}
		return r.Slug.Path() + "/pipeline", body
	}
	body := map[string]any{"definition_id": r.DefinitionID}
	if ref := r.ref(); ref != nil {
		body["config"] = ref
		body["checkout"] = ref
	}
	if len(r.Parameters) > 0 {
		body["parameters"] = r.Parameters
	}
	// pipeline/run is known to accept the short provider names (gh, bb).
	return r.Slug.Short().Path() + "/pipeline/run", body
}

func (r Request) ref() map[string]string {
	switch {
	case r.Tag != "":
		return map[string]string{"tag": r.Tag}
	case r.Branch != "":
		return map[string]string{"branch": r.Branch}
	}
	return nil
}

// Result is the outcome of a trigger.
type Result struct {
	Pipeline circleci.Pipeline // zero when NotCreated is set
	// NotCreated is CircleCI's message when pipeline/run answered 200: no
	// pipeline was created (for example a [ci skip] commit).
	NotCreated string
	// Adopted tells that the request's answer was lost and the pipeline was
	// found among the user's pipelines instead.
	Adopted bool
}

// Options tune retries. Zero values take the defaults.
type Options struct {
	// MaxRetryTime bounds the time spent sending again; 0: 2 minutes.
	MaxRetryTime time.Duration
	// ListLag is how long a lost request's pipeline is looked for before
	// the request is sent again: how late CircleCI may list a new pipeline
	// among the user's; 0: 15s.
	ListLag time.Duration
	// Claims, shared by the triggers of one run, keeps one pipeline from
	// being adopted by two requests; nil: this trigger's own.
	Claims *Claims
	// Grace is how long a request in flight when ctx ends may still take
	// to answer, so that a pipeline it creates is known (and can be
	// canceled) rather than left behind; 0: 3s.
	Grace time.Duration
	Logf  func(format string, args ...any) // nil: silent
}

func (o *Options) defaults() {
	if o.MaxRetryTime <= 0 {
		o.MaxRetryTime = 2 * time.Minute
	}
	if o.ListLag <= 0 {
		o.ListLag = 15 * time.Second
	}
	if o.Grace <= 0 {
		o.Grace = 3 * time.Second
	}
	if o.Claims == nil {
		o.Claims = &Claims{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Trigger creates the pipeline r describes, exactly once. It waits on the
// client's clock; a deadline of ctx bounds everything: no request, retry
// or rate-limit pause goes past it.
//
// When ctx ends while the request is in flight, the request is given
// o.Grace to answer: if it created a pipeline, Trigger returns it along
// with ctx's error, so that the caller can cancel what it started.
func Trigger(ctx context.Context, c *circleci.Client, r Request, o Options) (Result, error) {
	o.defaults()
	clk := clockOf(c)
	path, body := r.post()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.MaxInterval = 15 * time.Second
	b.MaxElapsedTime = o.MaxRetryTime
	b.RandomizationFactor = 0 // jitter below, drawn from the request
	b.Clock = clk
	b.Reset()
	jitter := jitterOf(path, body)
	var look *lookup // set by the first failure that may have created a pipeline
	for {
		sent := clk.Now()
		p, err := post(ctx, c, path, body, o.Grace)
		var ambiguous error
		var nc *circleci.NotCreatedError
		var de *circleci.DecodeError
		switch {
		case err == nil:
			o.Claims.claim(p.ID)
			return Result{Pipeline: p}, ctx.Err()
		case errors.As(err, &nc) && r.DefinitionID != "":
			return Result{NotCreated: nc.Message}, ctx.Err()
		case errors.As(err, &nc), errors.As(err, &de):
			// A 2xx means it was accepted: never send it again blindly.
			ambiguous = err
		case errors.Is(ctx.Err(), context.Canceled):
			return Result{}, ctx.Err()
		case certainlyNotCreated(err):
			// send again below
		case circleci.Transient(err):
			ambiguous = err
		default:
			return Result{}, err
		}

		if ambiguous != nil {
			if look == nil {
				look = &lookup{c: c, clk: clk, r: r, o: o, firstSent: sent}
			}
			o.Logf("%s: %v; looking for a pipeline it may have created", r.Slug, ambiguous)
			p, found, lerr := look.find(ctx)
			switch {
			case lerr != nil:
				return Result{}, fmt.Errorf("%w; then %w, so it was not sent again: look at the project's pipelines before retrying", ambiguous, lerr)
			case found:
				o.Logf("%s: the lost request created pipeline #%d; using it", r.Slug, p.Number)
				return Result{Pipeline: p, Adopted: true}, nil
			}
			o.Logf("%s: no pipeline was created; sending again", r.Slug)
			err = ambiguous
		}
		d := b.NextBackOff()
		if d == backoff.Stop {
			return Result{}, fmt.Errorf("%w (gave up after %s)", err, b.GetElapsedTime().Round(time.Second))
		}
		d = time.Duration(float64(d) * (0.5 + jitter.Float64()))
		var se *circleci.StatusError
		if errors.As(err, &se) && se.Code == http.StatusTooManyRequests {
			d = max(d, se.RetryAfter) // the client holds every request that long
		}
		if dl, ok := ctx.Deadline(); ok && d > time.Until(dl) {
			return Result{}, fmt.Errorf("%w (gave up after %s: the next try would be in %s, after the timeout, %s from now)",
				err, b.GetElapsedTime().Round(time.Second), d.Round(time.Second), max(time.Until(dl), 0).Round(time.Second))
		}
		if ambiguous == nil {
			o.Logf("%s: %v; trying again in %s", r.Slug, err, d.Round(100*time.Millisecond))
		}
		if err := clk.Sleep(ctx, d); err != nil {
			return Result{}, err
		}
	}
}

// jitterOf draws the jitter of a request's retries, which keeps the
// targets of a fan-out from retrying in step, from the request itself: the
// same request retries on the same schedule on every run.
func jitterOf(path string, body any) *rand.Rand {
	h := fnv.New64a()
	b, _ := json.Marshal(body) // map keys sorted
	h.Write([]byte(path))
	h.Write(b)
	return rand.New(rand.NewPCG(h.Sum64(), 0))
}

// clockOf is the clock of c's pauses, which a trigger keeps time on too.
func clockOf(c *circleci.Client) circleci.Clock {
	if c.Clock == nil {
		return circleci.SystemClock
	}
	return c.Clock
}

// post sends the trigger. If ctx ends while it is in flight, the request
// goes on for grace, so that its answer (a pipeline to cancel) is not lost.
func post(ctx context.Context, c *circleci.Client, path string, body any, grace time.Duration) (circleci.Pipeline, error) {
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if dl, ok := ctx.Deadline(); ok {
		pctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(pctx, func() { t.Stop() })
	})
	defer stop()
	p, err := c.CreatePipeline(pctx, path, body)
	if err != nil && errors.Is(ctx.Err(), context.Canceled) {
		return circleci.Pipeline{}, ctx.Err()
	}
	return p, err
}

// certainlyNotCreated: CircleCI refused the request before acting on it
// (429), or it never left this machine.
func certainlyNotCreated(err error) bool {
	var se *circleci.StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests
	}
	var ne *circleci.NetError
	return errors.As(err, &ne) && !ne.Sent && !ne.Permanent
}
