// Interruptions, as SIGTERM brings them: these tests interrupt the command
// in-process; the signal's way to it is tested with the binary, in the
// module root's tests.
package cli_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
)

func TestSignalBeforeTheFirstPoll(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit", "--poll-interval", "10s", "--max-poll-interval", "10s")
	p.Scenario = clitest.SlowWorld()
	p.Interrupt = 2 // the first request after the trigger
	clitest.CanceledAll(t, p.Run(), 3)
}

func TestSignalDuringARateLimitPause(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 429, RetryAfter: "120", Skip: 1, Count: 1})
	var reads atomic.Int32
	p.InterruptOn = func(q circlecitest.Request) bool { // the read answered with the 429
		return q.Method == "GET" && strings.HasSuffix(q.Path, "/workflow") && reads.Add(1) == 2
	}
	r := p.Run()
	clitest.CanceledAll(t, r, 3)
	if r.Elapsed >= 2*time.Minute {
		t.Errorf("the cancels waited out the 120s pause: %s", r.Elapsed)
	}
}

// The cancels go out together: each takes two seconds to answer, and they
// all arrive before the first answer.
func TestCancelsAreSentTogether(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "POST", Path: "/workflow/*/cancel", Delay: circlecitest.Duration(2 * time.Second)})
	p.InterruptOn = func(q circlecitest.Request) bool { return q.Method == "GET" && strings.HasSuffix(q.Path, "/workflow") }
	r := p.Run()
	clitest.CanceledAll(t, r, 3)
	var at []time.Duration
	for _, q := range r.Requests("POST", "/workflow/*/cancel") {
		at = append(at, q.At)
	}
	if len(at) == 3 && slices.Max(at)-slices.Min(at) >= 2*time.Second {
		t.Errorf("cancels arrived at %v: one after another", at)
	}
}

// A request that hangs does not hold the run past its timeout by more than
// the last look's few seconds.
func TestHangingRequestEndsAtTheTimeout(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--timeout", "3s")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Hang: circlecitest.Duration(time.Minute)})
	r := p.Run()
	r.Expect(t, 8, "timed out")
	// The poll at the deadline gets two seconds to answer.
	if r.Elapsed > 3*time.Second+2*time.Second {
		t.Errorf("a 3s timeout ended after %s", r.Elapsed)
	}
}
