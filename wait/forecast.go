package wait

import (
	"context"
	"math"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// forecast is when a workflow is expected to end, counted from its start:
// most runs end between lo and hi. It comes from CircleCI's insights.
type forecast struct {
	lo, hi time.Duration
}

// Quantiles of the end a forecast covers: ends before lo find the wait
// polling sparsely, ends after hi find it backing off.
const (
	zLo = -1.881 // 3%
	zHi = 1.645  // 95%
	// minRuns is the history a forecast needs.
	minRuns = 3
)

// newForecast fits a log-normal to a workflow's duration metrics: the
// median, and the spread the p95 tells (or else the standard deviation).
// Metrics are whole seconds, hence half a second of margin at the end.
func newForecast(d circleci.Durations) (forecast, bool) {
	if d.Runs < minRuns || d.Median <= 0 {
		return forecast{}, false
	}
	m := d.Median.Seconds()
	sigma := 0.0
	switch {
	case d.P95 > d.Median:
		sigma = math.Log(d.P95.Seconds()/m) / 1.645
	case d.StandardDeviation > 0:
		sigma = d.StandardDeviation.Seconds() / m
	}
	sigma = min(max(sigma, 0.01), 1)
	at := func(z float64) time.Duration { return time.Duration(m * math.Exp(z*sigma) * float64(time.Second)) }
	return forecast{lo: at(zLo), hi: at(zHi) + time.Second/2}, true
}

// next is the policy: how long to wait before the next poll when elapsed
// has passed since the workflow started. Before lo it polls every maxGap,
// so that a failure long before the end is seen within maxGap. From lo to
// hi it polls on a grid of about step that ends at hi: a forecast
// narrower than 1.5 steps gets a single poll, at hi. After hi the end is
// late: gaps grow by half the lateness, from step to maxGap.
func (f forecast) next(elapsed, step, maxGap time.Duration) time.Duration {
	n := max(1, (f.hi-f.lo+step/2)/step) // points of the grid
	gap := (f.hi - f.lo) / n
	var d time.Duration
	switch {
	case elapsed < f.hi-(n-1)*gap-gap/3:
		d = f.hi - (n-1)*gap - elapsed
	case elapsed < f.hi:
		k := (f.hi - elapsed) / gap
		d = f.hi - k*gap - elapsed
	default:
		d = max((elapsed-f.hi)/2, step)
	}
	if d < gap/3 && elapsed < f.hi { // a grid point just passed, give or take clock noise
		d += gap
	}
	return min(max(d, 100*time.Millisecond), maxGap)
}

// denseStep is the gap between polls near a workflow's predicted end.
func (o *Options) denseStep() time.Duration {
	return min(max(o.PollInterval*5/4, time.Second), o.MaxPollInterval)
}

// history reads the insights of the pipeline's project once, and keeps a
// forecast per workflow name. Insights are optional: refused (a plan or a
// CircleCI server without them) or failing, the wait backs off as without
// history.
func (w *waiter) history(ctx context.Context) {
	if w.fetched || w.h.noInsights {
		return
	}
	slug := w.o.Project
	if slug.Project == "" {
		s, err := circleci.ParseSlug(w.res.Pipeline.ProjectSlug)
		if err != nil {
			return // not known yet: read with the pipeline
		}
		slug = s
	}
	w.fetched = true
	branch := w.o.Branch
	if branch == "" {
		branch = w.res.Pipeline.Branch
	}
	ds, err := w.c.WorkflowDurations(ctx, slug, branch)
	if err != nil {
		return
	}
	for name, d := range ds {
		if f, ok := newForecast(d); ok {
			if w.forecasts == nil {
				w.forecasts = map[string]forecast{}
			}
			w.forecasts[name] = f
		}
	}
}

// predicted is the wait before the next poll that the forecasts give,
// false when they do not cover what runs: before any workflow is listed,
// every workflow insights know is assumed to run; once listed, the running
// workflow expected to end last leads, and any workflow without history,
// or failing, on hold or queued, hands over to the backoff.
func (w *waiter) predicted(now time.Time) (time.Duration, bool) {
	if len(w.forecasts) == 0 {
		return 0, false
	}
	step, gap := w.o.denseStep(), w.o.MaxPollInterval
	var lead forecast
	var start time.Time
	consider := func(f forecast, began time.Time) {
		if start.IsZero() || began.Add(f.hi).After(start.Add(lead.hi)) {
			lead, start = f, began
		}
	}
	if len(w.res.Workflows) == 0 {
		if w.polls > 0 || w.res.Pipeline.CreatedAt.IsZero() {
			return 0, false // created with no workflow yet: settle by backoff
		}
		began := w.began(now, w.res.Pipeline.ID, w.res.Pipeline.CreatedAt, w.res.Pipeline.AsOf)
		for _, f := range w.forecasts {
			consider(f, began)
		}
		return lead.next(now.Sub(start), step, gap), true
	}
	for _, wf := range w.res.Workflows {
		if wf.Final() {
			continue
		}
		f, ok := w.forecasts[wf.Name]
		if !ok || wf.Status != "running" || wf.CreatedAt.IsZero() {
			return 0, false
		}
		consider(f, w.began(now, wf.ID, wf.CreatedAt, wf.AsOf))
	}
	if start.IsZero() {
		return 0, false
	}
	return lead.next(now.Sub(start), step, gap), true
}

// began is when a pipeline or workflow was created, on the client's clock:
// its age as the answer that listed it tells (the server's Date less its
// created_at; the client's clock stands for the server's without a Date),
// converted once, when first seen, so that the jitter of the Date headers
// (whole seconds) does not move the schedule from one poll to the next.
func (w *waiter) began(now time.Time, id string, created, asOf time.Time) time.Time {
	if t, ok := w.starts[id]; ok {
		return t
	}
	if asOf.IsZero() {
		asOf = now
	}
	t := now.Add(-asOf.Sub(created))
	if w.starts == nil {
		w.starts = map[string]time.Time{}
	}
	w.starts[id] = t
	return t
}
