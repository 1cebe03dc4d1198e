package circlecitest

import (
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// terminal reports whether a workflow status is final.
func terminal(st string) bool { return circleci.Workflow{Status: st}.Final() }

func (p *pipeline) setup() []*workflow {
	var out []*workflow
	for _, w := range p.workflows {
		if w.spec.Tag == "setup" {
			out = append(out, w)
		}
	}
	return out
}

// setupEnd is when the setup phase ends, and whether it succeeded; ok false
// while it has not ended by now.
func (s *Simulator) setupEnd(p *pipeline, now time.Time) (end time.Time, success, ok bool) {
	success = true
	for _, w := range p.setup() {
		st, stopped := s.status(w, now)
		if !terminal(st) {
			return time.Time{}, false, false
		}
		if stopped.After(end) {
			end = stopped
		}
		success = success && st == "success"
	}
	return end, success, true
}

// appearAt is when a workflow is listed, or ok false if not (yet) known.
func (s *Simulator) appearAt(w *workflow, now time.Time) (time.Time, bool) {
	base := w.p.createdAt()
	switch {
	case !w.rerunAt.IsZero():
		base = w.rerunAt
	case w.spec.Tag != "setup" && len(w.p.setup()) > 0:
		end, success, ok := s.setupEnd(w.p, now)
		if !ok || !success {
			return time.Time{}, false
		}
		base = end
	}
	at := base.Add(w.spec.Appear.D())
	return at, !now.Before(at)
}

// status of a workflow at now, and when it stopped (zero while running).
func (s *Simulator) status(w *workflow, now time.Time) (string, time.Time) {
	at, ok := s.appearAt(w, now)
	if !ok {
		return "", time.Time{}
	}
	st, since := "running", at
	steps := w.spec.Steps
	if w.steps != nil {
		steps = w.steps
	}
	for _, step := range steps {
		t := at.Add(w.at(step))
		if t.After(now) {
			break
		}
		if !w.canceledAt.IsZero() && t.After(w.canceledAt) {
			break
		}
		st, since = step.Status, t
	}
	if !terminal(st) && !w.canceledAt.IsZero() && !w.canceledAt.After(now) {
		return "canceled", w.canceledAt
	}
	if terminal(st) {
		return st, since
	}
	return st, time.Time{}
}

// createdAt is when p's setup ends and its state is created (or errored),
// and its errors show.
func (p *pipeline) createdAt() time.Time {
	return p.created.Add(p.project.Pipeline.CreatedAfter.D())
}

func (s *Simulator) state(p *pipeline, now time.Time) string {
	createdAt := p.createdAt()
	hasSetup := len(p.setup()) > 0
	if now.Before(createdAt) {
		if hasSetup {
			return "setup-pending"
		}
		return "pending"
	}
	if p.errored {
		return "errored"
	}
	if !hasSetup {
		return "created"
	}
	end, _, ok := s.setupEnd(p, now)
	switch {
	case !ok:
		return "setup"
	case now.Before(end.Add(200 * time.Millisecond)):
		return "pending"
	}
	return "created"
}

// stamp formats a time of the simulator's clock as the server shows it
// (skewed), as CircleCI does: milliseconds for pipelines, whole seconds for
// workflows and jobs, as recorded answers show.
func (s *Simulator) stamp(t time.Time, millis bool) string {
	t = t.Add(s.sc.ClockSkew.D())
	if millis {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// at is when a step of w's timeline happens in this run, from its
// appearance: scaled by the run's Spread, unless its jobs timed it.
func (w *workflow) at(st Step) time.Duration {
	if w.steps != nil || w.scale == 0 || w.scale == 1 {
		return st.At.D()
	}
	return time.Duration(float64(st.At.D()) * w.scale)
}

// Ended is when the last workflow of a pipeline ended, on the simulator's
// clock (unskewed, to the nanosecond: benchmarks measure the lag from it),
// or false while one has not.
func (s *Simulator) Ended(pipelineID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byID[pipelineID]
	if p == nil {
		return time.Time{}, false
	}
	now := s.clk.Now()
	s.autoReruns(p, now)
	var end time.Time
	for _, w := range p.workflows {
		st, stopped := s.status(w, now)
		if !terminal(st) || s.rerunDue(w, now) {
			return time.Time{}, false
		}
		if stopped.After(end) {
			end = stopped
		}
	}
	return end, !end.IsZero()
}
