package runner

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/circleci-trigger/circleci-trigger/internal/circleci"
	"github.com/circleci-trigger/circleci-trigger/internal/config"
	"github.com/circleci-trigger/circleci-trigger/trigger"
	"github.com/circleci-trigger/circleci-trigger/wait"
)

func TestCode(t *testing.T) {
	t.Parallel()
	status := func(code int) error {
		return fmt.Errorf("trigger: %w", &circleci.StatusError{Method: "POST", Path: "/x", Code: code})
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&config.InputError{Errs: []error{errors.New("x")}}, 2},
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
		{&wait.DownstreamError{Status: wait.StatusErrored}, 1},
		{&wait.DownstreamError{Status: wait.StatusOnHold}, 1},
		{&wait.DownstreamError{Status: wait.StatusCanceled}, 6},
		{fmt.Errorf("x: %w", wait.ErrTimeout), 8},
		{fmt.Errorf("x: %w", wait.ErrInterrupted), 6},
		{fmt.Errorf("x: %w", wait.ErrStopped), 6},
		{context.Canceled, 6},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestWorst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		codes []int
		want  int
	}{
		{nil, 0},
		{[]int{0, 0}, 0},
		{[]int{0, 6, 8}, 8},
		{[]int{6, 1, 8}, 1},
		{[]int{1, 4}, 4},
		{[]int{4, 7, 5}, 5},
		{[]int{5, 3}, 3},
		{[]int{3, 2, 0}, 2},
	} {
		if got := Worst(tc.codes...); got != tc.want {
			t.Errorf("Worst(%v) = %d, want %d", tc.codes, got, tc.want)
		}
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	a := trigger.Slug{VCS: "gh", Org: "acme", Project: "a"}
	b := trigger.Slug{VCS: "gh", Org: "acme", Project: "b"}
	got := Labels([]trigger.Request{{Slug: a}, {Slug: b, Branch: "x"}, {Slug: b, Tag: "v1"}})
	want := []string{"gh/acme/a", "gh/acme/b (branch x)", "gh/acme/b (tag v1)"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Labels = %q, want %q", got, want)
		}
	}
}
