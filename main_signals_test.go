package main

// How CI runners stop a job: SIGTERM, and if that is not enough, another
// signal. These run the built binary as a real process.

import (
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
)

// signalWhen sends SIGTERM once ready says so (checked every 20ms), and
// again after again if again is not zero.
func signalWhen(t *testing.T, ready func(*circlecitest.Simulator) bool, again time.Duration) func(*exec.Cmd, *circlecitest.Simulator) {
	return func(cmd *exec.Cmd, s *circlecitest.Simulator) {
		deadline := time.Now().Add(20 * time.Second)
		for !ready(s) {
			if time.Now().After(deadline) {
				t.Error("never ready to signal")
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if again > 0 {
			time.Sleep(again)
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// arrived reports requests that reached the simulator (their answer may
// still be on its way).
func arrived(method, path string, n int) func(*circlecitest.Simulator) bool {
	return func(s *circlecitest.Simulator) bool { return s.Arrived(method, path) >= n }
}

// slowWorld has a project whose three workflows run for an hour.
func slowWorld(faults ...circlecitest.Fault) *circlecitest.Scenario {
	sc := withFaults(faults...)
	sc.Projects = append(sc.Projects, circlecitest.Project{Slug: "gh/acme/long", Pipeline: circlecitest.Timeline{Workflows: []circlecitest.WorkflowSpec{
		{Name: "a", Duration: circlecitest.Duration(time.Hour)}, {Name: "b", Duration: circlecitest.Duration(time.Hour)}, {Name: "c", Duration: circlecitest.Duration(time.Hour)}}}})
	return sc
}

func canceledAll(t *testing.T, r result, n int) {
	t.Helper()
	r.expect(t, 6, "interrupted", "canceled workflow a", "canceled workflow b", "canceled workflow c")
	ok := 0
	for _, q := range r.requests("POST", "/workflow/*/cancel") {
		if q.Status == 202 {
			ok++
		}
	}
	if ok != n {
		t.Errorf("%d cancels accepted, want %d:\n%s", ok, n, r.stderr)
	}
}

func TestSignalWhileTheTriggerIsInFlight(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.scenario = slowWorld(circlecitest.Fault{Method: "POST", Path: "/project/*", Delay: circlecitest.Duration(1500 * time.Millisecond)})
	p.signal = signalWhen(t, arrived("POST", "/project/*", 1), 0)
	r := p.run()
	canceledAll(t, r, 3)
	if n := r.sim.PipelineCount("gh/acme/long"); n != 1 {
		t.Errorf("%d pipelines", n)
	}
}

// The tests below interrupt the command in-process, as SIGTERM does (the
// signal's way to the command is tested above and below with the binary).

func TestSignalBeforeTheFirstPoll(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit", "--poll-interval", "10s", "--max-poll-interval", "10s")
	p.scenario = slowWorld()
	p.interrupt = 2 // the first request after the trigger
	canceledAll(t, p.run(), 3)
}

func TestSignalDuringARateLimitPause(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.scenario = slowWorld(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Status: 429, RetryAfter: "120", Skip: 1, Count: 1})
	var reads atomic.Int32
	p.interruptOn = func(q circlecitest.Request) bool { // the read answered with the 429
		return q.Method == "GET" && strings.HasSuffix(q.Path, "/workflow") && reads.Add(1) == 2
	}
	r := p.run()
	canceledAll(t, r, 3)
	if r.elapsed >= 2*time.Minute {
		t.Errorf("the cancels waited out the 120s pause: %s", r.elapsed)
	}
}

// The cancels go out together: each takes two seconds to answer, and they
// all arrive before the first answer.
func TestCancelsAreSentTogether(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.scenario = slowWorld(circlecitest.Fault{Method: "POST", Path: "/workflow/*/cancel", Delay: circlecitest.Duration(2 * time.Second)})
	p.interruptOn = func(q circlecitest.Request) bool { return q.Method == "GET" && strings.HasSuffix(q.Path, "/workflow") }
	r := p.run()
	canceledAll(t, r, 3)
	var at []time.Duration
	for _, q := range r.requests("POST", "/workflow/*/cancel") {
		at = append(at, q.At)
	}
	if len(at) == 3 && slices.Max(at)-slices.Min(at) >= 2*time.Second {
		t.Errorf("cancels arrived at %v: one after another", at)
	}
}

// A second signal ends the process at once, even while cancels hang.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.scenario = slowWorld(circlecitest.Fault{Method: "POST", Path: "/workflow/*/cancel", Hang: circlecitest.Duration(time.Minute)})
	p.signal = signalWhen(t, func(s *circlecitest.Simulator) bool { return s.Count("GET", "/pipeline/*/workflow") >= 1 }, 500*time.Millisecond)
	start := time.Now()
	r := p.run()
	if r.code != -1 || time.Since(start) > 20*time.Second {
		t.Errorf("exit %d after %s, want killed by the second signal\n%s", r.code, time.Since(start), r.stderr)
	}
}

// A request that hangs does not hold the run past its timeout by more than
// the last look's few seconds.
func TestHangingRequestEndsAtTheTimeout(t *testing.T) {
	t.Parallel()
	p := cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--timeout", "3s")
	p.scenario = slowWorld(circlecitest.Fault{Method: "GET", Path: "/pipeline/*/workflow", Hang: circlecitest.Duration(time.Minute)})
	r := p.run()
	r.expect(t, 8, "timed out")
	// The poll at the deadline gets two seconds to answer.
	if r.elapsed > 3*time.Second+2*time.Second {
		t.Errorf("a 3s timeout ended after %s", r.elapsed)
	}
}
