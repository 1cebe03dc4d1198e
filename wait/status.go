package wait

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circleci"
)

// Overall statuses, the `status` output.
const (
	StatusTriggered = "triggered"
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	StatusErrored   = "errored"
	StatusCanceled  = "canceled"
	StatusTimedOut  = "timed-out"
	StatusOnHold    = "on-hold"
	// StatusNoWorkflows: the pipeline ended without running any workflow
	// (branch filters, when: conditions), which is not a success.
	StatusNoWorkflows = "no-workflows"
)

// On-hold policies.
const (
	HoldWait    = "wait"
	HoldSucceed = "succeed"
	HoldFail    = "fail"
)

// class is what one workflow status means for the wait.
type class int

const (
	running  class = iota // not finished: keep waiting
	passed                // finished without failing
	failed                // finished, failed
	canceled              // finished, canceled
	held                  // on hold, counted as finished (on-hold: succeed or fail)
)

// classify maps a workflow status to its class under the options' policies.
func classify(status string, o policy) class {
	switch status {
	case "success", "not_run":
		return passed
	case "failed", "error", "unauthorized":
		return failed
	case "canceled":
		return canceled
	case "failing":
		if o.failFast {
			return failed
		}
	case "on_hold":
		if o.onHold != HoldWait && o.onHold != "" {
			return held
		}
	}
	return running
}

type policy struct {
	onHold   string
	failFast bool
}

// sight is what one poll saw: the pipeline's state and errors, the newest
// run of each workflow, which of them CircleCI may still rerun by itself,
// and whether the workflow list has been quiet long enough to trust that
// no more workflows are coming.
type sight struct {
	state     string
	workflows []circleci.Workflow
	// reruns are the ids of runs that CircleCI may still rerun by itself:
	// a failed one is not finished, a failing one not yet a failure.
	reruns  map[string]bool
	errors  bool // the pipeline carries errors
	settled bool
}

// verdict is the pure decision of one poll.
type verdict struct {
	done    bool
	status  string
	nothing bool // done, and no workflow ever ran
}

// tally is what the workflows of a sight amount to.
type tally struct{ running, failed, canceled, held, real bool }

func (s sight) tally(o policy) tally {
	var t tally
	for _, w := range s.workflows {
		c := classify(w.Status, o)
		if s.reruns[w.ID] && (c == failed || w.Status == "failing") {
			c = running // CircleCI reruns it: not a failure yet
		}
		switch c {
		case running:
			t.running = true
		case failed:
			t.failed = true
		case canceled:
			t.canceled = true
		case held:
			t.held = true
		}
		t.real = t.real || w.Tag != "setup"
	}
	return t
}

func decide(s sight, o policy) verdict {
	if s.state == circleci.StateErrored {
		return verdict{done: true, status: StatusErrored}
	}
	t := s.tally(o)
	switch {
	case t.failed && o.failFast:
		return verdict{done: true, status: StatusFailed}
	case t.running:
		return verdict{}
	case !t.real && s.errors && s.settled:
		// Nothing ran, and the pipeline says why: whatever its state, it
		// failed (a plan out of credits leaves it created, with no workflow).
		return verdict{done: true, status: StatusErrored, nothing: true}
	case s.state != circleci.StateCreated:
		// A setup workflow that failed or was canceled means that no
		// continuation is coming, whatever the state says.
		if !s.settled || t.real || !(t.failed || t.canceled) {
			return verdict{}
		}
	case !t.real && !s.settled:
		// Only a setup workflow (dynamic config: continuation workflows may
		// still appear), or none yet: workflows are created asynchronously.
		return verdict{}
	}
	return outcome(t)
}

// outcome is the verdict of workflows that are all done.
func outcome(t tally) verdict {
	v := verdict{done: true, status: StatusSuccess, nothing: !t.real}
	switch {
	case t.failed:
		v.status = StatusFailed
	case t.canceled:
		v.status = StatusCanceled
	case t.held:
		v.status = StatusOnHold
	case v.nothing:
		v.status = StatusNoWorkflows
	}
	return v
}

// latest keeps the newest workflow of each name: a rerun is a new workflow
// with the same name, and it replaces the one it reruns. The result is
// ordered by creation, then name: the API's order is not documented.
// earlier has the runs it replaced, by name, oldest first.
func latest(wfs []circleci.Workflow) (newest []circleci.Workflow, earlier map[string][]circleci.Workflow) {
	type run struct {
		circleci.Workflow
		listed int
	}
	byName := map[string][]run{}
	var names []string
	for i, w := range wfs {
		if _, ok := byName[w.Name]; !ok {
			names = append(names, w.Name)
		}
		byName[w.Name] = append(byName[w.Name], run{w, i})
	}
	for _, name := range names {
		runs := byName[name]
		slices.SortFunc(runs, func(a, b run) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			if c := cmp.Compare(a.AutoRerunNumber, b.AutoRerunNumber); c != 0 {
				return c
			}
			// Times have whole seconds: on a tie, the one still running is
			// the rerun, or else the one listed first.
			if a, b := a.StoppedAt.IsZero(), b.StoppedAt.IsZero(); a != b {
				if a {
					return 1
				}
				return -1
			}
			return cmp.Compare(b.listed, a.listed)
		})
		newest = append(newest, runs[len(runs)-1].Workflow)
		for _, r := range runs[:len(runs)-1] {
			if earlier == nil {
				earlier = map[string][]circleci.Workflow{}
			}
			earlier[name] = append(earlier[name], r.Workflow)
		}
	}
	// Workflows created in the same second (the usual case) keep the order
	// of their names, so that a table reads the same on every run.
	slices.SortStableFunc(newest, func(a, b circleci.Workflow) int {
		if c := a.CreatedAt.Truncate(time.Second).Compare(b.CreatedAt.Truncate(time.Second)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return newest, earlier
}
