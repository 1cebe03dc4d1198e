package wait

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// forecast is when a workflow is expected to end, counted from its start:
// most runs end between lo and hi. It comes from CircleCI's insights, of
// the workflow or of its jobs.
type forecast struct {
	lo, hi time.Duration
}

// Quantiles of the end a forecast covers: ends before lo find the wait
// polling sparsely, ends after hi find it backing off. Wider than the lag's
// p90 strictly needs: a history of a few dozen runs tells the quantiles
// only so closely (-1.5 and 2.0, tried, put single-job workflows past a
// p90 of 3s, and 20s ones past a median of 1.5s).
const (
	zLo = -1.881 // 3%
	zHi = 1.645  // 95%
	// minRuns is the history a forecast needs.
	minRuns = 3
	// wideWindow is, in max-poll-intervals, the window past which the jobs
	// of a workflow are worth reading: from its jobs' history and the jobs
	// already finished, the end of a workflow whose own history is wide
	// can be told more closely once its last job has started, which the
	// wait learns within a max-poll-interval. Narrower, the request for the
	// jobs' history costs more than it saves.
	wideWindow = 4
)

// spread is a log-normal fit of past durations: the median, and the spread
// the p95 tells (or else the standard deviation).
type spread struct {
	median time.Duration
	sigma  float64
}

func fit(d circleci.Durations) (spread, bool) {
	if d.Runs < minRuns || d.Median <= 0 {
		return spread{}, false
	}
	m := d.Median.Seconds()
	sigma := 0.0
	switch {
	case d.P95 > d.Median:
		sigma = math.Log(d.P95.Seconds()/m) / 1.645
	case d.StandardDeviation > 0:
		sigma = d.StandardDeviation.Seconds() / m
	}
	return spread{d.Median, min(max(sigma, 0.01), 1)}, true
}

// newForecast is the forecast of a workflow's duration metrics. Metrics
// are whole seconds, hence half a second of margin at the end.
func newForecast(d circleci.Durations) (forecast, bool) {
	s, ok := fit(d)
	if !ok {
		return forecast{}, false
	}
	at := func(z float64) time.Duration {
		return time.Duration(s.median.Seconds() * math.Exp(z*s.sigma) * float64(time.Second))
	}
	return forecast{lo: at(zLo), hi: at(zHi) + time.Second/2}, true
}

// next is the policy: how long to wait before the next poll when elapsed
// has passed since the workflow started. From lo to hi it polls on a grid
// of about step that ends at hi (a forecast narrower than 1.5 steps gets a
// single poll, at hi). Before the grid it polls as seldom as maxGap
// allows, evenly, so that the last of those polls is the grid's first (a
// failure long before the end is still seen within maxGap). After hi the
// end is late: gaps grow by half the lateness, from step to maxGap.
func (f forecast) next(elapsed, step, maxGap time.Duration) time.Duration {
	n := max(1, (f.hi-f.lo+step/2)/step) // points of the grid
	gap := (f.hi - f.lo) / n
	first := f.hi - (n-1)*gap
	var d time.Duration
	switch {
	case elapsed < first-gap/3:
		k := (first - elapsed + maxGap - 1) / maxGap // polls left until the grid
		d = (first - elapsed) / k
	case elapsed < f.hi:
		d = f.hi - (f.hi-elapsed)/gap*gap - elapsed
		if d < gap/3 { // a grid point just passed, give or take clock noise
			d += gap
		}
	default:
		d = max((elapsed-f.hi)/2, step)
	}
	return min(max(d, 100*time.Millisecond), maxGap)
}

// denseStep is the gap between polls near a workflow's predicted end.
func (o *Options) denseStep() time.Duration {
	return min(max(o.PollInterval*5/4, time.Second), o.MaxPollInterval)
}

// insightsProject is the project and branch insights are asked about;
// false while the pipeline's project is not known yet.
func (w *waiter) insightsProject() (circleci.Slug, string, bool) {
	slug := w.o.Project
	if slug.Project == "" {
		s, err := circleci.ParseSlug(w.res.Pipeline.ProjectSlug)
		if err != nil {
			return circleci.Slug{}, "", false // not known yet: read with the pipeline
		}
		slug = s
	}
	branch := w.o.Branch
	if branch == "" {
		branch = w.res.Pipeline.Branch
	}
	return slug, branch, true
}

// history reads the insights of the pipeline's project once, and keeps a
// forecast per workflow name. Insights are optional: refused (a plan or a
// CircleCI server without them) or failing, the wait backs off as without
// history.
func (w *waiter) history(ctx context.Context) {
	if w.fetched || w.h.noInsights {
		return
	}
	slug, branch, ok := w.insightsProject()
	if !ok {
		return
	}
	w.fetched = true
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
	lead, start, ok := w.lead(now)
	if !ok {
		return 0, false
	}
	step, gap := w.o.denseStep(), w.o.MaxPollInterval
	if w.h.next != nil {
		return w.h.next(lead, now.Sub(start), step, gap), true
	}
	return lead.next(now.Sub(start), step, gap), true
}

// lead is the forecast the schedule follows and when its workflow began,
// on our clock: the running workflow expected to end last, or before any
// is listed every workflow insights know. A workflow whose jobs tell its
// end more closely than its own history follows its jobs.
func (w *waiter) lead(now time.Time) (forecast, time.Time, bool) {
	if len(w.forecasts) == 0 {
		return forecast{}, time.Time{}, false
	}
	var lead forecast
	var start time.Time
	consider := func(f forecast, began time.Time) {
		if start.IsZero() || began.Add(f.hi).After(start.Add(lead.hi)) {
			lead, start = f, began
		}
	}
	if len(w.res.Workflows) == 0 {
		if w.polls > 0 || w.res.Pipeline.CreatedAt.IsZero() {
			return forecast{}, time.Time{}, false // created with no workflow yet: settle by backoff
		}
		began := w.began(now, w.res.Pipeline.ID, w.res.Pipeline.CreatedAt, w.res.Pipeline.AsOf)
		for _, f := range w.forecasts {
			consider(f, began)
		}
		return lead, start, true
	}
	for _, wf := range w.res.Workflows {
		if wf.Final() {
			continue
		}
		f, ok := w.forecasts[wf.Name]
		if !ok || wf.Status != "running" || wf.CreatedAt.IsZero() {
			return forecast{}, time.Time{}, false
		}
		began := w.began(now, wf.ID, wf.CreatedAt, wf.AsOf)
		if j, ok := w.byJobs[wf.ID]; ok && j.hi.Sub(j.lo) < f.hi-f.lo {
			f = forecast{lo: j.lo.Sub(began), hi: j.hi.Sub(began)}
		}
		consider(f, began)
	}
	return lead, start, !start.IsZero()
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

// window is when a workflow is expected to end, on our clock.
type window struct{ lo, hi time.Time }

// alone is the only workflow still running, and whether its own history
// is wide, so that its jobs are worth reading (nothing else runs that the
// pipeline's workflows would show, nor is a rerun of one due).
func (w *waiter) alone() (circleci.Workflow, bool) {
	if w.h.noJobs || w.res.Pipeline.State != circleci.StateCreated || w.awaiting(w.clk.Now()) ||
		slices.ContainsFunc(w.res.Workflows, func(wf circleci.Workflow) bool { // a rerun to come shows in the workflows
			return failedRun(wf) && w.owed(wf) && !w.graceOver[wf.ID]
		}) {
		return circleci.Workflow{}, false
	}
	var run []circleci.Workflow
	for _, wf := range w.res.Workflows {
		if !wf.Final() {
			run = append(run, wf)
		}
	}
	if len(run) != 1 || run[0].Status != "running" {
		return circleci.Workflow{}, false
	}
	f, ok := w.forecasts[run[0].Name]
	return run[0], ok && f.hi-f.lo > wideWindow*w.o.MaxPollInterval
}

// jobHistory reads, once per workflow name, the history of the jobs of
// the workflow running alone whose own history is wide.
func (w *waiter) jobHistory(ctx context.Context) {
	wf, ok := w.alone()
	if _, asked := w.jobStats[wf.Name]; !ok || asked {
		return
	}
	if w.jobStats == nil {
		w.jobStats = map[string]map[string]spread{}
	}
	w.jobStats[wf.Name] = nil // asked, whatever the answer
	slug, branch, ok := w.insightsProject()
	if !ok {
		return
	}
	ds, err := w.c.JobDurations(ctx, slug, wf.Name, branch)
	if err != nil {
		return
	}
	stats := map[string]spread{}
	for name, d := range ds {
		if s, ok := fit(d); ok {
			stats[name] = s
		}
	}
	w.jobStats[wf.Name] = stats
}

// jobRead tells whether this poll reads the jobs of the workflow running
// alone rather than the pipeline's workflows: once its jobs' history is
// known.
func (w *waiter) jobRead() (circleci.Workflow, bool) {
	wf, ok := w.alone()
	return wf, ok && len(w.jobStats[wf.Name]) > 0
}

// jobsTell reads what the jobs of wf say of its end, and reports whether
// that is all this poll needs: not when a job failed, was canceled or
// waits for approval, nor when every job has ended (the workflow's own
// status then says how it went), nor when the jobs cannot tell its end.
func (w *waiter) jobsTell(now time.Time, wf circleci.Workflow, jobs []circleci.Job) bool {
	end, ok := jobsEnd(now, jobs, w.jobStats[wf.Name])
	if !ok {
		delete(w.byJobs, wf.ID)
		return false
	}
	sd := time.Duration(end.sd * float64(time.Second))
	if w.byJobs == nil {
		w.byJobs = map[string]window{}
	}
	// Job times are whole seconds: a second of margin at the end.
	w.byJobs[wf.ID] = window{lo: end.mean.Add(time.Duration(zLo * float64(sd))), hi: end.mean.Add(time.Duration(zHi*float64(sd)) + time.Second)}
	return true
}

// estimate is a normal estimate of a moment, on our clock.
type estimate struct {
	mean time.Time
	sd   float64 // seconds
}

// jobsEnd estimates when a workflow ends from its jobs, read at now: a job
// that ended ended then; a running one ends its median after it started
// (not before now); one not started yet starts when the last of the jobs
// it depends on ends (now without any), and ends its median later. The
// workflow ends with its last job, with the spread of the chain that leads
// to it. false: the jobs cannot tell (a job without history, one that
// failed, was canceled or waits, or all ended).
func jobsEnd(now time.Time, jobs []circleci.Job, stats map[string]spread) (estimate, bool) {
	if !unfinished(jobs) {
		return estimate{}, false
	}
	ch := chain{now: now, stats: stats, byID: map[string]circleci.Job{}, ends: map[string]estimate{}}
	for _, j := range jobs {
		ch.byID[j.ID] = j
	}
	var last estimate
	for _, j := range jobs {
		e, ok := ch.finish(j.ID, 0)
		if !ok {
			return estimate{}, false
		}
		if last.mean.IsZero() || e.mean.After(last.mean) {
			last = e
		}
	}
	return last, true
}

// unfinished tells jobs that still run or wait to, none of which failed,
// was canceled or waits for approval.
func unfinished(jobs []circleci.Job) bool {
	running := false
	for _, j := range jobs {
		switch j.Status {
		case "success":
		case "running", "blocked", "queued", "not_running":
			running = true
		default:
			return false
		}
	}
	return running
}

// chain estimates when each job of a workflow ends.
type chain struct {
	now   time.Time
	stats map[string]spread
	byID  map[string]circleci.Job
	ends  map[string]estimate
}

// finish is when job id ends; depth guards against a cycle.
func (ch *chain) finish(id string, depth int) (estimate, bool) {
	if e, ok := ch.ends[id]; ok {
		return e, true
	}
	j, ok := ch.byID[id]
	if !ok || depth > len(ch.byID) {
		return estimate{}, false
	}
	if j.Status == "success" && !j.StoppedAt.IsZero() {
		e := estimate{mean: ch.onOurClock(j.StoppedAt, j)}
		ch.ends[id] = e
		return e, true
	}
	s, ok := ch.stats[j.Name]
	if !ok {
		return estimate{}, false
	}
	start := estimate{mean: ch.now}
	if !j.StartedAt.IsZero() {
		start = estimate{mean: ch.onOurClock(j.StartedAt, j)}
	}
	for _, d := range j.Dependencies {
		if !j.StartedAt.IsZero() {
			break
		}
		e, ok := ch.finish(d, depth+1)
		if !ok {
			return estimate{}, false
		}
		if e.mean.After(start.mean) {
			start = e
		}
	}
	e := estimate{mean: start.mean.Add(s.median), sd: math.Hypot(start.sd, s.sigma*s.median.Seconds())}
	if e.mean.Before(ch.now) && j.Status == "running" {
		e.mean = ch.now // late: it ends any moment
	}
	ch.ends[id] = e
	return e, true
}

// onOurClock converts a time of the server's to ours, by the age the
// answer that told it gave it.
func (ch *chain) onOurClock(t time.Time, j circleci.Job) time.Time {
	if j.AsOf.IsZero() {
		return t
	}
	return ch.now.Add(-j.AsOf.Sub(t))
}
