// Package exit holds the process's exit codes, the same on every surface:
// their meanings, the one mapping from errors, and the severity order that
// picks a fan-out's code.
package exit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

// Code is an exit code.
type Code int

// The exit codes.
const (
	OK           Code = 0 // triggered (not waiting), or every workflow succeeded
	Failed       Code = 1 // the downstream failed
	BadInput     Code = 2 // bad input: nothing was sent
	Unauthorized Code = 3 // CircleCI refused the token
	APIError     Code = 4 // API or network error after retries, or an unreadable answer
	NotFound     Code = 5 // project or pipeline not found
	Canceled     Code = 6 // the downstream was canceled, or the wait was interrupted
	Rejected     Code = 7 // CircleCI rejected the request (400, 422)
	TimedOut     Code = 8 // timed out while waiting
)

var meaning = map[Code]string{
	OK: "triggered, or every workflow succeeded", Failed: "the downstream failed",
	BadInput: "bad input (nothing was sent)", Unauthorized: "CircleCI refused the token",
	APIError: "API or network error", NotFound: "project or pipeline not found",
	Canceled: "canceled or interrupted", Rejected: "CircleCI rejected the request",
	TimedOut: "timed out while waiting",
}

// String is the code's meaning.
func (c Code) String() string { return meaning[c] }

// Help is the table of codes for --help.
func Help() string {
	var b strings.Builder
	for c := OK; c <= TimedOut; c++ {
		fmt.Fprintf(&b, "  %d  %s\n", c, c)
	}
	return b.String()
}

// Of maps an error of a run to its code.
func Of(err error) Code {
	var de *wait.DownstreamError
	var se *circleci.StatusError
	var ne *rerun.NameError
	switch {
	case err == nil:
		return OK
	case errors.As(err, &ne):
		return BadInput // nothing was sent
	case errors.Is(err, rerun.ErrNoPipeline):
		return NotFound
	case errors.As(err, &de):
		if de.Status == wait.StatusCanceled {
			return Canceled
		}
		return Failed
	case errors.Is(err, wait.ErrTimeout):
		return TimedOut
	case errors.Is(err, wait.ErrInterrupted), errors.Is(err, wait.ErrStopped), errors.Is(err, context.Canceled):
		return Canceled
	case errors.As(err, &se):
		switch {
		case se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden:
			return Unauthorized
		case se.Code == http.StatusNotFound:
			return NotFound
		case se.Code == http.StatusTooManyRequests || se.Code >= 500:
			return APIError
		}
		return Rejected
	}
	return APIError
}

// severity orders codes, most severe first: a fan-out exits with the most
// severe code of its targets.
var severity = []Code{BadInput, Unauthorized, NotFound, Rejected, APIError, Failed, TimedOut, Canceled, OK}

// Worst returns the most severe of codes; OK for none.
func Worst(codes ...Code) Code {
	rank := func(c Code) int {
		for i, s := range severity {
			if s == c {
				return i
			}
		}
		return len(severity)
	}
	worst := OK
	for _, c := range codes {
		if rank(c) < rank(worst) {
			worst = c
		}
	}
	return worst
}
