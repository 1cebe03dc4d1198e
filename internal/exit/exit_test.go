package exit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/circleci"
	"github.com/circleci-trigger/circleci-trigger/rerun"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

func TestOf(t *testing.T) {
	t.Parallel()
	status := func(code int) error {
		return fmt.Errorf("trigger: %w", &circleci.StatusError{Method: "POST", Path: "/x", Code: code})
	}
	for _, tc := range []struct {
		err  error
		want Code
	}{
		{nil, 0},
		{status(401), 3},
		{status(403), 3},
		{status(404), 5},
		{status(400), 7},
		{status(422), 7},
		{status(429), 4},
		{status(502), 4},
		{&circleci.NetError{Err: errors.New("reset")}, 4},
		{&circleci.DecodeError{Err: errors.New("bad")}, 4},
		{&circleci.RedirectError{From: "a", To: "b"}, 4},
		{&wait.DownstreamError{Status: wait.StatusFailed}, 1},
		{fmt.Errorf("x: %w", &rerun.NameError{What: "job"}), 2},
		{fmt.Errorf("gh/a/b has %w on branch x", rerun.ErrNoPipeline), 5},
		{&wait.DownstreamError{Status: wait.StatusErrored}, 1},
		{&wait.DownstreamError{Status: wait.StatusOnHold}, 1},
		{&wait.DownstreamError{Status: wait.StatusCanceled}, 6},
		{fmt.Errorf("x: %w", wait.ErrTimeout), 8},
		{fmt.Errorf("x: %w", wait.ErrInterrupted), 6},
		{fmt.Errorf("x: %w", wait.ErrStopped), 6},
		{context.Canceled, 6},
	} {
		if got := Of(tc.err); got != tc.want {
			t.Errorf("Of(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		codes []Code
		want  Code
	}{
		{nil, 0},
		{[]Code{0, 0}, 0},
		{[]Code{0, 6, 8}, 8},
		{[]Code{6, 1, 8}, 1},
		{[]Code{1, 4}, 4},
		{[]Code{4, 7, 5}, 5},
		{[]Code{5, 3}, 3},
		{[]Code{3, 2, 0}, 2},
	} {
		if got := Worst(tc.codes...); got != tc.want {
			t.Errorf("Worst(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
}

func TestHelpListsEveryCode(t *testing.T) {
	t.Parallel()
	h := Help()
	for c := OK; c <= TimedOut; c++ {
		if c.String() == "" || !strings.Contains(h, fmt.Sprintf("  %d  %s\n", c, c)) {
			t.Errorf("code %d is missing from Help():\n%s", c, h)
		}
	}
}
