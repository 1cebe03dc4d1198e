package main

// The command as a process: what needs the built binary (a signal's way to
// the command, the version a build shows, a real network error). The
// command's other tests run it in-process, in internal/cli; the library's,
// the orb's and the Action's are in their own packages.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-trigger/circleci-trigger/circlecitest"
	"github.com/circleci-trigger/circleci-trigger/internal/clitest"
	"github.com/circleci-trigger/circleci-trigger/internal/simtest"
)

func TestMain(m *testing.M) { simtest.MainWithBinary(m, ".", &clitest.Binary) }

// go build in a checkout records the revision; releases set the version.
func TestVersionOfABuild(t *testing.T) {
	t.Parallel()
	r := clitest.Cmdline(t, "--version").Real().Run()
	if r.Code != 0 || !regexp.MustCompile(`^circleci-trigger dev(-[0-9a-f]{12}(-dirty)?)?\n$`).MatchString(r.Stdout) {
		t.Errorf("--version: %d %q", r.Code, r.Stdout)
	}
}

// A wrong address, over a real network, is told within seconds, naming
// the address and the likely fix: a port nothing listens on, and a plain
// HTTP server asked for HTTPS (a bare host name means https).
func TestWrongAddress(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	addr := strings.TrimPrefix(plain.URL, "http://")
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"http://127.0.0.1:1", []string{"cannot connect to 127.0.0.1:1 for 5s", "check the host"}},
		{addr, []string{addr + " answers plain HTTP, not HTTPS: use http://" + addr}},
	} {
		start := time.Now()
		r := clitest.Cmdline(t, "--project-slug", "gh/acme/api", "--wait").With("CIRCLE_HOST", tc.host).Real().Run()
		r.Expect(t, 4, tc.want...)
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("%s: told after %s", tc.host, took)
		}
	}
}

func TestSignalWhileTheTriggerIsInFlight(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "POST", Path: "/project/*", Delay: circlecitest.Duration(1500 * time.Millisecond)})
	p.Signal = signalWhen(t, arrived("POST", "/project/*", 1), 0)
	r := p.Run()
	clitest.CanceledAll(t, r, 3)
	if n := r.Sim.PipelineCount("gh/acme/long"); n != 1 {
		t.Errorf("%d pipelines", n)
	}
}

// A second signal ends the process at once, even while cancels hang.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, "--project-slug", "gh/acme/long", "--wait", "--cancel-on-exit")
	p.Scenario = clitest.SlowWorld(circlecitest.Fault{Method: "POST", Path: "/workflow/*/cancel", Hang: circlecitest.Duration(time.Minute)})
	p.Signal = signalWhen(t, func(s *circlecitest.Simulator) bool { return s.Count("GET", "/pipeline/*/workflow") >= 1 }, 500*time.Millisecond)
	start := time.Now()
	r := p.Run()
	if r.Code != -1 || time.Since(start) > 20*time.Second {
		t.Errorf("exit %d after %s, want killed by the second signal\n%s", r.Code, time.Since(start), r.Stderr)
	}
}

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

func TestSIGTERMMidWaitCancelsDownstream(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, append([]string{"--project-slug", "gh/acme/slow"}, append(clitest.Fast, "--cancel-on-exit")...)...)
	p.Signal = sigterm(t, 1)
	r := p.Run()
	r.Expect(t, 6, "interrupted while waiting for build=running", "canceled workflow build")
	if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 1 {
		t.Errorf("%d cancel requests, want 1", n)
	}
}

func TestFanoutSIGTERMCancelsEveryTarget(t *testing.T) {
	t.Parallel()
	p := clitest.Cmdline(t, append([]string{"--targets", `[{"project-slug":"gh/acme/slow"},{"project-slug":"gh/acme/slow","branch":"main"},{"project-slug":"gh/acme/held"}]`}, append(clitest.Fast, "--cancel-on-exit")...)...)
	p.Signal = sigterm(t, 3)
	r := p.Run()
	r.Expect(t, 6)
	if n := len(r.Requests("POST", "/workflow/*/cancel")); n != 3 {
		t.Errorf("%d cancel requests, want 3 (build of each slow pipeline and the held deploy)", n)
	}
}

// sigterm sends SIGTERM once the simulator has listed running workflows
// to the process want times.
func sigterm(t *testing.T, want int) func(*exec.Cmd, *circlecitest.Simulator) {
	return func(cmd *exec.Cmd, s *circlecitest.Simulator) {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			n := 0
			for _, q := range s.Requests() {
				if strings.HasSuffix(q.Path, "/workflow") && q.At > time.Second {
					n++
				}
			}
			if n >= want {
				cmd.Process.Signal(syscall.SIGTERM)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Error("the process never polled")
	}
}

func TestWaitForAnExistingPipeline(t *testing.T) {
	t.Parallel()
	s, host := simtest.Start(t, clitest.World(), nil)
	// Trigger without waiting, then wait by id.
	cmd := exec.Command(clitest.Binary, "--project-slug", "gh/acme/web", "--json")
	cmd.Env = []string{"CIRCLE_HOST=" + host, "CIRCLE_TOKEN=" + clitest.Token}
	b, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var trig struct{ ID string }
	json.Unmarshal(b, &trig)
	cmd = exec.Command(clitest.Binary, append([]string{"--pipeline-id", trig.ID}, clitest.Fast[1:]...)...)
	cmd.Env = []string{"CIRCLE_HOST=" + host, "CIRCLE_TOKEN=" + clitest.Token}
	b, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "build") || !strings.Contains(string(b), "success") {
		t.Fatalf("%v\n%s", err, b)
	}
	if n := s.PipelineCount("gh/acme/web"); n != 1 {
		t.Errorf("%d pipelines: waiting by id must not trigger", n)
	}
}
