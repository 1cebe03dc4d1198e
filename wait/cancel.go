package wait

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Cancel cancels the workflows of pipeline p that still run or wait: those
// of known that are not final (what the caller last read of p), and those a
// fresh read of p's workflows lists. All cancels go out at once, within
// grace in total: a CI runner gives a stopped job a few seconds. A fresh
// read that fails (a rate-limit pause, an error, no time) drops none of
// known, and what its pages listed before it failed is canceled too; a read
// that shows a workflow final spares it. The reads get half of the time
// left, the cancels the rest. After its cancels it reads again at once
// (workflows do not all appear at once), and while p is still being set up
// (no workflow yet, or dynamic config's setup), or CircleCI owes a failed
// workflow its automatic rerun, it looks again each second until grace runs
// out, so that workflows created meanwhile are canceled too. The cancels do
// not wait for a rate-limit pause. Cancel returns the workflows it
// canceled.
//
// ctx's values are kept but not its end: the run being stopped has
// usually ended it. grace 0 is 5s; logf (nil: silent) reports what could
// not be read or canceled.
func Cancel(ctx context.Context, c *circleci.Client, p circleci.Pipeline, known []circleci.Workflow, grace time.Duration, logf func(string, ...any)) []circleci.Workflow {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if grace <= 0 {
		grace = 5 * time.Second
	}
	ctx, done := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer done()
	k := &canceler{c: c, logf: logf, tried: map[string]bool{}}
	clk := clockOf(c)
	end := clk.Now().Add(grace) // on the client's clock, which its Sleep follows
	warned := false
	for {
		// The reads get half of the time left: a rate-limit pause, or
		// retries, that would take it all leave the cancels theirs.
		deadline, _ := ctx.Deadline()
		rctx, rdone := context.WithTimeout(ctx, time.Until(deadline)/2)
		state := p.State
		if !p.Final() {
			if q, err := c.Pipeline(rctx, p.ID); err == nil {
				state = q.State
			}
		}
		// A read that fails half-way still lists the workflows of the
		// pages it got: they are canceled too.
		wfs, err := c.Workflows(rctx, p.ID)
		rdone()
		running := toCancel(known, wfs)
		if err != nil && !warned {
			logf("could not list the workflows to cancel: %v; canceling the %d it saw running", err, len(running))
			warned = true
		}
		sent := k.cancel(ctx, running)
		// Done once the pipeline has its workflows (created, and listing
		// some), none is owed an automatic rerun, and a read after the
		// cancels went out found nothing more to cancel (workflows do not
		// all appear at once).
		settled := (state == circleci.StateCreated && err == nil && len(wfs) > 0 && !rerunDue(wfs)) || state == circleci.StateErrored
		if (settled && sent == 0) || ctx.Err() != nil {
			break
		}
		if sent == 0 && (clk.Now().Add(time.Second).After(end) || clk.Sleep(ctx, time.Second) != nil) {
			break
		}
	}
	slices.SortFunc(k.canceled, byName)
	return k.canceled
}

func byName(a, b circleci.Workflow) int { return strings.Compare(a.Name, b.Name) }

// toCancel are the workflows not final in the fresh list, and those not
// final in known that the fresh list does not show final.
func toCancel(known, fresh []circleci.Workflow) []circleci.Workflow {
	var out []circleci.Workflow
	for _, w := range known {
		i := slices.IndexFunc(fresh, func(f circleci.Workflow) bool { return f.ID == w.ID })
		if !w.Final() && (i < 0 || !fresh[i].Final()) {
			out = append(out, w)
		}
	}
	for _, f := range fresh {
		if !f.Final() && !slices.ContainsFunc(out, func(w circleci.Workflow) bool { return w.ID == f.ID }) {
			out = append(out, f)
		}
	}
	return out
}

// canceler sends each workflow's cancel once, all at once.
type canceler struct {
	c        *circleci.Client
	logf     func(string, ...any)
	mu       sync.Mutex
	tried    map[string]bool
	canceled []circleci.Workflow
}

// cancel sends the cancels of wfs not tried yet, and tells how many.
func (k *canceler) cancel(ctx context.Context, wfs []circleci.Workflow) int {
	var wg sync.WaitGroup
	sent := 0
	for _, wf := range wfs {
		if k.tried[wf.ID] {
			continue
		}
		k.tried[wf.ID], sent = true, sent+1
		wg.Go(func() {
			if err := k.c.CancelWorkflow(ctx, wf.ID); err != nil {
				k.logf("could not cancel workflow %s: %v", wf.Name, err)
				return
			}
			k.mu.Lock()
			k.canceled = append(k.canceled, wf)
			k.mu.Unlock()
		})
	}
	wg.Wait()
	return sent
}
