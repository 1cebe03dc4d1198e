package wait

import (
	"slices"
	"strings"

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

// verdict is the pure decision of one poll: given the pipeline's state, the
// newest workflow of each name, and whether the workflow list has been quiet
// long enough to trust that no more workflows are coming.
type verdict struct {
	done    bool
	status  string
	nothing bool // done, and no workflow ever ran
}

func decide(state string, wfs []circleci.Workflow, settled bool, o policy) verdict {
	if state == circleci.StateErrored {
		return verdict{done: true, status: StatusErrored}
	}
	var anyRunning, anyFailed, anyCanceled, anyHeld, anyReal bool
	for _, w := range wfs {
		switch classify(w.Status, o) {
		case running:
			anyRunning = true
		case failed:
			anyFailed = true
		case canceled:
			anyCanceled = true
		case held:
			anyHeld = true
		}
		if w.Tag != "setup" {
			anyReal = true
		}
	}
	switch {
	case anyFailed && o.failFast:
		return verdict{done: true, status: StatusFailed}
	case anyRunning:
		return verdict{}
	case state != circleci.StateCreated:
		// A setup workflow that failed or was canceled means that no
		// continuation is coming, whatever the state says.
		if !settled || anyReal || !(anyFailed || anyCanceled) {
			return verdict{}
		}
	case !anyReal && !settled:
		// Only a setup workflow (dynamic config: continuation workflows may
		// still appear), or none yet: workflows are created asynchronously.
		return verdict{}
	}
	v := verdict{done: true, status: StatusSuccess, nothing: len(wfs) == 0}
	switch {
	case anyFailed:
		v.status = StatusFailed
	case anyCanceled:
		v.status = StatusCanceled
	case anyHeld:
		v.status = StatusOnHold
	}
	return v
}

// latest keeps the newest workflow of each name: a rerun is a new workflow
// with the same name, and it replaces the one it reruns. The result is
// ordered by creation, then name: the API's order is not documented.
func latest(wfs []circleci.Workflow) []circleci.Workflow {
	idx := map[string]int{}
	var out []circleci.Workflow
	for _, w := range wfs {
		i, ok := idx[w.Name]
		switch {
		case !ok:
			idx[w.Name] = len(out)
			out = append(out, w)
		case w.CreatedAt.After(out[i].CreatedAt),
			// Times have whole seconds: on a tie, the one still running is the rerun.
			w.CreatedAt.Equal(out[i].CreatedAt) && w.StoppedAt.IsZero() && !out[i].StoppedAt.IsZero():
			out[i] = w
		}
	}
	slices.SortStableFunc(out, func(a, b circleci.Workflow) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
