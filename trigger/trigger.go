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
	"errors"
	"fmt"
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
	Logf         func(format string, args ...any) // nil: silent
}

// matchSkew is how far apart the runner's and CircleCI's clocks may be when
// a lost pipeline is looked for by its creation time.
const matchSkew = 30 * time.Second

// Trigger creates the pipeline r describes, exactly once. Time is the
// client's clock.
func Trigger(ctx context.Context, c *circleci.Client, r Request, o Options) (Result, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.MaxInterval = 15 * time.Second
	b.MaxElapsedTime = o.MaxRetryTime
	if b.MaxElapsedTime == 0 {
		b.MaxElapsedTime = 2 * time.Minute
	}
	b.Clock = c
	b.Reset()
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	path, body := r.post()
	firstSent := c.Now()
	for {
		code, data, err := c.Do(ctx, http.MethodPost, path, nil, body)
		var ambiguous error
		switch {
		case err == nil:
			if code == http.StatusOK && r.DefinitionID != "" {
				msg := circleci.ParseMessage(data)
				if msg == "" {
					msg = "CircleCI answered 200 without creating a pipeline"
				}
				return Result{NotCreated: msg}, nil
			}
			p, perr := circleci.ParsePipeline(data)
			if perr == nil {
				return Result{Pipeline: p}, nil
			}
			// A 2xx means it was accepted: never send it again blindly.
			ambiguous = &circleci.DecodeError{Method: http.MethodPost, Path: path, Err: perr}
		case ctx.Err() != nil:
			return Result{}, ctx.Err()
		case certainlyNotCreated(err):
			// send again below
		case circleci.Transient(err):
			ambiguous = err
		default:
			return Result{}, err
		}

		d := b.NextBackOff()
		if d == backoff.Stop {
			if ambiguous != nil {
				err = ambiguous
			}
			return Result{}, fmt.Errorf("%w (gave up after %s)", err, b.GetElapsedTime().Round(time.Second))
		}
		d = max(d, c.PausedFor())
		if ambiguous == nil {
			logf("%s: %v; trying again in %s", r.Slug, err, d.Round(100*time.Millisecond))
			if err := c.Sleep(ctx, d); err != nil {
				return Result{}, err
			}
			continue
		}
		logf("%s: %v; looking for a pipeline it may have created", r.Slug, ambiguous)
		if err := c.Sleep(ctx, d); err != nil {
			return Result{}, err
		}
		p, found, lerr := find(ctx, c, r, firstSent)
		if lerr != nil {
			return Result{}, fmt.Errorf("%w; then could not check whether a pipeline was created (%v), so it was not sent again: look at the project's pipelines before retrying", ambiguous, lerr)
		}
		if found {
			logf("%s: the lost request created pipeline #%d; using it", r.Slug, p.Number)
			return Result{Pipeline: p, Adopted: true}, nil
		}
		logf("%s: no pipeline was created; sending again", r.Slug)
	}
}

// certainlyNotCreated: CircleCI refused the request before acting on it
// (429), or it never left this machine.
func certainlyNotCreated(err error) bool {
	var se *circleci.StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests
	}
	var ne *circleci.NetError
	return errors.As(err, &ne) && !ne.Sent
}

// find looks among the user's newest pipelines in the project for one that
// matches r and was created after the first attempt was sent. A lookup that
// fails transiently is tried a few times: its answer decides between
// adopting and sending again, so a guess is not good enough.
func find(ctx context.Context, c *circleci.Client, r Request, since time.Time) (circleci.Pipeline, bool, error) {
	var list []circleci.Pipeline
	var err error
	for attempt := range 4 {
		if attempt > 0 {
			if err := c.Sleep(ctx, max(2*time.Second, c.PausedFor())); err != nil {
				return circleci.Pipeline{}, false, err
			}
		}
		list, err = c.MyPipelines(ctx, r.Slug, 2)
		if err == nil || !circleci.Transient(err) {
			break
		}
	}
	if err != nil {
		return circleci.Pipeline{}, false, err
	}
	for _, p := range list { // newest first
		if matches(p, r, since) {
			return p, true, nil
		}
	}
	return circleci.Pipeline{}, false, nil
}

// matches tells whether p could be the pipeline r created after since.
func matches(p circleci.Pipeline, r Request, since time.Time) bool {
	if p.CreatedAt.IsZero() || p.CreatedAt.Before(since.Add(-matchSkew)) {
		return false
	}
	if p.TriggerType != "" && p.TriggerType != "api" && p.TriggerType != "explicit" {
		return false
	}
	switch {
	case r.Tag != "" && p.Tag != r.Tag:
		return false
	case r.Branch != "" && p.Branch != r.Branch:
		return false
	case r.Tag == "" && p.Tag != "":
		return false
	}
	// trigger_parameters, where CircleCI shows the parameters, must agree.
	if tp := p.TriggerParameters; tp != nil {
		for k, v := range r.Parameters {
			if got, ok := tp[k]; ok && got != v {
				return false
			}
		}
	}
	return true
}
