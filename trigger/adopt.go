package trigger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Claims are the pipelines the triggers of one run created or adopted: one
// pipeline is never adopted by two requests. The zero value is ready.
type Claims struct {
	mu  sync.Mutex
	ids map[string]bool
}

// claim records id and reports whether it was free.
func (c *Claims) claim(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids[id] {
		return false
	}
	if c.ids == nil {
		c.ids = map[string]bool{}
	}
	c.ids[id] = true
	return true
}

func (c *Claims) taken(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ids[id]
}

const (
	// fenceMargin is how much earlier than the first request that may have
	// created it a pipeline may say it was created: Date headers have whole
	// seconds, and the request took time to arrive.
	fenceMargin = 2 * time.Second
	// unknownSkew stands for the server's clock when no answer had a Date
	// header: a wide fence, with the other rules left to decide.
	unknownSkew = 5 * time.Minute
	// lookPages bounds how far back the user's pipelines are read.
	lookPages = 25
	// lookEvery is the pause between two looks at the user's pipelines.
	lookEvery = 3 * time.Second
)

// lookup looks for the pipeline a request may have created, after a
// failure that left it unknown (a 5xx, a connection lost after sending, an
// unreadable answer).
//
// The rule: a candidate is a pipeline of the token's user, in the request's
// project, on its branch or tag, triggered through the API, created no
// earlier than the first request that may have created it (by the
// server's clock, read from its Date headers), and not claimed by another
// request of this run. Its parameters decide: every requested parameter
// shown and equal adopts it; any shown and different, or some shown and
// some missing, rules it out; none shown at all leaves it uncertain. The
// user's pipelines are read back page after page to the first one older
// than the fence, and again for ListLag, since CircleCI may list a new
// pipeline late. The oldest matching candidate is adopted. With none, the
// request is sent again; with only uncertain ones, nothing is adopted or
// sent, and the caller is told so: never a false success, never a second
// pipeline.
type lookup struct {
	c         *circleci.Client
	clk       circleci.Clock
	r         Request
	o         Options
	firstSent time.Time // on the client's clock
	me        string
}

type verdict int

const (
	other     verdict = iota // not this request's
	uncertain                // could be: CircleCI does not show its parameters
	match                    // this request's
)

// find returns the pipeline the request created, if it finds it; an error
// when it cannot tell.
func (l *lookup) find(ctx context.Context) (circleci.Pipeline, bool, error) {
	until := l.clk.Now().Add(l.o.ListLag)
	cut := false // the deadline comes before CircleCI must list the pipeline
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < l.o.ListLag {
		until, cut = l.clk.Now().Add(time.Until(dl)), true
	}
	var lastErr error
	var doubt *circleci.Pipeline
	for {
		p, v, err := l.look(ctx)
		switch {
		case v == match:
			if l.o.Claims.claim(p.ID) {
				return p, true, nil
			}
			continue // another request of this run took it meanwhile
		case err == nil:
			lastErr, doubt = nil, nil
			if v == uncertain {
				doubt = &p
			}
		case errors.Is(ctx.Err(), context.Canceled):
			return circleci.Pipeline{}, false, ctx.Err()
		case !circleci.Transient(err):
			return circleci.Pipeline{}, false, fmt.Errorf("could not check whether a pipeline was created (%w)", err)
		default:
			lastErr = err
		}
		if !l.clk.Now().Add(lookEvery).Before(until) {
			break
		}
		if err := l.clk.Sleep(ctx, lookEvery); err != nil {
			return circleci.Pipeline{}, false, err
		}
	}
	switch {
	case lastErr != nil:
		return circleci.Pipeline{}, false, fmt.Errorf("could not check whether a pipeline was created (%w)", lastErr)
	case doubt != nil:
		return circleci.Pipeline{}, false, fmt.Errorf("could not tell whether pipeline #%d is the one it created: CircleCI does not show its parameters", doubt.Number)
	case cut:
		// CircleCI may list a new pipeline late: not seeing it yet does not
		// tell that there is none.
		return circleci.Pipeline{}, false, fmt.Errorf("the timeout left less than the %s CircleCI may take to list a new pipeline, too little to be sure none was created", l.o.ListLag)
	}
	return circleci.Pipeline{}, false, nil
}

// look reads the user's pipelines once. It returns the matching one, else
// an uncertain one, else other.
func (l *lookup) look(ctx context.Context) (circleci.Pipeline, verdict, error) {
	if l.me == "" {
		me, err := l.c.Me(ctx)
		if err != nil {
			return circleci.Pipeline{}, other, err
		}
		l.me = me
	}
	older := func(p circleci.Pipeline) bool { return !p.CreatedAt.IsZero() && p.CreatedAt.Before(l.fence(p)) }
	list, complete, err := l.c.MyPipelines(ctx, l.r.Slug, older, lookPages)
	if err != nil {
		return circleci.Pipeline{}, other, err
	}
	if !complete {
		return circleci.Pipeline{}, other, errors.New("more pipelines since the request than can be read back")
	}
	var best, doubt *circleci.Pipeline
	for i := len(list) - 1; i >= 0; i-- { // oldest first
		p := &list[i]
		switch l.judge(*p) {
		case match:
			if best == nil {
				best = p
			}
		case uncertain:
			doubt = p
		}
	}
	switch {
	case best != nil:
		return *best, match, nil
	case doubt != nil:
		return *doubt, uncertain, nil
	}
	return circleci.Pipeline{}, other, nil
}

// fence is the first request's time on the server's clock, as the Date of
// p's answer tells it, less a margin: a pipeline the request created was
// created after it. Without a Date, the client's clock stands for the
// server's, with a wide margin.
func (l *lookup) fence(p circleci.Pipeline) time.Time {
	if p.AsOf.IsZero() {
		return l.firstSent.Add(-fenceMargin - unknownSkew)
	}
	return p.AsOf.Add(-l.clk.Now().Sub(l.firstSent) - fenceMargin)
}

// judge applies the rule to one pipeline.
func (l *lookup) judge(p circleci.Pipeline) verdict {
	fence := l.fence(p)
	r := l.r
	slug, err := circleci.ParseSlug(p.ProjectSlug)
	switch {
	case err != nil || !slug.SameProject(r.Slug):
		return other
	case p.CreatedAt.IsZero() || p.CreatedAt.Before(fence):
		return other
	case p.Actor != "" && p.Actor != l.me:
		return other
	case p.TriggerType != "" && p.TriggerType != "api" && p.TriggerType != "explicit":
		return other
	case p.Tag != r.Tag, r.Branch != "" && p.Branch != r.Branch, r.Branch == "" && r.Tag == "" && p.Tag != "":
		return other
	case l.o.Claims.taken(p.ID):
		return other
	}
	shown := 0
	for k, v := range r.Parameters {
		got, ok := p.TriggerParameters[k]
		if !ok {
			continue
		}
		if got != v {
			return other
		}
		shown++
	}
	switch shown {
	case len(r.Parameters):
		return match
	case 0:
		return uncertain
	}
	return other // some shown, some missing: other parameters
}
